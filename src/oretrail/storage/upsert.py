"""INSERT … ON CONFLICT DO UPDATE on both engines: the one way a projection row is replaced."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; where the primary key exists, overwrite every other column with the new values."""
    if not rows:
        return
    ins = pg_insert(table) if conn.dialect.name == "postgresql" else sqlite_insert(table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = ins.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: ins.excluded[c.name] for c in table.columns if c.name not in keys},
    )
    conn.execute(stmt, list(rows))
