"""Fewer B-tree writes per captured event: clustered projection tables and partial event indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25

On SQLite a table with a text primary key is two B-trees: the rows, in rowid order, and an index on the
key. Each upsert of a position found its row through the index and then rewrote it in the row tree, two
random page writes. WITHOUT ROWID tables keep the rows in the key's B-tree, one write (lots, event_lots,
positions, genealogy, exports: small rows, always reached by their key). PostgreSQL has no such option
and is unchanged there.

The waybill, declaration and receiving-party indexes of `events` held an entry for every event, most of
them NULL (only transports carry a waybill, only exports a declaration); queries look these up by value,
never by NULL, so partial indexes over the non-NULL values serve them and cost nothing for other events.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CLUSTERED = ("lots", "event_lots", "positions", "genealogy", "exports")
PARTIAL = {
    "ix_events_waybill": "waybill",
    "ix_events_declaration": "declaration_no",
    "ix_events_dest_party": "dest_party",
}


def _recreate(table: str, with_rowid: bool) -> None:
    with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass


def _index(name: str, column: str, partial: bool) -> None:
    op.drop_index(name, table_name="events")
    where = sa.text(f"{column} IS NOT NULL") if partial else None
    op.create_index(name, "events", [column], sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in CLUSTERED:
            _recreate(table, with_rowid=False)
    for name, column in PARTIAL.items():
        _index(name, column, partial=True)


def downgrade() -> None:
    for name, column in PARTIAL.items():
        _index(name, column, partial=False)
    if op.get_bind().dialect.name == "sqlite":
        for table in CLUSTERED:
            _recreate(table, with_rowid=True)
