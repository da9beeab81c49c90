"""A full scan's side-by-side readers (`storage.engine.readers`) read one state of the store, the one the
caller's connection reads, or none are given and the scan runs on the caller's connection alone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, create_engine, func, insert, select

from oretrail.storage.engine import CACHE_KIB, SCAN_CACHE_KIB, migrate, readers
from oretrail.storage.schema import ledger

NEWEST = select(func.max(ledger.c.seq))


def append(conn: Connection, key: str) -> None:
    conn.execute(
        insert(ledger).values(
            kind="event", key=key, digest="0" * 64, body="{}", recorded_at=datetime(2025, 1, 1), hash="1" * 64
        )
    )


def test_readers_keep_the_state_they_opened_on_while_others_commit(engine: Engine) -> None:
    with engine.begin() as conn:
        append(conn, "urn:uuid:before")
    with engine.connect() as conn, readers(conn, 3) as opened:
        assert len(opened) == 3
        seen = {r.execute(NEWEST).scalar() for r in opened}
        with engine.begin() as writer:
            append(writer, "urn:uuid:after")
        assert {r.execute(NEWEST).scalar() for r in opened} == seen  # not the row committed since
        assert {r.execute(select(func.count()).select_from(ledger)).scalar() for r in opened} == {1}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger)).scalar() == 2


def test_no_readers_when_the_caller_holds_writes_they_cannot_see(engine: Engine) -> None:
    """A whole-list feed judges everything inside the transaction that loaded it: readers opened elsewhere
    would judge the store without the feed's new rows, so none are given."""
    with engine.begin() as conn:
        append(conn, "urn:uuid:uncommitted")
        with readers(conn, 2) as opened:
            assert opened == []


def test_no_readers_below_two_or_in_memory(engine: Engine) -> None:
    with engine.connect() as conn, readers(conn, 1) as opened:
        assert opened == []
    memory = create_engine("sqlite://")
    migrate(memory)
    with memory.connect() as conn, readers(conn, 4) as opened:
        assert opened == []


def test_sqlite_readers_hold_the_scan_cache_only_while_open(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        with readers(conn, 2) as opened:
            assert {r.exec_driver_sql("PRAGMA cache_size").scalar() for r in opened} == {-SCAN_CACHE_KIB}
            raw = [r.connection.dbapi_connection for r in opened]
        for dbapi in raw:  # back in the pool: the usual cache, no transaction left open
            assert dbapi is not None
            assert dbapi.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB
            assert not dbapi.in_transaction  # type: ignore[attr-defined]
