"""Many rows in one statement, without SQLAlchemy's per-row work.

`conn.execute(insert(table), rows)` compiles the statement and runs every value of every row through
SQLAlchemy's parameter machinery; at capture rates that cost more than SQLite's own insert. Here the
statement is compiled once per dialect and column set, only the columns whose type needs a conversion on
that engine (datetimes on SQLite) are converted, with SQLAlchemy's own processors so stored values are the
same as every other write's, and the rows go to the driver's `executemany` inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.dml import Insert


@dataclass(frozen=True, slots=True)
class _Compiled:
    stmt: Insert  # held so that its id, the cache key, is never reused by another statement
    sql: str
    names: tuple[str, ...]  # parameter order
    convert: tuple[Callable[[Any], Any] | None, ...]
    positional: bool


_CACHE: dict[tuple[str, int, tuple[str, ...]], _Compiled] = {}


def _compile(dialect: Dialect, stmt: Insert, table: Table, keys: tuple[str, ...]) -> _Compiled:
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys))
    names = tuple(compiled.positiontup or ()) if compiled.positional else tuple(compiled.binds)
    if set(names) != set(keys):
        raise ValueError(f"rows for {table.name} must give exactly the columns {sorted(names)}, not {sorted(keys)}")
    convert = tuple(_memo(table.c[n].type.dialect_impl(dialect).bind_processor(dialect)) for n in names)
    return _Compiled(stmt, compiled.string, names, convert, compiled.positional)


def _memo(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    """An event's time is bound four or five times (event, lots, movements): convert each value once."""
    return None if processor is None else lru_cache(maxsize=4096)(processor)


def execute_rows(conn: Connection, stmt: Insert, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run an INSERT (plain or with ON CONFLICT) for rows that all have the same keys, which name columns."""
    if not rows:
        return
    table = stmt.table
    assert isinstance(table, Table)
    keys = tuple(rows[0])
    cache_key = (conn.dialect.name, id(stmt), keys)
    c = _CACHE.get(cache_key)
    if c is None:
        c = _CACHE[cache_key] = _compile(conn.dialect, stmt, table, keys)
    convert = [(i, f) for i, f in enumerate(c.convert) if f is not None]
    get = itemgetter(*c.names)
    values = [get(r) for r in rows] if len(c.names) > 1 else [(get(r),) for r in rows]
    if convert:
        values = [_converted(v, convert) for v in values]
    if c.positional:
        conn.exec_driver_sql(c.sql, values)
    else:
        conn.exec_driver_sql(c.sql, [dict(zip(c.names, v, strict=True)) for v in values])


def _converted(values: tuple[Any, ...], convert: list[tuple[int, Callable[[Any], Any]]]) -> tuple[Any, ...]:
    out = list(values)
    for i, f in convert:
        out[i] = f(out[i])
    return tuple(out)


_INSERTS: dict[str, Insert] = {}


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """A plain INSERT of many rows."""
    stmt = _INSERTS.get(table.name)
    if stmt is None or stmt.table is not table:
        stmt = _INSERTS[table.name] = insert(table)
    execute_rows(conn, stmt, rows)
