"""The pages on the API's app: their routes under /web, their static files (htmx vendored with its licence,
plotly.js read from the plotly package itself: nothing from the internet), and how a page says no."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from oretrail.i18n.message import MESSAGES, Message
from oretrail.web import account, alerts, bulletins, dossier, inspections, licences, overview, portal, trace
from oretrail.web.errors import Denied, PageError
from oretrail.web.render import finish, page
from oretrail.web.session import PATH, CrossSite, SignInNeeded, current, safe_next, signin_url

STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
static = APIRouter(prefix=f"{PATH}/static", include_in_schema=False)


@cache
def _plotly_path() -> Path:
    import plotly  # type: ignore[import-untyped]

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@cache
def _asset(name: str) -> bytes | None:
    if name == "plotly.min.js":
        return _plotly_path().read_bytes()
    if name == "plotly.LICENSE.txt":
        from importlib.metadata import distribution

        found = [f for f in distribution("plotly").files or [] if f.name.upper().startswith("LICENSE")]
        return found[0].read_text().encode() if found else None
    node = files("oretrail.web").joinpath("static", name)
    return node.read_bytes() if node.is_file() else None


@static.get("/{name}")
def asset(name: str) -> Response:
    body = _asset(name) if "/" not in name else None
    if body is None:
        return Response(status_code=404)
    media = STATIC_TYPES.get(Path(name).suffix, "application/octet-stream")
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "") or "hx-request" in request.headers


async def _page_error(request: Request, exc: Exception) -> Response:
    """The refusal in the reader's language, on a page or as a problem whose `code` does not change with it;
    the audit log keeps its English."""
    assert isinstance(exc, PageError)
    from oretrail.api.auth import PROBLEM, PROBLEM_BASE, note
    from oretrail.api.deps import lang

    note(request).reason = exc.detail
    if not _wants_html(request):
        language = lang(request)
        body = {"type": PROBLEM_BASE + exc.key.rsplit(".", 1)[-1], "title": MESSAGES[exc.key].render(language),
                "status": exc.status, "detail": exc.said.render(language), "code": exc.code,
                "instance": request.url.path}  # fmt: skip
        return JSONResponse(body, status_code=exc.status, media_type=PROBLEM)
    return page(request, current(request), "error.html", status=exc.status, title=exc.key, error_key=exc.key,
                said=exc.said, code=exc.code, back=_form_page(request))  # fmt: skip


def _form_page(request: Request) -> str | None:
    """The page a refused form was posted from (one of ours), to go back to and correct it."""
    if request.method != "POST":
        return None
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return None
    target = safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
    return target if target != PATH + "/" else None


async def _sign_in_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    target = signin_url(exc.next_url)
    if "hx-request" in request.headers:
        return finish(request, Response(status_code=204, headers={"HX-Redirect": target}))
    return finish(request, RedirectResponse(target, status_code=303))


CROSS_SITE = Message(
    "web.refused.cross_site",
    "a form sent from another site ({origin}) is refused: forms are taken only from the platform's own pages",
)


async def _cross_site(request: Request, exc: Exception) -> Response:
    """Refused like any other page refusal (in the reader's language, with a stable code), before the form
    is read or anything is written."""
    return await _page_error(request, Denied(CROSS_SITE(origin=str(exc))))


def install(app: FastAPI) -> None:
    """The pages on `app` (after `auth.install`: they read the same token key and audit every request)."""
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(CrossSite, _cross_site)
    app.include_router(static)
    for module in (account, overview, alerts, trace, dossier, licences, inspections, bulletins, portal):
        app.include_router(module.router)

    from oretrail.web.flows import warm

    app.state.web_warm = warm(app.state.engine)  # a thread on a national database, else None

    @app.get(PATH, include_in_schema=False)
    def _home() -> Response:
        return RedirectResponse(f"{PATH}/", status_code=307)
