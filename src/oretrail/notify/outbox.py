"""The outbox: messages written in the caller's transaction, read back in order by the publisher.

A change that matters (an alert settling, an escalation, a share, a bulletin) and the message announcing it
land together or not at all: the alert store calls these functions on its own connection, inside its own
transaction, and never waits on NATS. The publisher reads the rows after its durable position; a row is
never changed or deleted by the platform, so every follower can replay from wherever it stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, text, update

from oretrail.clock import utcnow
from oretrail.notify import subjects
from oretrail.storage.schema import cursors, outbox

# Held until commit by every transaction that writes the outbox on PostgreSQL. Sequence numbers are handed
# out at insert, commits happen later: without the lock a row with seq 7 could commit before one with seq 6,
# and a publisher that read 7 and moved its position there would never see 6. Taken after the ledger's lock
# (727001) by transactions that append to the ledger too; never the other way round.
OUTBOX_LOCK = 727011


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class Stored:
    """An outbox row as followers read it; `payload` is the JSON text sent as the message body."""

    seq: int
    id: str
    kind: str
    subject: str
    payload: bytes
    created_at: datetime


def enqueue(conn: Connection, messages: Sequence[Message]) -> list[str]:
    """Write `messages` in the caller's transaction; returns their message ids in order."""
    if not messages:
        return []
    for m in messages:
        if m.kind not in subjects.KINDS:
            raise ValueError(f"outbox message kind {m.kind!r} is not one of {', '.join(subjects.KINDS)}")
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
    now = utcnow()
    ids = [str(uuid.uuid4()) for _ in messages]
    rows = [
        {
            "id": i,
            "kind": m.kind,
            "subject": m.subject,
            "payload": orjson.dumps(m.payload).decode(),
            "created_at": now,
        }
        for i, m in zip(ids, messages, strict=True)
    ]
    conn.execute(insert(outbox), rows)
    return ids


def alerts_settled(conn: Connection, records: Iterable[Mapping[str, Any]]) -> list[str]:
    """One message per department each settled alert names (SPEC.md §4 record as payload): each office
    subscribes to its own token, so an alert for customs and commerce reaches both, each once."""
    messages = [
        Message(subjects.ALERT_SETTLED, subjects.alert_settled(r["jurisdiction"], dept), r)
        for r in records
        for dept in r["departments"]
    ]
    return enqueue(conn, messages)


def alert_action(conn: Connection, record: Mapping[str, Any], action: Mapping[str, Any]) -> list[str]:
    """An escalation or a share: the decision as entered (`action`) with the alert it concerns."""
    payload = {"action": dict(action), "alert": dict(record)}
    if action["action"] == "escalate":
        message = Message(subjects.ALERT_ESCALATED, subjects.alert_escalated(record["jurisdiction"]), payload)
    elif action["action"] == "share":
        subject = subjects.alert_shared(action["department"], record["jurisdiction"])
        message = Message(subjects.ALERT_SHARED, subject, payload)
    elif action["action"] == "hand_down":
        message = Message(subjects.ALERT_HANDED_DOWN, subjects.alert_handed_down(action["province"]), payload)
    else:
        raise ValueError(f"only escalations, hand-downs and shares are notified, not {action['action']!r}")
    return enqueue(conn, [message])


def bulletin_issued(conn: Connection, bulletin: Mapping[str, Any], recipients: Iterable[tuple[str, str]]) -> list[str]:
    """A warning bulletin (issue 13 §5), one message per (province or `CN`, department) it is addressed to;
    the bulletin's own record is the payload, whatever shape its module gives it."""
    chosen = sorted(set(recipients))
    if not chosen:
        raise ValueError("a bulletin needs at least one (province, department) recipient")
    messages = [Message(subjects.BULLETIN_ISSUED, subjects.bulletin(p, d), bulletin) for p, d in chosen]
    return enqueue(conn, messages)


def bulletin_reminded(conn: Connection, bulletin: Mapping[str, Any], province: str, department: str) -> list[str]:
    """A recipient unit that has not acknowledged a bulletin in force, reminded: the bulletin is the payload."""
    return enqueue(
        conn, [Message(subjects.BULLETIN_REMINDED, subjects.bulletin_reminder(province, department), bulletin)]
    )


def after(conn: Connection, seq: int, limit: int) -> list[Stored]:
    """Up to `limit` rows past `seq`, in order."""
    q = select(outbox).where(outbox.c.seq > seq).order_by(outbox.c.seq).limit(limit)
    return [Stored(r.seq, r.id, r.kind, r.subject, r.payload.encode(), r.created_at) for r in conn.execute(q)]


def head(conn: Connection) -> int:
    """The newest seq written (0 for an empty outbox)."""
    return int(conn.execute(select(func.coalesce(func.max(outbox.c.seq), 0))).scalar_one())


def count_after(conn: Connection, seq: int) -> int:
    return int(conn.execute(select(func.count()).select_from(outbox).where(outbox.c.seq > seq)).scalar_one())


def position(conn: Connection, name: str) -> int:
    """How far the follower `name` has delivered (0: nothing yet)."""
    found = conn.execute(select(cursors.c.seq).where(cursors.c.name == name)).scalar()
    return int(found or 0)


def advance(conn: Connection, name: str, seq: int) -> None:
    """Move the follower `name` forward to `seq`; never back, so a late or repeated call is harmless."""
    moved = conn.execute(update(cursors).where(cursors.c.name == name, cursors.c.seq < seq).values(seq=seq))
    if moved.rowcount == 0 and conn.execute(select(cursors.c.seq).where(cursors.c.name == name)).first() is None:
        conn.execute(insert(cursors).values(name=name, seq=seq))
