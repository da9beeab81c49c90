"""Signing in and out of the pages, and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from oretrail.api.auth import Problem, note
from oretrail.web.render import page, redirect
from oretrail.web.session import LANG_COOKIE, PATH, current, safe_next, same_site, sign_in, sign_out

router = APIRouter(prefix=PATH, include_in_schema=False)


@router.get("/signin")
def signin_page(request: Request, next: str = "") -> Response:
    note(request).action, note(request).kind = "read", "user"
    who = current(request)
    if who is not None:
        return redirect(request, safe_next(next))
    return page(request, None, "signin.html", title="web.signin.title", next=safe_next(next), error=None)


@router.post("/signin", dependencies=[Depends(same_site)])
def signin_post(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    target = safe_next(next)
    if not username or not password:
        return page(request, None, "signin.html", status=400, title="web.signin.title", next=target,
                    error=("web.signin.missing", {}))  # fmt: skip
    try:
        sign_in(request, username.strip(), password)
    except Problem as exc:
        if exc.status_code == 429:
            wait = (exc.headers or {}).get("Retry-After", "")
            error = ("web.signin.throttled", {"seconds": wait})
        else:
            error = ("web.signin.wrong", {})
        return page(request, None, "signin.html", status=exc.status_code, title="web.signin.title", next=target,
                    error=error, username=username)  # fmt: skip
    return redirect(request, target)


@router.post("/signout", dependencies=[Depends(same_site)])
def signout(request: Request) -> Response:
    note(request).action, note(request).kind = "signout", "user"
    current(request)
    sign_out(request)
    return redirect(request, f"{PATH}/signin")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "") -> Response:
    """The reader's choice of language, kept in a cookie for a year; back to the page they were on."""
    note(request).action, note(request).kind = "read", "user"
    response = redirect(request, safe_next(next))
    if code in ("zh", "en"):
        response.set_cookie(LANG_COOKIE, code, max_age=366 * 86400, path=PATH, samesite="strict", httponly=True,
                            secure=request.url.scheme == "https")  # fmt: skip
    return response
