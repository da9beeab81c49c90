"""Capture appends instead of writing at random: event_lots by ledger seq, genealogy by output lot, no ledger key index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

EventIDs are random (UUIDs), so every B-tree led by one takes each captured row at a random leaf: on a
database larger than the page cache that is a page read and a page written per row, and at a million
events these writes were most of what a commit cost. Three such trees go:

- `event_lots` is keyed by the ledger sequence number of the event's capture (always increasing), with the
  eventID kept as a plain column; queries by event join `events` on `seq`.
- `genealogy` is keyed by (output lot, input lot, event): the output lot is the one just made, and the key
  also serves backward traces, so the separate output-lot index goes.
- the ledger's (kind, key) index: the newest record of a key is found through the `seq` of its projection row.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

URI = sa.String(length=512)


def _replace(table: str, columns: list[sa.Column[object]], key: Sequence[str], select_rows: str) -> None:
    """Create `table` anew with another primary key, copy its rows, and put it in the old one's place."""
    new = f"{table}_new"
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(new, *columns, sa.PrimaryKeyConstraint(*key, name=f"{new}_pkey"), sqlite_with_rowid=False)
    names = ", ".join(c.name for c in columns)
    op.execute(f"INSERT INTO {new} ({names}) {select_rows}")
    op.drop_table(table)
    op.rename_table(new, table)
    if not sqlite:
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {new}_pkey TO {table}_pkey")


def _event_lots(by_seq: bool) -> list[sa.Column[object]]:
    """The columns of event_lots, in key order: led by seq (this revision) or by the eventID (before it)."""
    event_id = sa.Column("event_id", URI, nullable=False)
    key = [sa.Column("lot_id", URI, nullable=False), sa.Column("role", sa.String(length=16), nullable=False)]
    lead = [sa.Column("seq", sa.BigInteger(), nullable=False), *key, event_id] if by_seq else [event_id, *key]
    return [
        *lead,
        sa.Column("grams", sa.BigInteger(), nullable=False),
        sa.Column("event_time", sa.DateTime(), nullable=False),
    ]


def _genealogy(key: tuple[str, str, str]) -> None:
    """Genealogy re-keyed: every column is part of the key, in the order given."""
    _replace(
        "genealogy", [sa.Column(c, URI, nullable=False) for c in key], key, f"SELECT {', '.join(key)} FROM genealogy"
    )


def upgrade() -> None:
    op.drop_index("ix_ledger_kind_key", table_name="ledger")
    op.drop_index("ix_event_lots_lot", table_name="event_lots")
    _replace(
        "event_lots",
        _event_lots(by_seq=True),
        ("seq", "lot_id", "role"),
        "SELECT e.seq, el.lot_id, el.role, el.event_id, el.grams, el.event_time "
        "FROM event_lots el JOIN events e ON e.event_id = el.event_id",
    )
    op.create_index("ix_event_lots_lot", "event_lots", ["lot_id"])
    op.drop_index("ix_genealogy_input", table_name="genealogy")
    op.drop_index("ix_genealogy_output", table_name="genealogy")
    _genealogy(("output_lot", "input_lot", "event_id"))
    op.create_index("ix_genealogy_input", "genealogy", ["input_lot"])


def downgrade() -> None:
    op.drop_index("ix_genealogy_input", table_name="genealogy")
    _genealogy(("event_id", "input_lot", "output_lot"))
    op.create_index("ix_genealogy_input", "genealogy", ["input_lot"])
    op.create_index("ix_genealogy_output", "genealogy", ["output_lot"])
    op.drop_index("ix_event_lots_lot", table_name="event_lots")
    _replace(
        "event_lots",
        _event_lots(by_seq=False),
        ("event_id", "lot_id", "role"),
        "SELECT event_id, lot_id, role, grams, event_time FROM event_lots",
    )
    op.create_index("ix_event_lots_lot", "event_lots", ["lot_id"])
    op.create_index("ix_ledger_kind_key", "ledger", ["kind", "key"])
