"""Errors of the EPCIS binding as RFC 7807 `application/problem+json`, typed with its `epcisException:*` names.

A client of an EPCIS repository dispatches on `type` (the exception names of EPCIS 2.0 §8.2.7 and the
binding), not on our wording; `detail` is for the person reading it and names the record and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from oretrail.api.auth import Problem, Words
from oretrail.api.auth import problem_response as platform_problem
from oretrail.api.deps import lang
from oretrail.i18n.message import Message, Said, text

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


# The titles of the binding's problems and of every HTTP status answered as one, in both languages.
STATUS_TITLES = {
    400: Message("http.400", "Bad Request"),
    401: Message("http.401", "Unauthorized"),
    403: Message("http.403", "Forbidden"),
    404: Message("http.404", "Not Found"),
    405: Message("http.405", "Method Not Allowed"),
    406: Message("http.406", "Not Acceptable"),
    409: Message("http.409", "Conflict"),
    413: Message("http.413", "Content Too Large"),
    414: Message("http.414", "URI Too Long"),
    415: Message("http.415", "Unsupported Media Type"),
    422: Message("http.422", "Unprocessable Content"),
    429: Message("http.429", "Too Many Requests"),
    500: Message("http.500", "Internal Server Error"),
    501: Message("http.501", "Not Implemented"),
    503: Message("http.503", "Service Unavailable"),
}
NO_RESOURCE = Message("problem.no_resource", "no resource at {path}")
RESOURCE_NOT_FOUND = Message("epcis.title.not_found", "Resource not found")
METHOD_NOT_ALLOWED = Message("epcis.title.method", "Method not allowed")
REQUEST_REFUSED = Message("epcis.title.refused", "Request refused")
UNAUTHORISED = Message("epcis.title.unauthorised", "Unauthorised request")
FORBIDDEN = Message("epcis.title.forbidden", "Access to resource forbidden")
NOT_VALID = Message("problem.title.validation", "Request not valid")


class EPCISProblem(Exception):
    """Raised anywhere under a binding route; answered as one problem document, its `title` and `detail` read
    in the caller's language when they are messages (`type` is the binding's, whatever the language)."""

    def __init__(
        self,
        status: int,
        type_: str,
        title: Words,
        detail: Words | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(text(detail or title))
        self.status = status
        self.type = type_
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def body(self, lang: str = "en") -> dict[str, Any]:
        return problem(self.status, self.type, self.title, self.detail, lang=lang, **self.extra)


def problem(
    status: int, type_: str, title: Words, detail: Words | None = None, *, lang: str = "en", **extra: Any
) -> dict[str, Any]:
    """A problem document in `lang`; messages among `extra` are read in it too."""
    body: dict[str, Any] = {"type": type_, "title": text(title, lang), "status": status}
    if detail:
        body["detail"] = text(detail, lang)
    body.update({k: text(v, lang) if isinstance(v, Said) else v for k, v in extra.items() if v is not None})
    return body


def problem_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


async def on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, EPCISProblem)
    return problem_response(exc.status, exc.body(lang(request)), exc.headers)


def status_title(status: int) -> Words:
    return STATUS_TITLES.get(status) or HTTPStatus(status).phrase


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
        members: dict[str, Any] = dict(exc.detail) if isinstance(exc.detail, dict) else {}
        detail: Words = (
            exc.detail
            if isinstance(exc.detail, str | Said)
            else members.get("message") or members.get("reason") or status_title(exc.status_code)
        )
        if detail == HTTPStatus(exc.status_code).phrase:  # Starlette's default words: ours, in both languages
            detail = NO_RESOURCE(path=request.url.path) if exc.status_code == 404 else status_title(exc.status_code)
        members = {k: v for k, v in members.items() if k not in ("type", "title", "status", "detail", "instance")}
        return platform_problem(request, Problem(exc.status_code, f"http-{exc.status_code}",
                                                 status_title(exc.status_code), detail,
                                                 dict(getattr(exc, "headers", None) or {}), **members))  # fmt: skip
    status = exc.status_code
    type_ = _TYPE_OF_STATUS.get(status, IMPLEMENTATION if status >= 500 else VALIDATION)
    title = {404: RESOURCE_NOT_FOUND, 405: METHOD_NOT_ALLOWED}.get(status, REQUEST_REFUSED)
    detail = exc.detail if isinstance(exc.detail, str | Said) else None
    if status == 404 and detail == "Not Found":
        detail = NO_RESOURCE(path=request.url.path)
    body = problem(status, type_, title, detail, lang=lang(request))
    return problem_response(status, body, getattr(exc, "headers", None))


async def on_auth_problem(request: Request, exc: Exception) -> Response:
    """A refused identity (401) or permission (403) on the binding's paths as the binding's
    `epcisException:SecurityException`, keeping the detail that says why and the `WWW-Authenticate`
    challenge; elsewhere (and for other statuses, such as 429 for throttled sign-ins) the platform's own
    problem."""
    assert isinstance(exc, Problem)
    if exc.status_code not in (401, 403) or not is_binding_path(request.url.path, request.app.state.feed_names):
        return platform_problem(request, exc)
    title = UNAUTHORISED if exc.status_code == 401 else FORBIDDEN
    body = problem(exc.status_code, SECURITY, title, exc.said, lang=lang(request), **exc.extra)
    return problem_response(exc.status_code, body, dict(exc.headers or {}))


async def on_validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's request validation (a path, query, header or body value of the wrong shape) on the binding's
    paths as a 400 problem that names each parameter at fault (the binding has no 422)."""
    assert isinstance(exc, RequestValidationError)
    language = lang(request)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "type": str(e.get("type", "")),
         "reason": validation_reason(e, language)}
        for e in exc.errors()
    ]  # fmt: skip
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors) or text(NOT_VALID, language)
    if not is_binding_path(request.url.path, request.app.state.feed_names):
        # Our own routes: 422, a problem naming each field (documented so: `problems_documented` in api/app.py).
        return platform_problem(request, Problem(422, "validation", NOT_VALID, detail, errors=errors))
    body = problem(400, VALIDATION, NOT_VALID, detail, lang=language, errors=errors)
    return problem_response(400, body)


# Pydantic's reasons (by its stable error `type`, kept in each error for programs) in both languages; a type
# not listed keeps pydantic's English.
VALIDATION_REASONS = {
    "missing": Message("validation.missing", "Field required"),
    "string_type": Message("validation.string_type", "Input should be a valid string"),
    "int_type": Message("validation.int_type", "Input should be a valid integer"),
    "int_parsing": Message("validation.int_parsing", "Input should be a valid integer"),
    "float_type": Message("validation.float_type", "Input should be a valid number"),
    "float_parsing": Message("validation.float_parsing", "Input should be a valid number"),
    "bool_type": Message("validation.bool_type", "Input should be a valid boolean"),
    "bool_parsing": Message("validation.bool_parsing", "Input should be a valid boolean"),
    "list_type": Message("validation.list_type", "Input should be a valid list"),
    "dict_type": Message("validation.dict_type", "Input should be a valid dictionary"),
    "model_attributes_type": Message("validation.model_attributes_type", "Input should be a valid object"),
    "json_invalid": Message("validation.json_invalid", "JSON not valid: {error}"),
    "enum": Message("validation.enum", "Input should be {expected}"),
    "literal_error": Message("validation.literal_error", "Input should be {expected}"),
    "greater_than": Message("validation.greater_than", "Input should be greater than {gt}"),
    "greater_than_equal": Message("validation.greater_than_equal", "Input should be at least {ge}"),
    "less_than": Message("validation.less_than", "Input should be less than {lt}"),
    "less_than_equal": Message("validation.less_than_equal", "Input should be at most {le}"),
    "string_too_short": Message("validation.string_too_short", "Text should have at least {min_length} characters"),
    "string_too_long": Message("validation.string_too_long", "Text should have at most {max_length} characters"),
    "too_short": Message("validation.too_short", "Should have at least {min_length} items"),
    "too_long": Message("validation.too_long", "Should have at most {max_length} items"),
    "string_pattern_mismatch": Message("validation.string_pattern_mismatch", "Text should match {pattern}"),
    "datetime_parsing": Message("validation.datetime_parsing", "Input should be a valid date-time"),
    "datetime_from_date_parsing": Message("validation.datetime_from_date_parsing", "Input should be a valid date-time"),
    "date_from_datetime_parsing": Message("validation.date_from_datetime_parsing", "Input should be a valid date"),
    "extra_forbidden": Message("validation.extra_forbidden", "Extra inputs are not permitted"),
}


def validation_reason(error: Mapping[str, Any], language: str) -> str:
    """One of pydantic's errors in `language`: by its type when listed (with its context's figures)."""
    message = VALIDATION_REASONS.get(str(error.get("type", "")))
    if message is not None:
        rendered = message.render(language, **{k: str(v) for k, v in dict(error.get("ctx") or {}).items()})
        if not rendered.startswith(f"{message.key}: "):  # the context lacks a figure the words need
            return rendered
    return str(error.get("msg", ""))
