"""Many rows in one statement, without SQLAlchemy's per-row work.

`conn.execute(insert(table), rows)` compiles the statement and runs every value of every row through
SQLAlchemy's parameter machinery; at capture rates that costs more than SQLite's own insert. Here the
statement is compiled once per dialect and column set and the rows go as tuples to the driver's
`executemany`, inside the caller's transaction. Values need no conversion on the way: psycopg adapts
datetimes itself, and for SQLite the adapters below write exactly the text SQLAlchemy's DateTime and Date
types write, so bulk-inserted rows compare equal to every other write (a test holds the two together).

On PostgreSQL an `executemany` still parses and plans one statement per row, which made capture there a
third as fast as on SQLite (835 against 2,253 events/s, bench/scale_capture.py). There the rows go by COPY
instead: plain inserts straight into their table, and statements that merge rows into a table (upserts,
deletes by key) as one set-based statement over a temporary table the rows were copied into.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any
from zlib import crc32

from sqlalchemy import Column, Connection, MetaData, Table, and_, bindparam, delete, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.dml import Delete, Insert, UpdateBase


@lru_cache(maxsize=65536)
def sqlite_datetime(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text: always six fractional digits, times naive UTC. An event's time is
    bound three or four times (event, lots, event_lots): remembered, it is formatted once."""
    if moment.tzinfo is not None:
        raise ValueError(f"times are stored as naive UTC, got {moment.isoformat()}")
    return moment.isoformat(" ", "microseconds")


sqlite3.register_adapter(datetime, sqlite_datetime)
sqlite3.register_adapter(date, date.isoformat)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    order: itemgetter[Any] | None  # picks a row's values into the statement's parameter order; None: already
    names: tuple[str, ...]  # the row's keys
    positional: bool


@lru_cache(maxsize=256)
def _compile(dialect: Dialect, stmt: UpdateBase, keys: tuple[str, ...]) -> _Compiled:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    if set(names) != set(keys) or len(names) != len(keys):
        raise ValueError(f"rows for {stmt.table} must give exactly the parameters {sorted(names)}, not {sorted(keys)}")
    order = None if names == keys else itemgetter(*(keys.index(n) for n in names))
    return _Compiled(compiled.string, order, keys, compiled.positional)


def execute_values(conn: Connection, stmt: UpdateBase, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Run an INSERT (plain or with ON CONFLICT), UPDATE or DELETE once per row; each row is a tuple of values
    in the order of `keys`, which name the statement's parameters (for an INSERT: columns). Rows in the
    statement's own order go to the driver untouched."""
    if not rows:
        return
    c = _compile(conn.dialect, stmt, keys)
    if not c.positional:
        conn.exec_driver_sql(c.sql, [dict(zip(keys, r, strict=True)) for r in rows])
    elif c.order is None:
        conn.exec_driver_sql(c.sql, rows if isinstance(rows, list) else list(rows))
    elif len(keys) == 1:
        conn.exec_driver_sql(c.sql, [(c.order(r),) for r in rows])
    else:
        conn.exec_driver_sql(c.sql, [c.order(r) for r in rows])


def execute_rows(conn: Connection, stmt: UpdateBase, rows: Sequence[Mapping[str, Any]]) -> None:
    """`execute_values` for rows given as mappings, which all have the same keys."""
    if not rows:
        return
    keys = tuple(rows[0])
    get = itemgetter(*keys)
    execute_values(conn, stmt, keys, [get(r) for r in rows] if len(keys) > 1 else [(get(r),) for r in rows])


@cache
def _insert(table: Table) -> Insert:
    return insert(table)  # one statement object per table, so its compiled form is found again


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain INSERT of many rows."""
    execute_rows(conn, _insert(table), rows)


def insert_values(conn: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """A plain INSERT of many rows given as values in the order of `keys` (columns): the capture path, where
    building a dict per row and picking it apart again costs more than the insert. On PostgreSQL: COPY."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        copy_values(conn, table, keys, rows)
    else:
        execute_values(conn, _insert(table), keys, rows)


def copy_values(conn: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> None:
    """COPY rows into a PostgreSQL table (psycopg 3) within the caller's transaction; values as psycopg adapts
    them for any statement, so a copied row equals an inserted one."""
    sql = _copy_sql(conn.dialect, table, keys)
    with conn.connection.cursor() as cur, cur.copy(sql) as copy:  # type: ignore[attr-defined]
        for row in rows:
            copy.write_row(row)


def merge_values(conn: Connection, stmt: Insert, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """`execute_values` of an INSERT … ON CONFLICT whose rows are independent of each other: no two rows may
    have the same conflict key (PostgreSQL refuses to update one row twice in a statement, and the order of
    rows within it would be lost). On PostgreSQL the rows are copied into a temporary table and merged by
    one INSERT … SELECT with the statement's own ON CONFLICT clause."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        execute_values(conn, stmt, keys, rows)
        return
    _through_stage(conn, stmt, stmt.table, keys, rows)  # type: ignore[arg-type]


def delete_keys(conn: Connection, table: Table, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]) -> None:
    """Delete the rows of `table` whose `keys` columns equal one of the given tuples (on PostgreSQL: one
    DELETE … USING a temporary table the keys were copied into)."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        execute_values(conn, _delete_by(table, keys, staged=False), keys, rows)
        return
    _through_stage(conn, _delete_by(table, keys, staged=True), table, keys, rows)


def _through_stage(
    conn: Connection, stmt: Insert | Delete, table: Table, keys: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    stage = _stage(table, keys)
    create, apply, clear = _staged(conn.dialect, stmt, stage, keys)
    conn.exec_driver_sql(create)
    copy_values(conn, stage, keys, rows)
    conn.exec_driver_sql(apply)
    conn.exec_driver_sql(clear)


@lru_cache(maxsize=256)
def _copy_sql(dialect: Dialect, table: Table, keys: tuple[str, ...]) -> str:
    unknown = [k for k in keys if k not in table.c]
    if unknown:
        raise ValueError(f"rows for {table} name no column {unknown} (columns: {sorted(table.c.keys())})")
    q = dialect.identifier_preparer
    return f"COPY {q.format_table(table)} ({', '.join(q.quote(k) for k in keys)}) FROM STDIN"


@lru_cache(maxsize=256)
def _stage(table: Table, keys: tuple[str, ...]) -> Table:
    """A session's temporary table for rows of `table` with the columns `keys`, emptied at every commit."""
    name = f"stage_{table.name}_{crc32('|'.join(keys).encode()):08x}"
    return Table(
        name,
        MetaData(),
        *(Column(k, table.c[k].type) for k in keys),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DELETE ROWS",
    )


@lru_cache(maxsize=256)
def _staged(dialect: Dialect, stmt: Insert | Delete, stage: Table, keys: tuple[str, ...]) -> tuple[str, str, str]:
    """The SQL that creates the stage (unless this session has it), applies it, and empties it again."""
    create = str(CreateTable(stage, if_not_exists=True).compile(dialect=dialect))
    if isinstance(stmt, Insert):
        stmt = stmt.from_select(list(keys), select(*stage.c))
    return create, str(stmt.compile(dialect=dialect)), str(delete(stage).compile(dialect=dialect))


@lru_cache(maxsize=256)
def _delete_by(table: Table, keys: tuple[str, ...], staged: bool) -> Delete:
    """DELETE by key: a bound parameter per key, or a join with the rows' stage."""
    if staged:
        stage = _stage(table, keys)
        return delete(table).where(and_(*(table.c[k] == stage.c[k] for k in keys)))
    return delete(table).where(and_(*(table.c[k] == bindparam(k) for k in keys)))
