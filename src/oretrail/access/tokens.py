"""OAuth2 password flow tokens: short-lived signed access tokens and one-use refresh tokens.

Access tokens are JWTs signed with Ed25519 (EdDSA) under a key of their own, kept beside the platform's
signing key (`<database>.token.key`, or ORETRAIL_TOKEN_KEY): verifying one needs no database read for the
token itself, and the ledger's key signs only ledger heads. A token names its user; what the user may do is
read from the account on every request, so revoking access never waits for a token to expire.

Refresh tokens are random, stored as SHA-256 digests, and used once: each refresh returns a new one of the
same family. A used one presented again means a copy is in other hands, and the whole family is revoked.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import URL, Connection, insert, select, update

from oretrail.access.users import active_user
from oretrail.clock import utcnow
from oretrail.i18n.message import Message
from oretrail.ledger.keys import key_path
from oretrail.secretfiles import read_secret, write_secret
from oretrail.storage.schema import refresh_tokens

TOKEN_KEY_ENV = "ORETRAIL_TOKEN_KEY"
TOKEN_KEY = Message("secret.what.token", "the access tokens' signing key")
ACCESS_TTL = timedelta(minutes=15)
REFRESH_TTL = timedelta(hours=12)
ISSUER = "oretrail"
REFRESH_PREFIX = "otr_"


ACCESS_EXPIRED = Message("token.access_expired", "the access token has expired; refresh it at POST /auth/token")
ACCESS_INVALID = Message("token.access_invalid", "the access token is not valid ({error})")
NOT_ACCESS = Message("token.not_access", "not an access token")
REFRESH_UNKNOWN = Message("token.refresh_unknown", "unknown refresh token")
REFRESH_REVOKED = Message("token.refresh_revoked", "the refresh token was revoked; sign in again")
REFRESH_REUSED = Message(
    "token.refresh_reused", "the refresh token was already used; every token of its sign-in is revoked, sign in again"
)
REFRESH_EXPIRED = Message("token.refresh_expired", "the refresh token has expired; sign in again")
ACCOUNT_DISABLED = Message("token.account_disabled", "the account is disabled")


class TokenError(ValueError):
    """A token does not hold; the message is safe to return to the client."""


@dataclass(frozen=True)
class TokenKey:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()


def token_key_path(database: str | URL | None = None) -> Path:
    chosen = os.environ.get(TOKEN_KEY_ENV)
    if chosen:
        return Path(chosen)
    signing = key_path(database=database)
    return signing.with_name(signing.name.removesuffix(".signing.key").removesuffix(".key") + ".token.key")


def load_or_create_token_key(database: str | URL | None = None) -> TokenKey:
    """The token key of `database`, created once with mode 0600 (a file group or others may read is refused:
    SecretFileError). Replacing the file signs everyone out, and nothing else: tokens are not evidence."""
    path = token_key_path(database)
    if path.exists():
        key = serialization.load_pem_private_key(read_secret(path, TOKEN_KEY()), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return TokenKey(key)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        write_secret(path, pem)
    except FileExistsError:  # another worker made it a moment ago
        return load_or_create_token_key(database)
    return TokenKey(key)


def issue_access(
    key: TokenKey, user: str, role: str, *, now: datetime | None = None, ttl: timedelta = ACCESS_TTL
) -> str:
    issued = (now or utcnow()).replace(tzinfo=UTC)
    claims = {
        "iss": ISSUER,
        "sub": user,
        "role": role,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": secrets.token_hex(8),
        "typ": "access",
    }
    return jwt.encode(claims, key.private, algorithm="EdDSA")


def read_access(key: TokenKey, token: str) -> str:
    """The user an access token names; TokenError when it is expired, forged or not ours."""
    try:
        claims = jwt.decode(
            token,
            key.public,
            algorithms=["EdDSA"],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenError(ACCESS_EXPIRED()) from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(ACCESS_INVALID(error=str(exc))) from None
    if claims.get("typ") != "access":
        raise TokenError(NOT_ACCESS())
    return str(claims["sub"])


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh(
    conn: Connection, user: str, *, family: str | None = None, now: datetime | None = None, ttl: timedelta = REFRESH_TTL
) -> str:
    now = now or utcnow()
    token = REFRESH_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(refresh_tokens).values(
            token_hash=_digest(token),
            user=user,
            family=family or secrets.token_hex(8),
            issued_at=now,
            expires_at=now + ttl,
            used_at=None,
            revoked_at=None,
        )
    )
    return token


def use_refresh(
    conn: Connection, token: str, *, now: datetime | None = None, ttl: timedelta = REFRESH_TTL
) -> tuple[str, str]:
    """Spend a refresh token: (user, the next refresh token of its family). TokenError when it does not hold;
    a second use revokes its family."""
    now = now or utcnow()
    row = conn.execute(select(refresh_tokens).where(refresh_tokens.c.token_hash == _digest(token))).first()
    if row is None:
        raise TokenError(REFRESH_UNKNOWN())
    if row.revoked_at is not None:
        raise TokenError(REFRESH_REVOKED())
    if row.used_at is not None:
        conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family == row.family, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        raise TokenError(REFRESH_REUSED())
    if row.expires_at <= now:
        raise TokenError(REFRESH_EXPIRED())
    if active_user(conn, row.user) is None:
        raise TokenError(ACCOUNT_DISABLED())
    conn.execute(update(refresh_tokens).where(refresh_tokens.c.token_hash == row.token_hash).values(used_at=now))
    return row.user, issue_refresh(conn, row.user, family=row.family, now=now, ttl=ttl)
