"""Partial indexes on `event_lots` for the full scan: a transformation's inputs and outputs, and what was made
or shipped by time

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

Two rules read one kind of movement across the whole ledger, and SQLite, having no index leading with the
role, walked the lot index and visited the table once per row in lot order: at scale 10 (956,948 events)
balance.transformation took 29-69 s that way, and supervision.suspended_facility read the table once per 400
red facilities (measured in docs/benchmarks.md, "Scale"). Each index is partial, over the roles its rule
reads, and keyed so that capture appends to it (sequence numbers and event times grow), never writing a
random leaf:

- inputs and outputs by sequence number, carrying the event and the grams (with the key's lot and role, all
  that balance.transformation reads of `event_lots`, so it never visits the table);
- what was created, put out or shipped by time, for suspended_facility's "since the earliest red day".

A general (role, event_time) index was tried first and dropped: without statistics SQLite then preferred it
to the primary key for `seq = ? AND role = 'shipped'` (transit.diverted), a scan per shipment.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

TRANSFORMED = "role IN ('input', 'output')"
MADE_OR_SHIPPED = "role IN ('created', 'output', 'shipped')"


def upgrade() -> None:
    w = sa.text(TRANSFORMED)
    op.create_index(
        "ix_event_lots_transformed",
        "event_lots",
        ["seq", "event_id", "grams"],
        sqlite_where=w,
        postgresql_where=w,
        postgresql_include=["lot_id", "role"],
    )
    w = sa.text(MADE_OR_SHIPPED)
    op.create_index("ix_event_lots_made_time", "event_lots", ["event_time"], sqlite_where=w, postgresql_where=w)


def downgrade() -> None:
    op.drop_index("ix_event_lots_made_time", table_name="event_lots")
    op.drop_index("ix_event_lots_transformed", table_name="event_lots")
