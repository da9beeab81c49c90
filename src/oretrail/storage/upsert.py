"""INSERT … ON CONFLICT on both engines: the one way a projection row is replaced, or kept when it exists."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.dml import Insert

from oretrail.storage.bulk import execute_rows


def insert_or(dialect: str, table: Table) -> Insert:
    """INSERT for the engine's dialect, on which `on_conflict_do_update` can be called."""
    return pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)  # type: ignore[return-value]


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; where the primary key exists, overwrite every other column with the new values."""
    if rows:
        execute_rows(conn, _replace(conn.dialect.name, table), rows)


@cache
def insert_new(dialect: str, table: Table) -> Insert:
    """INSERT that keeps the stored row where the primary key exists: first written wins, with no read."""
    return insert_or(dialect, table).on_conflict_do_nothing(index_elements=list(table.primary_key.columns))


@cache
def _replace(dialect: str, table: Table) -> Insert:
    ins = insert_or(dialect, table)
    keys = [c.name for c in table.primary_key.columns]
    return ins.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: ins.excluded[c.name] for c in table.columns if c.name not in keys},
    )
