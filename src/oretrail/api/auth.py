"""Who is calling, and whether they may: sign-in (`POST /auth/token`), the `caller` dependency every route
takes, permission checks that answer 401 or 403 with a problem body saying why, and the audit of every
request.

Identities accepted: a Bearer access token (OAuth2 password flow), an API key (`X-API-Key`, or as the
Bearer token), and HTTP Basic for API accounts (EPCIS clients commonly sign in that way), with the account's
password or one of its API keys as the password. Passwords are throttled wherever they are tried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBearer,
)
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oretrail.access.audit import Entry, append
from oretrail.access.caller import Caller
from oretrail.access.keys import KeyRejected, key_user, looks_like_key
from oretrail.access.passwords import needs_rehash, verify_password
from oretrail.access.permissions import denial
from oretrail.access.scope import unconstrained
from oretrail.access.throttle import clear, record_failure, wait_seconds
from oretrail.access.tokens import (
    ACCESS_TTL,
    TokenError,
    TokenKey,
    issue_access,
    issue_refresh,
    load_or_create_token_key,
    read_access,
    use_refresh,
)
from oretrail.access.users import User, active_user, get_user, set_password
from oretrail.api.deps import engine, lang
from oretrail.i18n.message import Message as I18nMessage
from oretrail.i18n.message import Said, said_of, text
from oretrail.ledger.keys import SigningKeyError

REALM = 'realm="oretrail"'
CHALLENGE = f"Bearer {REALM}, Basic {REALM}"
PROBLEM = "application/problem+json"
PROBLEM_BASE = "https://oretrail.org/problems/"
PUBLIC = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
PUBLIC_PREFIXES = ("/web/static/",)  # the pages' scripts and styles: the same bytes for everyone

router = APIRouter(prefix="/auth", tags=["auth"])

# Declared for the OpenAPI document (so /docs offers to sign in); `caller` reads the headers itself, since it
# must tell "no identity" (401 with a challenge) from "a wrong one" and accept three schemes in one place.
_bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/token, or an API key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key (`oretrail keys issue`).")


Words = str | I18nMessage | Said  # what a problem says: a message read in the caller's language, or plain text

SIGNING_TITLE = I18nMessage("problem.title.signing_key", "Ledger cannot be signed")
SIGNING_DETAIL = I18nMessage(
    "problem.signing_key",
    "the ledger's signing key cannot be used; nothing was stored; the operator must restore the key file",
)
SIGN_IN_REQUIRED = I18nMessage("problem.title.unauthenticated", "Sign-in required")
NOT_PERMITTED = I18nMessage("problem.title.forbidden", "Not permitted")
NOT_FOUND = I18nMessage("problem.title.not_found", "Not found")
THROTTLED = I18nMessage("problem.title.throttled", "Too many failed sign-ins")
SIGN_IN_REFUSED = I18nMessage("problem.title.sign_in", "Sign-in refused")
THROTTLED_DETAIL = I18nMessage(
    "auth.throttled", "too many failed sign-ins for {user} or from {client}; try again in {seconds} s"
)
BASIC_NOT_BASE64 = I18nMessage("auth.basic_not_base64", "the Basic credentials are not base64 of user:password")
BASIC_NOT_PAIR = I18nMessage("auth.basic_not_pair", "the Basic credentials are not user:password")
WRONG_PASSWORD = I18nMessage("auth.wrong_password", "wrong user name or password, or the account {user} is disabled")
ACCOUNT_GONE = I18nMessage("auth.account_gone", "the account {user} is disabled or gone")
KEY_NOT_THEIRS = I18nMessage("auth.key_not_theirs", "that API key is not {user}'s")
NOT_API_ACCOUNT = I18nMessage(
    "auth.not_api_account",
    "{user} is not an API account: HTTP Basic is for API accounts; sign in at POST /auth/token",
)
NO_IDENTITY = I18nMessage(
    "auth.no_identity", "no identity: send a Bearer token, an X-API-Key, or Basic credentials of an API account"
)
OUT_OF_SIGHT = I18nMessage("access.out_of_sight", "{denied} ({scope})")
GRANT_NEEDS = I18nMessage("auth.grant_needs", "grant_type={grant} needs {fields}")
GRANT_UNSUPPORTED = I18nMessage("auth.grant_unsupported", "grant_type {grant} is not supported")


class Problem(HTTPException):
    """An error answered as RFC 9457 problem details (`application/problem+json`). `title` and `detail` are
    read in the caller's language (`Accept-Language`) when they are messages; `detail` as a string (what
    logs and `str()` show) is the English."""

    def __init__(
        self, status: int, kind: str, title: Words, detail: Words, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(status, text(detail), headers)
        self.kind, self.title, self.said, self.extra = kind, title, detail, extra


def problem_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    language = lang(request)
    body = {
        "type": PROBLEM_BASE + exc.kind,
        "title": text(exc.title, language),
        "status": exc.status_code,
        "detail": text(exc.said, language),
        "instance": request.url.path,
        **{k: text(v, language) if isinstance(v, Said) else v for k, v in exc.extra.items()},
    }
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers, media_type=PROBLEM)


def signing_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The ledger's key cannot be used (missing, changed, readable by others): nothing was stored. The client
    is told so without the server's file paths; the operator reads the whole message in the log."""
    logging.getLogger("oretrail.ledger").error("%s", exc)
    return problem_response(request, Problem(503, "signing-key", SIGNING_TITLE, SIGNING_DETAIL))


def unauthenticated(reason: Words, error: str | None = None) -> Problem:
    challenge = CHALLENGE if error is None else f'Bearer {REALM}, error="{error}", Basic {REALM}'
    return Problem(401, "unauthenticated", SIGN_IN_REQUIRED, reason, {"WWW-Authenticate": challenge})


def forbidden(reason: Words) -> Problem:
    return Problem(403, "forbidden", NOT_PERMITTED, reason)


# --- the audit note every request carries ----------------------------------------------------------------
@dataclass
class AuditNote:
    """What the middleware writes once the status is known; dependencies and routes fill it in."""

    actor: str | None = None
    role: str | None = None
    action: str = "request"
    kind: str = "-"
    object: str = ""
    outcome: str | None = None  # set to override the one read from the status
    reason: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def note(request: Request) -> AuditNote:
    found = getattr(request.state, "audit", None)
    if found is None:
        found = AuditNote()
        request.state.audit = found
    return found  # type: ignore[no-any-return]


def _outcome(status: int) -> str:
    if status < 400:
        return "allowed"
    return {401: "unauthenticated", 403: "denied", 429: "throttled"}.get(
        status, "refused" if status < 500 else "failed"
    )


class AuditMiddleware:
    """Appends one audit entry per request, with its outcome, before the response leaves.

    Written before the first byte is sent, so a request whose entry cannot be written fails (500) rather than
    going unrecorded; the entry has its own transaction, which a failed request does not roll back."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # OPTIONS is audited: the EPCIS binding's discovery routes are protected routes like any other.
        if (
            scope["type"] != "http"
            or scope["path"] in PUBLIC
            or scope["path"].startswith(PUBLIC_PREFIXES)
            or scope["method"] == "HEAD"
        ):
            await self.app(scope, receive, send)
            return
        audit_note = AuditNote()
        scope.setdefault("state", {})["audit"] = audit_note
        client = (scope.get("client") or ("unknown", 0))[0]
        written = False

        async def write(status: int) -> None:
            nonlocal written
            if written:
                return
            written = True
            detail = f"{scope['method']} {scope['path']}" + (f": {audit_note.reason}" if audit_note.reason else "")
            entry = Entry(
                actor=audit_note.actor,
                role=audit_note.role,
                action=audit_note.action,
                kind=audit_note.kind,
                object=audit_note.object or _query(scope),
                outcome=audit_note.outcome or _outcome(status),
                status=status,
                client=str(client),
                detail=detail,
            )
            await anyio.to_thread.run_sync(append, self.state.engine, entry)

        async def send_audited(message: Message) -> None:
            if message["type"] == "http.response.start":
                await write(int(message["status"]))
            await send(message)

        try:
            await self.app(scope, receive, send_audited)
        except Exception:
            await write(500)
            raise


def _query(scope: Scope) -> str:
    raw = scope.get("query_string", b"")
    return raw.decode("latin-1")[:512] if raw else ""


# --- who is calling --------------------------------------------------------------------------------------
def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def _basic(request: HTTPConnection, credentials: str) -> tuple[str, str]:
    try:
        name, sep, secret = base64.b64decode(credentials, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise unauthenticated(BASIC_NOT_BASE64(), "invalid_request") from None
    if not sep or not name:
        raise unauthenticated(BASIC_NOT_PAIR(), "invalid_request")
    return name, secret


def _by_password(eng: Engine, request: HTTPConnection, name: str, password: str) -> User:
    """The account behind a name and password, throttled; the failure is recorded even though the request
    fails (its own transaction)."""
    client = client_address(request)
    with eng.begin() as conn:
        wait = wait_seconds(conn, name, client)
        if wait:
            raise Problem(
                429, "throttled", THROTTLED, THROTTLED_DETAIL(user=name, client=client, seconds=wait),
                {"Retry-After": str(wait)},
            )  # fmt: skip
        user = get_user(conn, name)
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or user.disabled_at is not None:
            record_failure(conn, name, client)
            failed = True
        else:
            clear(conn, name)
            if user.password_hash and needs_rehash(user.password_hash):
                set_password(conn, name, password)
            failed = False
    if failed:
        raise unauthenticated(WRONG_PASSWORD(user=name), "invalid_token")
    assert user is not None
    return user


# HTTP Basic sends the password with every request, and argon2 takes ~0.2 s by design (measured on the 2-core
# development machine): a client signing in with Basic would wait that long per request. A password verified
# once is remembered in this process for a few minutes, as a SHA-256 bound to the stored hash (a new password
# or a disabled account stops it at once; the account is still read on every request).
BASIC_MEMORY_SECONDS = 300.0
_BASIC_MEMORY: dict[tuple[str, str, str], float] = {}


def _memory_key(user: str, secret: str, stored: str) -> tuple[str, str, str]:
    return user, hashlib.sha256(secret.encode()).hexdigest(), stored


def _remembered(eng: Engine, name: str, secret: str) -> User | None:
    with eng.connect() as conn:
        user = active_user(conn, name)
    if user is None or user.password_hash is None:
        return None
    until = _BASIC_MEMORY.get(_memory_key(name, secret, user.password_hash))
    return user if until is not None and until > time.monotonic() else None


def _remember(user: User, secret: str) -> None:
    if user.password_hash is None:
        return
    if len(_BASIC_MEMORY) > 10_000:
        _BASIC_MEMORY.clear()
    _BASIC_MEMORY[_memory_key(user.name, secret, user.password_hash)] = time.monotonic() + BASIC_MEMORY_SECONDS


def authenticate(request: HTTPConnection) -> Caller:
    """The caller behind a request's or a websocket handshake's headers; raises a 401 Problem (or 429)."""
    eng = engine(request)
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    key = request.headers.get("x-api-key")
    if key or (scheme == "bearer" and looks_like_key(credentials)):
        with eng.connect() as conn:
            try:
                name, _ = key_user(conn, key or credentials)
            except KeyRejected as exc:
                raise unauthenticated(said_of(exc), "invalid_token") from None
            user = active_user(conn, name)
        assert user is not None
        return user.caller("key")
    if scheme == "bearer" and credentials:
        try:
            name = read_access(request.app.state.token_key, credentials)
        except TokenError as exc:
            raise unauthenticated(said_of(exc), "invalid_token") from None
        with eng.connect() as conn:
            user = active_user(conn, name)
        if user is None:
            raise unauthenticated(ACCOUNT_GONE(user=name), "invalid_token")
        return user.caller("token")
    if scheme == "basic" and credentials:
        name, secret = _basic(request, credentials)
        if looks_like_key(secret):
            with eng.connect() as conn:
                try:
                    owner, _ = key_user(conn, secret)
                except KeyRejected as exc:
                    raise unauthenticated(said_of(exc), "invalid_token") from None
                user = active_user(conn, owner)
            if owner != name or user is None:
                raise unauthenticated(KEY_NOT_THEIRS(user=name), "invalid_token")
        else:
            user = _remembered(eng, name, secret) or _by_password(eng, request, name, secret)
            _remember(user, secret)
        if not user.api:
            raise unauthenticated(NOT_API_ACCOUNT(user=name), "invalid_token")
        return user.caller("basic")
    raise unauthenticated(NO_IDENTITY())


def caller(
    request: Request,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _k: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The signed-in caller; 401 with a challenge when there is none or it does not hold."""
    audit_note = note(request)
    who = authenticate(request)
    audit_note.actor, audit_note.role = who.user, who.role
    return who


def permit(action: str, kind: str) -> Callable[..., Caller]:
    """A dependency: the caller, once the permission table lets their role `action` some `kind` objects at
    all (which ones is for the route, through `access/scope.py`); 403 saying why otherwise."""

    def check(request: Request, who: Annotated[Caller, Depends(caller)]) -> Caller:
        audit_note = note(request)
        audit_note.action, audit_note.kind = action, kind
        audit_note.object = "/".join(str(v) for v in request.path_params.values()) or audit_note.object
        reason = denial(who, action, kind)
        if reason:
            audit_note.reason = str(reason)
            raise forbidden(reason)
        return who

    check.__name__ = f"may_{action}_{kind}"
    return check


def out_of_sight(request: Request, who: Caller, action: str, kind: str, missing: Words, denied: Words) -> HTTPException:
    """One object the caller cannot `action`: 404 `missing` for a caller who may act on every object of the
    kind (it does not exist); 403 `denied` for a caller whose view is narrowed, whether or not it exists, so
    that ids cannot be probed."""
    if unconstrained(who, action, kind):
        return HTTPException(404, missing)  # type: ignore[arg-type]  # a message, read when answered
    return refuse(request, OUT_OF_SIGHT(denied=denied, scope=who.scope()))


# The objects and verbs a refusal on one object names.
OBJECTS = {
    kind: I18nMessage(f"object.{kind}", f"{kind} {{id}}")
    for kind in ("alert", "attachment", "bulletin", "declaration", "enterprise", "facility", "lot", "review")
}
VERBS = {verb: I18nMessage(f"verb.{verb}", verb) for verb in ("read", "act")}
NO_SUCH = I18nMessage("access.no_such", "no {object}")
NOT_AMONG = I18nMessage("access.not_among", "{object} is not among those {user} may {action}")


def unseen(who: Caller, action: str, kind: str, ident: str) -> tuple[Said, Said]:
    """The two things `out_of_sight` may say of one object: that it does not exist, or that it is not among
    those the caller may `action`."""
    thing = OBJECTS[kind](id=ident)
    return NO_SUCH(object=thing), NOT_AMONG(object=thing, user=who.user, action=VERBS[action]())


def refuse(request: Request, reason: Words, status: int = 403) -> Problem:
    """A denial on one object (outside the caller's province, another enterprise's facility): recorded on the
    request's audit entry (in English) and returned as a problem."""
    note(request).reason = text(reason)
    return forbidden(reason) if status == 403 else Problem(status, "not-found", NOT_FOUND, reason)


# --- signing in ------------------------------------------------------------------------------------------
class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds the access token is valid.")
    refresh_token: str = Field(description="Use once at POST /auth/token (grant_type=refresh_token) for new tokens.")


class MeOut(BaseModel):
    user: str
    role: str
    province: str | None
    department: str | None
    parties: list[str]
    via: str


def _signin_problem(reason: Words, status: int = 400, error: str = "invalid_grant") -> Problem:
    headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
    return Problem(status, "sign-in", SIGN_IN_REFUSED, reason, headers, error=error)


@router.post("/token", summary="OAuth2 password flow: sign in, or refresh", response_model=TokenOut)
def token(
    request: Request,
    eng: Annotated[Engine, Depends(engine)],
    grant_type: Annotated[str, Form(description="password or refresh_token")],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
) -> TokenOut:
    """Sign in with a user name and password (`grant_type=password`), or trade a refresh token for new tokens
    (`grant_type=refresh_token`). Failed passwords are throttled per account and per address (429 with
    Retry-After). The access token lasts minutes; the refresh token is used once."""
    audit_note = note(request)
    audit_note.kind = "user"
    key: TokenKey = request.app.state.token_key
    ttl = getattr(request.app.state, "access_ttl", ACCESS_TTL)
    if grant_type == "password":
        audit_note.action, audit_note.object = "signin", username or ""
        if not username or password is None:
            raise _signin_problem(GRANT_NEEDS(grant="password", fields="username, password"), error="invalid_request")
        try:
            user = _by_password(eng, request, username, password)
        except Problem as exc:
            if exc.status_code == 401:
                raise _signin_problem(exc.said, 401) from None
            raise
        with eng.begin() as conn:
            refresh = issue_refresh(conn, user.name)
    elif grant_type == "refresh_token":
        audit_note.action = "refresh"
        if not refresh_token:
            raise _signin_problem(GRANT_NEEDS(grant="refresh_token", fields="refresh_token"), error="invalid_request")
        failure: TokenError | None = None
        with eng.begin() as conn:  # committed even when refused: a reused token's family stays revoked
            try:
                name, refresh = use_refresh(conn, refresh_token)
                found = get_user(conn, name)
            except TokenError as exc:
                failure = exc
        if failure is not None:
            raise _signin_problem(said_of(failure))
        assert found is not None
        user = found
        audit_note.object = user.name
    else:
        raise _signin_problem(GRANT_UNSUPPORTED(grant=repr(grant_type)), error="unsupported_grant_type")
    audit_note.actor, audit_note.role = user.name, user.role
    return TokenOut(
        access_token=issue_access(key, user.name, user.role, ttl=ttl),
        expires_in=int(ttl.total_seconds()),
        refresh_token=refresh,
    )


@router.get("/me", summary="Who the platform takes you for, and with which scope", response_model=MeOut)
def me(request: Request, who: Annotated[Caller, Depends(caller)]) -> MeOut:
    audit_note = note(request)
    audit_note.action, audit_note.kind, audit_note.object = "read", "user", who.user
    return MeOut(
        user=who.user,
        role=who.role,
        province=who.province,
        department=who.department,
        parties=list(who.parties),
        via=who.via,
    )


def install(app: FastAPI) -> None:
    """Identity on an app: the token key of its database, problem answers, the audit of every request and
    the sign-in routes. Called by `create_app` once the engine is open."""
    app.state.token_key = load_or_create_token_key(app.state.engine.url)
    app.add_exception_handler(Problem, problem_response)
    app.add_exception_handler(SigningKeyError, signing_unavailable)
    app.add_middleware(AuditMiddleware, state=app.state)
    app.include_router(router)
