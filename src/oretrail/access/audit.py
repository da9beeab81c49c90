"""The audit log: every read and write of protected data, denials included, append-only and hash-chained.

Each entry's `hash` = SHA-256(previous hash ‖ canonical header {seq, kind "audit", key = the object, digest
of the whole entry, time}), the ledger's own link (`ledger/chain.py`), so an entry altered, removed, inserted
or reordered breaks the chain at that place and `verify` names it. Sequence numbers are contiguous from 1 (written
explicitly, not by the engine's counter, which leaves gaps on rollback), so a removed entry shows as a gap.
Whoever can rewrite the whole table can recompute every hash: `verify` reports the head hash, for an officer
to note down or countersign elsewhere, as the ledger's signed checkpoints do for the ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError

from oretrail.clock import utcnow
from oretrail.ledger.canonical import canonical
from oretrail.ledger.chain import GENESIS, link_hash
from oretrail.storage.schema import audit

OUTCOMES = ("allowed", "denied", "unauthenticated", "refused", "throttled", "failed")
_LOCK = 727010  # PostgreSQL advisory lock of the audit chain (the ledger's is 727001)
_TRIES = 20


@dataclass(frozen=True, slots=True)
class Entry:
    actor: str | None
    role: str | None
    action: str
    kind: str
    object: str
    outcome: str
    status: int | None
    client: str
    detail: str

    def digest(self, at: datetime) -> str:
        return hashlib.sha256(canonical({**asdict(self), "at": at.isoformat()})).hexdigest()


_HEAD = select(audit.c.seq, audit.c.hash).order_by(audit.c.seq.desc()).limit(1)


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _append(conn: Connection, entry: Entry, at: datetime) -> int:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
    seq, prev = head(conn)
    seq += 1
    digest = entry.digest(at)
    conn.execute(
        audit.insert().values(
            seq=seq,
            at=at,
            **{k: (v[:512] if isinstance(v, str) and k == "object" else v) for k, v in asdict(entry).items()},
            digest=digest,
            hash=link_hash(prev, seq, "audit", entry.object[:512], digest, at),
        )
    )
    return seq


def append(engine: Engine, entry: Entry, at: datetime | None = None) -> int:
    """Append in a transaction of its own; returns the entry's sequence number.

    On SQLite two writers may read the same head; the second insert then collides on `seq` and is retried
    on the new head (PostgreSQL serialises appenders with an advisory lock instead)."""
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {entry.outcome!r}")
    for _ in range(_TRIES):
        try:
            with engine.begin() as conn:
                return _append(conn, _truncated(entry), at or utcnow())
        except IntegrityError:
            continue
    raise RuntimeError("could not append to the audit log: the head kept moving")


def append_in(conn: Connection, entry: Entry, at: datetime | None = None) -> int:
    """Append inside the caller's transaction, so the entry lands with the change it records or not at all."""
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {entry.outcome!r}")
    return _append(conn, _truncated(entry), at or utcnow())


def _truncated(entry: Entry) -> Entry:
    """Columns have widths; an over-long object or actor is cut before hashing, so the stored entry is the
    hashed one."""
    return Entry(
        entry.actor[:64] if entry.actor else entry.actor,
        entry.role,
        entry.action[:32],
        entry.kind[:32],
        entry.object[:512],
        entry.outcome,
        entry.status,
        entry.client[:64],
        entry.detail,
    )


def entries(
    conn: Connection,
    *,
    user: str | None = None,
    action: str | None = None,
    outcome: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Entries in order of writing, filtered."""
    q = select(audit).order_by(audit.c.seq)
    if user:
        q = q.where(audit.c.actor == user)
    if action:
        q = q.where((audit.c.action == action) | audit.c.action.startswith(action + "."))
    if outcome:
        q = q.where(audit.c.outcome == outcome)
    if since:
        q = q.where(audit.c.at >= since)
    if limit:
        q = q.limit(limit)
    for r in conn.execute(q):
        yield {
            "seq": r.seq,
            "at": r.at,
            "actor": r.actor,
            "role": r.role,
            "action": r.action,
            "kind": r.kind,
            "object": r.object,
            "outcome": r.outcome,
            "status": r.status,
            "client": r.client,
            "detail": r.detail,
        }


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(conn: Connection) -> Verdict:
    """Walk the chain from the first entry; the first entry whose content, link or place does not hold is
    named."""
    prev, expected = GENESIS, 1
    count = 0
    for r in conn.execute(select(audit).order_by(audit.c.seq)).yield_per(2000):
        entry = Entry(r.actor, r.role, r.action, r.kind, r.object, r.outcome, r.status, r.client, r.detail)
        if r.seq != expected:
            return Verdict(False, count, prev, expected, f"entry {expected} is missing (the next is {r.seq})")
        if entry.digest(r.at) != r.digest:
            return Verdict(
                False, count, prev, r.seq, f"entry {r.seq} was altered: its content no longer matches its digest"
            )
        if link_hash(prev, r.seq, "audit", r.object, r.digest, r.at) != r.hash:
            return Verdict(False, count, prev, r.seq, f"entry {r.seq} does not link to the entry before it")
        prev, expected, count = r.hash, expected + 1, count + 1
    return Verdict(True, count, prev)
