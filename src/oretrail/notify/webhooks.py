"""Webhooks for systems that do not speak NATS: subscriptions, signing, and delivery with a position each.

A subscription names a URL, a subject filter (NATS wildcards) and a secret. Its position in the outbox
moves past a message only when the receiver answered 2xx (or the message does not match its filter), so a
receiver that is down gets everything it missed, in order, once it is back. Signatures follow Standard
Webhooks (HMAC-SHA256 over `id.timestamp.body`, headers `webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64>`), for which receivers in most languages already have a verifier.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, delete, insert, select, update

from oretrail.clock import utcnow
from oretrail.i18n.message import Message
from oretrail.notify import outbox
from oretrail.notify.delivery import DeliveryError
from oretrail.notify.subjects import ROOT, SubjectError, matches, validate_filter
from oretrail.storage.schema import webhooks

SECRET_PREFIX = "whsec_"


class WebhookError(ValueError):
    pass


@dataclass(frozen=True)
class Subscription:
    id: int
    url: str
    subjects: str
    secret: str
    position: int
    created_at: datetime
    disabled_at: datetime | None
    failures: int
    last_error: str | None


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    """A `whsec_` secret is base64 after its prefix (Standard Webhooks); any other is used as UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        return base64.b64decode(secret[len(SECRET_PREFIX) :])
    return secret.encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: what a receiver recomputes with the shared secret."""
    mac = hmac.new(_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


BAD_URL = Message("webhook.bad_url", "webhook url {url}: an http:// or https:// address is needed")
SHORT_SECRET = Message(
    "webhook.short_secret", "webhook secret: at least 16 characters (or leave it out to have one made)"
)
NOT_BASE64 = Message("webhook.not_base64", "webhook secret: {prefix}… must be base64 after the prefix")


def subscribe(
    conn: Connection,
    url: str,
    subject_filter: str = f"{ROOT}.>",
    secret: str | None = None,
    *,
    from_start: bool = False,
) -> Subscription:
    """Add a subscription; it receives messages written from now on (`from_start`: the whole outbox)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookError(BAD_URL(url=repr(url)))
    try:
        validate_filter(subject_filter)
    except SubjectError as exc:
        raise WebhookError(*exc.args) from exc
    if secret is not None:
        if len(secret) < 16:
            raise WebhookError(SHORT_SECRET())
        if secret.startswith(SECRET_PREFIX):
            try:
                base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
            except ValueError as exc:
                raise WebhookError(NOT_BASE64(prefix=SECRET_PREFIX)) from exc
    start = 0 if from_start else outbox.head(conn)
    values = {"url": url, "subjects": subject_filter, "secret": secret or new_secret(), "position": start}
    new_id = conn.execute(
        insert(webhooks).values(**values, created_at=utcnow(), failures=0).returning(webhooks.c.id)
    ).scalar_one()
    found = get(conn, int(new_id))
    assert found is not None
    return found


def get(conn: Connection, sub_id: int) -> Subscription | None:
    row = conn.execute(select(webhooks).where(webhooks.c.id == sub_id)).first()
    return None if row is None else Subscription(**row._mapping)


def listed(conn: Connection, *, active_only: bool = False) -> list[Subscription]:
    q = select(webhooks).order_by(webhooks.c.id)
    if active_only:
        q = q.where(webhooks.c.disabled_at.is_(None))
    return [Subscription(**r._mapping) for r in conn.execute(q)]


def unsubscribe(conn: Connection, sub_id: int) -> bool:
    return bool(conn.execute(delete(webhooks).where(webhooks.c.id == sub_id)).rowcount)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirected POST would be re-sent as a GET without its body and could answer 200: a 3xx is a
    failure to deliver, reported with the address it pointed to."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


# No proxy from the environment: receivers are the departments' own systems, reached directly.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST `body`; returns the status and a short reason. Network errors are status 0."""
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            return resp.status, resp.reason or ""
    except urllib.error.HTTPError as exc:
        return exc.code, str(exc.reason)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return 0, str(getattr(exc, "reason", exc))


@dataclass
class WebhookSink:
    """One subscription as a destination of the publisher loop."""

    engine: Engine
    sub_id: int
    batch: int = 256
    timeout: float = 10.0

    @property
    def name(self) -> str:
        return f"webhook:{self.sub_id}"

    async def step(self) -> int:
        """Deliver the next batch after the subscription's position; returns how many rows it moved past."""
        sub, rows = await asyncio.to_thread(self._read)
        if sub is None or sub.disabled_at is not None or not rows:
            return 0
        moved = 0
        passed = sub.position
        for row in rows:
            if matches(sub.subjects, row.subject):
                stamp = int(time.time())
                headers = {
                    "Content-Type": "application/json",
                    "User-Agent": "oretrail-notify",
                    "webhook-id": row.id,
                    "webhook-timestamp": str(stamp),
                    "webhook-signature": signature(sub.secret, row.id, stamp, row.payload),
                    "Oretrail-Subject": row.subject,
                    "Oretrail-Kind": row.kind,
                }
                status, reason = await asyncio.to_thread(post, sub.url, row.payload, headers, self.timeout)
                if not 200 <= status < 300:
                    error = f"outbox seq {row.seq} to {sub.url}: " + (
                        f"HTTP {status} {reason}" if status else f"unreachable: {reason}"
                    )
                    await asyncio.to_thread(self._record, passed, error)
                    raise DeliveryError(error)
                # The receiver has it: the position moves before the next message, so a stop now re-sends
                # nothing that was answered 2xx.
                await asyncio.to_thread(self._record, row.seq, None)
            passed = row.seq
            moved += 1
        await asyncio.to_thread(self._record, passed, None)
        return moved

    def _read(self) -> tuple[Subscription | None, list[outbox.Stored]]:
        with self.engine.connect() as conn:
            sub = get(conn, self.sub_id)
            return sub, [] if sub is None else outbox.after(conn, sub.position, self.batch)

    def _record(self, seq: int, error: str | None) -> None:
        """Advance the position to `seq` (never back) and keep the outcome of the attempt."""
        with self.engine.begin() as conn:
            mine = webhooks.c.id == self.sub_id
            conn.execute(update(webhooks).where(mine, webhooks.c.position < seq).values(position=seq))
            if error is None:
                conn.execute(update(webhooks).where(mine).values(failures=0, last_error=None))
            else:
                conn.execute(update(webhooks).where(mine).values(failures=webhooks.c.failures + 1, last_error=error))

    def pending(self) -> int:
        with self.engine.connect() as conn:
            sub = get(conn, self.sub_id)
            return 0 if sub is None else outbox.count_after(conn, sub.position)
