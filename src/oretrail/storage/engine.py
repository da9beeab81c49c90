"""Opening the database: one URL decides the engine, and every open brings the schema to the newest migration."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, func, select

from oretrail.storage.schema import ledger

DEFAULT_URL = "sqlite:///oretrail.db"
# A full scan's page cache on SQLite (KiB, SQLite's negative form): 2 GiB instead of the 256 MiB every
# connection keeps. A scan looks up lots, events and facilities at random for millions of rows; with the
# smaller cache most of those pages are re-read from the OS (a system call and a copy each) every time.
SCAN_CACHE_KIB = 2 * 1024 * 1024
CACHE_KIB = 256 * 1024
# A full scan's readers side by side (`readers`): one per core, at most four. Two on this 2-core machine took
# a scale-10 scan from 17.1 to 15.0 s on SQLite and from 8.0 to 6.9 s on DuckDB; at 9.57M events DuckDB gained
# nothing more once its statements used both cores (58.2 s against 59.6, docs/benchmarks.md). On SQLite each
# reader holds the scan's page cache, hence the cap.
SCAN_WORKERS = max(1, min(os.cpu_count() or 1, 4))
MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(url: str | None = None) -> str:
    """The `--db` option wins, then ORETRAIL_DB, then a SQLite file in the working folder."""
    url = url or os.environ.get("ORETRAIL_DB") or DEFAULT_URL
    # psycopg 3 is the one PostgreSQL driver we ship; plain postgresql:// URLs would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            # WAL lets readers (API, dashboards) work while intake writes; NORMAL sync is durable in WAL mode
            # up to the last checkpoint and is what makes bulk intake fast.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            # Each capture commit appends every page it dirtied to the WAL; checkpointing after every 1,000
            # pages (SQLite's default) would copy back and fsync several times per document on a large
            # database. Checkpoint every ~400 MB instead, and truncate the WAL back to 512 MB after.
            cur.execute("PRAGMA wal_autocheckpoint=100000")
            cur.execute("PRAGMA journal_size_limit=536870912")
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, connect_args=POSTGRES_CONNECT_ARGS)


# psycopg prepares a statement server-side after five runs, and PostgreSQL then settles on a generic plan
# made while the tables were small: during a bulk load those plans keep scanning tables that have since
# grown, and capture slows down as the database fills (measured: 1,757 → 1,055 events/s over the first
# 38,000 events, against a flat ~1,330 without prepared statements).
POSTGRES_CONNECT_ARGS = {"prepare_threshold": None}


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to head; each migration runs in its own transaction."""
    command.upgrade(alembic_config(engine), "head")


def open_database(url: str | None = None) -> Engine:
    engine = make_engine(url)
    migrate(engine)
    return engine


@contextmanager
def scan_settings(conn: Connection) -> Iterator[None]:
    """For the length of a full scan on SQLite, a page cache large enough to hold the lookups' working set;
    back to the connection's usual size after (lowering it frees the pages), so a pooled connection does
    not keep 2 GiB for the API requests that follow. Other engines size their own memory."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SCAN_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")


# Where more connections read what the first reads: the stores, and DuckDB's views of an export (files that
# do not change under a scan), not Spark (one session, which spreads each statement over the cluster itself).
READERS = ("sqlite", "postgresql", "duckdb")


@contextmanager
def readers(conn: Connection, count: int, attempts: int = 3) -> Iterator[list[Connection]]:
    """`count` connections besides `conn` that all read the data `conn` reads, each in a read transaction of its
    own, for a full scan to run its rules side by side (SQLite and PostgreSQL run a statement on one core; a scan is
    some forty of them). Empty when `count` is below 2 or none can be had: then the scan runs on `conn`.

    The same data is the same ledger head: every record a rule reads is appended to the ledger first (capture,
    feeds, registry, supervision), which `export.parquet.check_current` relies on too. A commit landing while
    the readers open moves the head between them, and they are opened again; after `attempts` such misses,
    or when `conn` sees writes of its own not yet committed, they are given up rather than read two states.
    Opened on SQLite with a full scan's page cache each (`scan_settings`), closed (the cache freed) at the end.
    """
    if count < 2 or conn.dialect.name not in READERS or conn.engine.url.database in (None, "", ":memory:"):
        yield []
        return
    newest = select(func.max(ledger.c.seq))
    opened: list[Connection] = []
    try:
        for _ in range(attempts):
            _release(opened)
            opened = [conn.engine.connect() for _ in range(count)]
            for other in opened:
                if other.dialect.name == "sqlite":
                    # pysqlite begins no transaction for a SELECT: each statement would read the newest state.
                    other.exec_driver_sql(f"PRAGMA cache_size=-{SCAN_CACHE_KIB}")
                    other.exec_driver_sql("BEGIN")
                elif other.dialect.name == "postgresql":
                    other.execution_options(isolation_level="REPEATABLE READ")
            heads = {other.execute(newest).scalar() for other in opened}
            if heads == {conn.execute(newest).scalar()}:
                yield opened
                return
        yield []
    finally:
        _release(opened)


def _release(opened: list[Connection]) -> None:
    """Back to the pool as they came out: no transaction open, SQLite's usual page cache (lowering it frees
    the pages)."""
    for other in opened:
        if other.dialect.name == "sqlite":
            other.rollback()
            other.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")
        other.close()
