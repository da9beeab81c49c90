"""Many rows in one statement, without SQLAlchemy's per-row work.

`conn.execute(insert(table), rows)` compiles the statement and runs every value of every row through
SQLAlchemy's parameter machinery; at capture rates that costs more than SQLite's own insert. Here the
statement is compiled once per dialect and column set and the rows go as tuples to the driver's
`executemany`, inside the caller's transaction. Values need no conversion on the way: psycopg adapts
datetimes itself, and for SQLite the adapters below write exactly the text SQLAlchemy's DateTime and Date
types write, so bulk-inserted rows compare equal to every other write (a test holds the two together).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert, UpdateBase


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
    building a dict per row and picking it apart again costs more than the insert."""
    execute_values(conn, _insert(table), keys, rows)
