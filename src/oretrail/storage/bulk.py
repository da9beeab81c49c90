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
    bound four or five times (event, lots, movements): remembered, it is formatted once."""
    if moment.tzinfo is not None:
        raise ValueError(f"times are stored as naive UTC, got {moment.isoformat()}")
    return moment.isoformat(" ", "microseconds")


sqlite3.register_adapter(datetime, sqlite_datetime)
sqlite3.register_adapter(date, date.isoformat)


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    values: itemgetter[Any]  # a row's values in the statement's parameter order
    names: tuple[str, ...]
    positional: bool


@lru_cache(maxsize=256)
def _compile(dialect: Dialect, stmt: UpdateBase, keys: tuple[str, ...]) -> _Compiled:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    if set(names) != set(keys):
        raise ValueError(f"rows for {stmt.table} must give exactly the parameters {sorted(names)}, not {sorted(keys)}")
    return _Compiled(compiled.string, itemgetter(*names), names, compiled.positional)


def execute_rows(conn: Connection, stmt: UpdateBase, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an INSERT (plain or with ON CONFLICT), UPDATE or DELETE once per row, for rows that all have the same
    keys, which name the statement's parameters (for an INSERT: columns)."""
    if not rows:
        return
    c = _compile(conn.dialect, stmt, tuple(rows[0]))
    get = c.values
    values = [get(r) for r in rows] if len(c.names) > 1 else [(get(r),) for r in rows]
    if c.positional:
        conn.exec_driver_sql(c.sql, values)
    else:
        conn.exec_driver_sql(c.sql, [dict(zip(c.names, v, strict=True)) for v in values])


@cache
def _insert(table: Table) -> Insert:
    return insert(table)  # one statement object per table, so its compiled form is found again


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain INSERT of many rows."""
    execute_rows(conn, _insert(table), rows)
