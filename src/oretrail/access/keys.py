"""API keys for machine feeds (a provincial system, an enterprise's ERP): shown once, stored hashed,
expiring, revocable, rotatable.

A key reads `otk_<key id>_<secret>`. The key id is stored in clear to find the row; of the secret (256
random bits) only a SHA-256 is kept: it cannot be guessed, so a slow password hash would only slow every
request. Rotation issues a new key that `replaces` the old one, which stops working at once or after a
grace period, so a system can switch over without a gap.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from oretrail.access.users import NO_USER, active_user, get_user
from oretrail.clock import utcnow
from oretrail.i18n.message import Message
from oretrail.storage.schema import api_keys

PREFIX = "otk_"
DEFAULT_DAYS = 90
MAX_DAYS = 366


NOT_A_KEY = Message("key.not_a_key", "not an oretrail API key")
UNKNOWN_KEY = Message("key.unknown", "unknown API key")
KEY_REVOKED = Message("key.revoked", "API key {key} was revoked")
KEY_EXPIRED = Message("key.expired", "API key {key} expired at {at} UTC")
KEY_DISABLED = Message("key.disabled", "API key {key} belongs to a disabled account")
KEY_LIFETIME = Message("key.lifetime", "a key lives 1 to {max} days, not {days}")
NO_KEY = Message("key.none", "no key {key}")
NOT_THEIRS = Message("key.not_theirs", "key {key} belongs to {owner}, not to {user}")


class KeyRejected(ValueError):
    """A presented key does not hold; the message says why without echoing the secret."""


@dataclass(frozen=True, slots=True)
class Issued:
    key_id: str
    key: str  # the whole key, shown once
    user: str
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    return value.startswith(PREFIX)


def issue_key(
    conn: Connection,
    user: str,
    label: str,
    *,
    days: int = DEFAULT_DAYS,
    replaces: str | None = None,
    grace_hours: float = 0.0,
    now: datetime | None = None,
) -> Issued:
    now = now or utcnow()
    if get_user(conn, user) is None:
        raise LookupError(NO_USER(name=user))
    if not 0 < days <= MAX_DAYS:
        raise ValueError(KEY_LIFETIME(max=MAX_DAYS, days=days))
    if replaces is not None:
        old = conn.execute(select(api_keys).where(api_keys.c.key_id == replaces)).first()
        if old is None:
            raise LookupError(NO_KEY(key=replaces))
        if old.user != user:
            raise ValueError(NOT_THEIRS(key=replaces, owner=old.user, user=user))
        cutoff = now + timedelta(hours=grace_hours)
        if old.revoked_at is None and old.expires_at > cutoff:
            conn.execute(update(api_keys).where(api_keys.c.key_id == replaces).values(expires_at=cutoff))
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    expires = now + timedelta(days=days)
    conn.execute(
        insert(api_keys).values(
            key_id=key_id,
            user=user,
            secret_hash=_digest(secret),
            label=label,
            created_at=now,
            expires_at=expires,
            revoked_at=None,
            replaces=replaces,
        )
    )
    return Issued(key_id, f"{PREFIX}{key_id}_{secret}", user, expires)


def list_keys(conn: Connection, user: str | None = None) -> list[dict[str, Any]]:
    q = select(api_keys).order_by(api_keys.c.user, api_keys.c.created_at)
    if user:
        q = q.where(api_keys.c.user == user)
    now = utcnow()
    return [
        {
            "key_id": r.key_id,
            "user": r.user,
            "label": r.label,
            "created_at": r.created_at,
            "expires_at": r.expires_at,
            "revoked_at": r.revoked_at,
            "replaces": r.replaces,
            "status": "revoked" if r.revoked_at else ("expired" if r.expires_at <= now else "active"),
        }
        for r in conn.execute(q)
    ]


def revoke_key(conn: Connection, key_id: str) -> None:
    if conn.execute(select(api_keys.c.key_id).where(api_keys.c.key_id == key_id)).first() is None:
        raise LookupError(NO_KEY(key=key_id))
    conn.execute(
        update(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    )


def key_user(conn: Connection, presented: str, now: datetime | None = None) -> tuple[str, str]:
    """(user name, key id) of a valid key; KeyRejected naming the key id and why otherwise."""
    now = now or utcnow()
    if not looks_like_key(presented):
        raise KeyRejected(NOT_A_KEY())
    key_id, _, secret = presented.removeprefix(PREFIX).partition("_")
    row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id)).first()
    # Compare even when the row is missing, so timing does not tell which key ids exist.
    stored = row.secret_hash if row is not None else _digest("")
    if not hmac.compare_digest(stored, _digest(secret)) or row is None:
        raise KeyRejected(UNKNOWN_KEY())
    if row.revoked_at is not None:
        raise KeyRejected(KEY_REVOKED(key=key_id))
    if row.expires_at <= now:
        raise KeyRejected(KEY_EXPIRED(key=key_id, at=f"{row.expires_at:%Y-%m-%d %H:%M}"))
    if active_user(conn, row.user) is None:
        raise KeyRejected(KEY_DISABLED(key=key_id))
    return row.user, key_id
