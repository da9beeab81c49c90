"""Appending to the ledger: the only write path into the single source of truth.

Every feed record (EPCIS event, registry entry, licence, declaration) becomes one row. A record whose
canonical body is already the newest version of its key is not written again, which is what makes
re-sent documents harmless. Nothing is updated or deleted here, ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

import orjson
from sqlalchemy import Column, Connection, Select, bindparam, func, select, text

from oretrail.clock import utcnow
from oretrail.ledger.canonical import canonical, sha256_hex
from oretrail.ledger.chain import GENESIS, link_hash
from oretrail.storage.bulk import insert_values
from oretrail.storage.schema import ledger

_LOOKUP_CHUNK = 400
_LEDGER_COLUMNS = ("seq", "kind", "key", "digest", "body", "recorded_at", "hash")


class Record(NamedTuple):
    seq: int
    kind: str
    key: str
    digest: str
    body: bytes  # canonical JSON
    recorded_at: datetime
    hash: str

    def json(self) -> Any:
        return orjson.loads(self.body)


class Pending(NamedTuple):
    """A record ready to append: canonical body computed once, used for the digest and for storage.

    Records and pending records are named tuples, built in C: a frozen dataclass costs microseconds more
    per record, which a million events notice."""

    kind: str
    key: str
    body: bytes
    digest: str

    @classmethod
    def of(cls, kind: str, key: str, obj: Any) -> Pending:
        body = canonical(obj)
        return cls(kind, key, body, sha256_hex(body))


class LedgerWriter:
    """Appends within the caller's transaction; the caller commits or rolls back the whole batch."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        lock(conn)
        self.seq, self.hash = head(conn)

    def latest_digests(self, key: Column[Any], keys: Iterable[str]) -> dict[str, str]:
        """Digest of the newest stored version of each key that exists, found through `key`, the key column of
        the record kind's projection table, whose `seq` names the newest record of each key.

        The projection is written in the same transaction as the records, so it never lags them; reading
        through it spares the ledger a (kind, key) index, whose random eventIDs cost a page write per record.
        """
        keys = list(dict.fromkeys(keys))
        stmt = _newest_digests(key)
        found: dict[str, str] = {}
        for i in range(0, len(keys), _LOOKUP_CHUNK):
            found.update(self.conn.execute(stmt, {"keys": keys[i : i + _LOOKUP_CHUNK]}).all())
        return found

    def append(self, records: Sequence[Pending]) -> list[Record]:
        if not records:
            return []
        now = utcnow()
        out: list[Record] = []
        for rec in records:
            self.seq += 1
            self.hash = link_hash(self.hash, self.seq, rec.kind, rec.key, rec.digest, now)
            out.append(Record(self.seq, rec.kind, rec.key, rec.digest, rec.body, now, self.hash))
        insert_values(
            self.conn,
            ledger,
            _LEDGER_COLUMNS,
            [(r.seq, r.kind, r.key, r.digest, r.body.decode(), r.recorded_at, r.hash) for r in out],
        )
        return out


@cache
def _newest_digests(key: Column[Any]) -> Select[str, str]:
    """Built once per key column: built per call, the statement costs more in SQLAlchemy than in the database."""
    return (
        select(key, ledger.c.digest)
        .join(ledger, ledger.c.seq == key.table.c.seq)
        .where(key.in_(bindparam("keys", expanding=True)))
    )


def lock(conn: Connection) -> None:
    """One appender (or sealer) at a time: the chain is a total order, so the head is read under the write
    lock, never before it (read first, two writers would both extend the same head). Released at commit or
    rollback; taking it again in the same transaction is free."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
    else:
        # SQLite: a statement that writes takes the database's write lock (waiting out another writer for
        # the busy timeout); this one changes nothing. pysqlite opens the transaction on it, so the head
        # is read inside the transaction that appends.
        conn.exec_driver_sql("UPDATE ledger SET seq = seq WHERE 0")


# Built once: every captured document reads the head, and building the statement cost more than running it.
_HEAD = select(ledger.c.seq, ledger.c.hash).order_by(ledger.c.seq.desc()).limit(1)


def head(conn: Connection) -> tuple[int, str]:
    row = conn.execute(_HEAD).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def count(conn: Connection, kind: str | None = None) -> int:
    q = select(func.count()).select_from(ledger)
    if kind:
        q = q.where(ledger.c.kind == kind)
    return int(conn.execute(q).scalar_one())


def records(
    conn: Connection, after: int = 0, kinds: Sequence[str] | None = None, batch: int = 5000
) -> Iterator[Record]:
    """Stream records in sequence order, in pages, so a rebuild of millions stays flat in memory."""
    last = after
    while True:
        q = select(ledger).where(ledger.c.seq > last).order_by(ledger.c.seq).limit(batch)
        if kinds:
            q = q.where(ledger.c.kind.in_(kinds))
        rows = conn.execute(q).all()
        if not rows:
            return
        for r in rows:
            yield Record(r.seq, r.kind, r.key, r.digest, r.body.encode(), r.recorded_at, r.hash)
        last = rows[-1].seq
