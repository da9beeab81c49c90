"""Signing in to the pages: the API's own tokens, carried in cookies.

A browser cannot be trusted to keep a bearer token out of scripts, so the pages keep the same two tokens the
OAuth2 password flow gives (api/auth.py, access/tokens.py) in HttpOnly, SameSite=Strict cookies: the access
token is the Ed25519-signed JWT that lives 15 minutes, the refresh token the one-use random one that lives 12
hours. When the access token has expired the refresh token is spent for a new pair, exactly as
`POST /auth/token` does, so a reused refresh cookie revokes its whole sign-in there too. Passwords go through
the API's throttled check, and the account is read on every request: one identity machinery, not two.

Cross-site requests cannot carry SameSite=Strict cookies; on top of that a form post whose Origin (or
Sec-Fetch-Site) says it came from another site is refused before it does anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from sqlalchemy import update

from oretrail.access.caller import Caller
from oretrail.access.tokens import ACCESS_TTL, REFRESH_TTL, TokenError, issue_access, issue_refresh, read_access
from oretrail.access.tokens import use_refresh as spend_refresh
from oretrail.access.users import User, active_user
from oretrail.api.auth import _by_password, note
from oretrail.api.deps import engine
from oretrail.clock import utcnow
from oretrail.storage.schema import refresh_tokens

ACCESS_COOKIE = "ot_access"
REFRESH_COOKIE = "ot_refresh"
LANG_COOKIE = "ot_lang"
PATH = "/web"


class SignInNeeded(Exception):
    """No valid session: the browser is sent to the sign-in page (and back to `next` afterwards)."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class CrossSite(Exception):
    """A state-changing request that did not come from our own pages."""


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    max_age: int | None  # None: delete it


def _pending(request: Request) -> list[Cookie]:
    found = getattr(request.state, "cookies", None)
    if found is None:
        found = []
        request.state.cookies = found
    return found  # type: ignore[no-any-return]


def set_session(request: Request, user: User) -> None:
    """Issue a new pair of tokens for `user` and queue them as cookies on the response."""
    eng = engine(request)
    with eng.begin() as conn:
        refresh = issue_refresh(conn, user.name)
    access = issue_access(request.app.state.token_key, user.name, user.role, ttl=ACCESS_TTL)
    _pending(request).extend(
        [
            Cookie(ACCESS_COOKIE, access, int(REFRESH_TTL.total_seconds())),
            Cookie(REFRESH_COOKIE, refresh, int(REFRESH_TTL.total_seconds())),
        ]
    )


def sign_in(request: Request, name: str, password: str) -> User:
    """The API's throttled password check (raises its Problem 401 or 429), then a session."""
    audit = note(request)
    audit.action, audit.kind, audit.object = "signin", "user", name
    user = _by_password(engine(request), request, name, password)
    audit.actor, audit.role = user.name, user.role
    set_session(request, user)
    return user


def sign_out(request: Request) -> None:
    """Revoke the refresh token of this browser and forget both cookies."""
    token = request.cookies.get(REFRESH_COOKIE)
    if token:
        digest = hashlib.sha256(token.encode()).hexdigest()
        with engine(request).begin() as conn:
            conn.execute(
                update(refresh_tokens).where(refresh_tokens.c.token_hash == digest).values(revoked_at=utcnow())
            )
    _pending(request).extend([Cookie(ACCESS_COOKIE, "", None), Cookie(REFRESH_COOKIE, "", None)])


def _refreshed(request: Request) -> User | None:
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        return None
    eng = engine(request)
    user: User | None = None
    with eng.begin() as conn:  # committed even when refused: a reused token's family stays revoked
        try:
            name, refresh = spend_refresh(conn, token)
            user = active_user(conn, name)
        except TokenError:
            pass
    if user is None:
        return None
    access = issue_access(request.app.state.token_key, user.name, user.role, ttl=ACCESS_TTL)
    _pending(request).extend(
        [
            Cookie(ACCESS_COOKIE, access, int(REFRESH_TTL.total_seconds())),
            Cookie(REFRESH_COOKIE, refresh, int(REFRESH_TTL.total_seconds())),
        ]
    )
    return user


def current(request: Request) -> Caller | None:
    """The signed-in caller of this browser, refreshing an expired access token once; None when signed out."""
    cached = getattr(request.state, "web_caller", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    user: User | None = None
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        try:
            name = read_access(request.app.state.token_key, token)
        except TokenError:
            name = None
        if name is not None:
            with engine(request).connect() as conn:
                user = active_user(conn, name)
    if user is None:
        user = _refreshed(request)
    if user is None:
        return None
    who = user.caller("web")
    audit = note(request)
    audit.actor, audit.role = who.user, who.role
    request.state.web_caller = who
    return who


def page_caller(request: Request) -> Caller:
    """A dependency of every page: the caller, or a trip to the sign-in page."""
    who = current(request)
    if who is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInNeeded(target)
    return who


def same_site(request: Request) -> None:
    """A dependency of every form post: refuse one sent from another site's page."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        raise CrossSite(fetch_site)
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin != own:
            raise CrossSite(origin)


def signin_url(next_url: str) -> str:
    return f"{PATH}/signin?next={quote(next_url, safe='/')}"


def safe_next(next_url: str | None) -> str:
    """Only our own pages are places to go back to after signing in (no open redirect)."""
    if next_url and next_url.startswith(PATH + "/") and not next_url.startswith("//"):
        return next_url
    return PATH + "/"
