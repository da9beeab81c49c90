"""GS1's EPCIS 2.0 REST binding (`../shared/epcis/rest/openapi.json`) on the platform's app: capture jobs,
events and their queries, the top-level browse resources, named queries with webhook and websocket
subscriptions, OPTIONS discovery, and problems typed `epcisException:*`. docs/epcis-rest.md says what is
implemented and what is not.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from oretrail.api.auth import Problem
from oretrail.api.epcis import browse, capture, events, queries
from oretrail.api.epcis.common import CAPTURE_LIMIT, problem_docs, version_headers
from oretrail.api.epcis.problems import (
    EPCISProblem,
    on_auth_problem,
    on_http_error,
    on_problem,
    on_validation_error,
)
from oretrail.api.epcis.subscriptions import Deliverer
from oretrail.api.epcis.visibility import may_read


class LeadingSlashes:
    """`//capture` → `/capture`: clients that join a base URL ending in `/` with a path starting with one
    (the FasTnT collection does) must reach the resource. Only the leading run is folded: an eventID such as
    `ni:///sha-256;...` inside the path keeps its slashes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope["path"].startswith("//"):
            scope = dict(scope)
            scope["path"] = "/" + scope["path"].lstrip("/")
            raw = scope.get("raw_path")
            if isinstance(raw, bytes):
                scope["raw_path"] = b"/" + raw.lstrip(b"/")
        await self.app(scope, receive, send)


def install(app: FastAPI, *, deliver: bool = True) -> None:
    """Mount the binding on `app` (after `app.state.engine` and `settings` are set). `deliver` starts the
    webhook deliverer with the app (tests that drive deliveries themselves turn it off)."""
    from oretrail.feeds import FEEDS

    app.state.feed_names = frozenset(f.name for f in FEEDS)
    app.state.epcis_capture_limit = CAPTURE_LIMIT
    for router in (browse.router, capture.router, events.router, queries.router):
        app.include_router(router)
    app.add_api_route(
        "/nextPageToken/{token}", release_token, methods=["DELETE"], status_code=204, tags=["EPCIS events"],
        dependencies=[Depends(may_read)],
        summary="Release a nextPageToken (nothing to release: tokens hold no server state)",
        response_class=Response, responses={204: {"description": "Released"}, **problem_docs()},
    )  # fmt: skip
    app.add_exception_handler(EPCISProblem, on_problem)
    app.add_exception_handler(Problem, on_auth_problem)  # 401 and 403 on the binding's paths in its types
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_middleware(LeadingSlashes)
    deliverer = Deliverer(app.state.engine)
    app.state.epcis_wake = deliverer.wake

    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        capture.mark_interrupted(app.state.engine)
        if deliver:
            deliverer.start()
        try:
            async with outer(a) as state:
                yield state
        finally:
            deliverer.stop()

    app.router.lifespan_context = lifespan


def release_token(token: str, request: Request) -> Response:
    del token, request
    return Response(status_code=204, headers=version_headers())
