"""The HTTP API (OpenAPI at /docs): the same operations as the CLI, for other systems and the dashboard."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oretrail.api import alerts, auth, bulletins, capture, chain, epcis, screening, supervision
from oretrail.api.deps import lang_of
from oretrail.api.epcis.problems import PROBLEM, STATUS_TITLES, is_binding_path
from oretrail.errors import MAX_DOCUMENT_BYTES
from oretrail.i18n.message import Message as I18nMessage
from oretrail.i18n.message import Said
from oretrail.web import routes as web


def create_app(db: str | None = None) -> FastAPI:
    from oretrail.rules.config import load_settings
    from oretrail.storage.engine import open_database

    app = FastAPI(
        title="oretrail",
        version="0.1.0",
        description="Full-chain export control of strategic minerals: capture, trace, alerts and their workflow.",
    )
    app.state.engine = open_database(db)
    app.state.settings = load_settings()  # built once: capture, feeds and scans judge with the same thresholds
    auth.install(app)  # every route below needs a caller, and every request is audited
    app.include_router(capture.router)
    app.include_router(chain.router)
    app.include_router(alerts.router)
    app.include_router(alerts.attachments_router)
    app.include_router(bulletins.router)
    app.include_router(screening.router)
    app.include_router(supervision.router)
    epcis.install(app)  # GS1's EPCIS 2.0 REST binding (docs/epcis-rest.md)
    web.install(app)  # the pages for officers and enterprises, under /web (docs/web.md)
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems_documented(FastAPI.openapi(app), app.state.feed_names)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


_NULLABLE_INT = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
_NULLABLE_STR = {"anyOf": [{"type": "string"}, {"type": "null"}]}
PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details; `title`, `detail` and `reason` in the caller's language "
        "(Accept-Language), the other members the same in every language.",
        "type": "object",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemError"}},
            "document": {"type": "string"},
            "index": _NULLABLE_INT,
            "field": _NULLABLE_STR,
            "code": {"type": "string"},
            "reason": {"type": "string"},
            "message": {"type": "string"},
        },
    },
    "ProblemError": {
        "title": "ProblemError",
        "description": "One parameter at fault: where (`field`), pydantic's error `type`, and why (`reason`).",
        "type": "object",
        "required": ["field", "type", "reason"],
        "properties": {"field": {"type": "string"}, "type": {"type": "string"}, "reason": {"type": "string"}},
    },
}
UNPROCESSABLE = {
    "description": "Not valid: the problem names each parameter at fault (`errors`), or the refused record "
    "(`document`, `index`, `field`) with the refusal's `code`",
    "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def problems_documented(spec: dict[str, Any], feeds: frozenset[str]) -> dict[str, Any]:
    """The 422s as they are answered. FastAPI documents its validation errors as `application/json`
    (HTTPValidationError), but the platform answers them, and the refusals of capture, actions and bulletins,
    as problems (`on_validation_error`, `on_http_error`): every operation of our own that takes input says
    422 `application/problem+json`. The binding's operations answer 400 instead (its own problem types, already
    documented), so FastAPI's 422 is not theirs."""
    for path, operations in spec.get("paths", {}).items():
        binding = is_binding_path(path, feeds)
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.pop("422", None)
            if not binding and (operation.get("parameters") or operation.get("requestBody")):
                responses["422"] = UNPROCESSABLE
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(PROBLEM_SCHEMAS)
    return spec


class BodyLimit:
    """No request body larger than the largest document intake reads (errors.MAX_DOCUMENT_BYTES): refused with
    413 as soon as a declared length or the bytes received pass it, so a 100 MB chunked body is never
    buffered whole before the refusal."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_DOCUMENT_BYTES:
            await _too_large(scope, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > MAX_DOCUMENT_BYTES:
                await _too_large(scope, send)
                return
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


UNEXPECTED = I18nMessage("problem.unexpected", "an unexpected error; it is logged")
TOO_LARGE = I18nMessage("problem.body_too_large", "the request body is over the limit of {limit} bytes; split it")


async def _too_large(scope: Scope, send: Send) -> None:
    await _problem(scope, send, 413, TOO_LARGE(limit=f"{MAX_DOCUMENT_BYTES:,}"))


async def _problem(scope: Scope, send: Send, status: int, detail: Said) -> None:
    """A problem answered from below the routes (the body limit, an unexpected failure)."""
    import orjson

    language = lang_of(dict(scope.get("headers", [])).get(b"accept-language", b"").decode("latin-1"))
    body = orjson.dumps({
        "type": f"https://oretrail.org/problems/http-{status}", "title": STATUS_TITLES[status].render(language),
        "status": status, "detail": detail.render(language), "instance": scope.get("path", ""),
    })  # fmt: skip
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/problem+json"), (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Headers every answer carries (OWASP's secure-headers advice): no MIME sniffing, no framing, no referrer
    leaving the platform, HTTPS remembered where it is served over HTTPS. CORS stays closed: no
    Access-Control-Allow-Origin is ever sent, so a browser page of another origin cannot read an answer.
    A header the answer already sets (the pages' own Referrer-Policy) is kept, not sent twice: two
    conflicting values would leave the choice to each browser. An unexpected failure below is answered here
    with a 500 problem carrying the headers (Starlette's own 500 is sent outside every middleware), and then
    raised on for the server to log."""

    HEADERS: ClassVar[list[tuple[bytes, bytes]]] = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"strict-transport-security", b"max-age=31536000"),
    ]

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.HEADERS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await _problem(scope, send_with_headers, 500, UNEXPECTED())
            raise
