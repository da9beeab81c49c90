"""Errors of the EPCIS binding as RFC 7807 `application/problem+json`, typed with its `epcisException:*` names.

A client of an EPCIS repository dispatches on `type` (the exception names of EPCIS 2.0 §8.2.7 and the
binding), not on our wording; `detail` is for the person reading it and names the record and the field.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from oretrail.api.auth import Problem
from oretrail.api.auth import problem_response as platform_problem

PROBLEM = "application/problem+json"

VALIDATION = "epcisException:ValidationException"
QUERY_PARAMETER = "epcisException:QueryParameterException"
QUERY_TOO_LARGE = "epcisException:QueryTooLargeException"
NO_SUCH_NAME = "epcisException:NoSuchNameException"
NO_SUCH_SUBSCRIPTION = "epcisException:NoSuchSubscriptionException"
ALREADY_EXISTS = "epcisException:ResourceAlreadyExistsException"
CAPTURE_LIMIT = "epcisException:CaptureLimitExceededException"
UNSUPPORTED_MEDIA = "epcisException:UnsupportedMediaTypeException"
NOT_ACCEPTABLE = "epcisException:NotAcceptableException"
SUBSCRIPTION_CONTROLS = "epcisException:SubscriptionControlsException"
IMPLEMENTATION = "epcisException:ImplementationException"
URI_TOO_LONG = "epcisException:URITooLongException"
SECURITY = "epcisException:SecurityException"

_TYPE_OF_STATUS = {
    400: VALIDATION,
    401: SECURITY,
    403: SECURITY,
    404: NO_SUCH_NAME,
    405: IMPLEMENTATION,
    406: NOT_ACCEPTABLE,
    409: ALREADY_EXISTS,
    413: CAPTURE_LIMIT,
    414: URI_TOO_LONG,
    415: UNSUPPORTED_MEDIA,
    501: IMPLEMENTATION,
}


class EPCISProblem(Exception):
    """Raised anywhere under a binding route; answered as one problem document."""

    def __init__(
        self,
        status: int,
        type_: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return problem(self.status, self.type, self.title, self.detail, **self.extra)


def problem(status: int, type_: str, title: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EPCISProblem)
    return problem_response(exc.status, exc.body(), exc.headers)


# The binding's top-level resources; our own routes under them (POST /capture/{feed}) keep their answers.
BINDING_ROOTS = frozenset(
    {"", "capture", "events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions",
     "queries", "nextPageToken"}
)  # fmt: skip


def is_binding_path(path: str, feeds: frozenset[str] = frozenset()) -> bool:
    parts = path.strip("/").split("/")
    if parts[0] not in BINDING_ROOTS:
        return False
    return not (parts[0] == "capture" and len(parts) > 1 and parts[1] in feeds)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """Every HTTP error as a problem (RFC 9457): on the binding's paths typed as the binding says, elsewhere as
    the platform's own (`https://oretrail.org/problems/http-<status>`), the detail kept."""
    assert isinstance(exc, StarletteHTTPException)
    if not is_binding_path(request.url.path, request.app.state.feed_names):
        # A structured refusal ({"document", "index", "field", "reason", ...}) keeps its members beside the
        # problem's own, and its words as the detail.
        members = dict(exc.detail) if isinstance(exc.detail, dict) else {}
        detail = (
            exc.detail
            if isinstance(exc.detail, str)
            else str(members.get("message") or members.get("reason") or HTTPStatus(exc.status_code).phrase)
        )
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        members = {k: v for k, v in members.items() if k not in ("type", "title", "status", "detail", "instance")}
        return platform_problem(request, Problem(exc.status_code, f"http-{exc.status_code}",
                                                 HTTPStatus(exc.status_code).phrase, detail,
                                                 dict(getattr(exc, "headers", None) or {}), **members))  # fmt: skip
    status = exc.status_code
    type_ = _TYPE_OF_STATUS.get(status, IMPLEMENTATION if status >= 500 else VALIDATION)
    title = {404: "Resource not found", 405: "Method not allowed"}.get(status, "Request refused")
    extra: dict[str, Any] = {}
    detail = exc.detail if isinstance(exc.detail, str) else None
    if status == 404 and detail == "Not Found":
        detail = f"no resource at {request.url.path}"
    return problem_response(status, problem(status, type_, title, detail, **extra), getattr(exc, "headers", None))


async def on_auth_problem(request: Request, exc: Exception) -> Response:
    """A refused identity (401) or permission (403) on the binding's paths as the binding's
    `epcisException:SecurityException`, keeping the detail that says why and the `WWW-Authenticate`
    challenge; elsewhere (and for other statuses, such as 429 for throttled sign-ins) the platform's own
    problem."""
    assert isinstance(exc, Problem)
    if exc.status_code not in (401, 403) or not is_binding_path(request.url.path, request.app.state.feed_names):
        return platform_problem(request, exc)
    title = "Unauthorised request" if exc.status_code == 401 else "Access to resource forbidden"
    body = problem(exc.status_code, SECURITY, title, str(exc.detail), **exc.extra)
    return problem_response(exc.status_code, body, dict(exc.headers or {}))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's request validation (a path, query, header or body value of the wrong shape) on the binding's
    paths as a 400 problem that names each parameter at fault (the binding has no 422)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "reason": str(e.get("msg", ""))} for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or "request not valid"
    if not is_binding_path(request.url.path, request.app.state.feed_names):
        # Our own routes: 422 as FastAPI documents them in the OpenAPI, as a problem naming each field.
        return platform_problem(request, Problem(422, "validation", "Request not valid", detail, errors=errors))
    body = problem(400, VALIDATION, "Request not valid", detail, errors=errors)
    return problem_response(400, body)
