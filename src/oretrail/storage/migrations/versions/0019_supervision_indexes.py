"""Partial indexes on `event_lots` for an enterprise's monthly flows (the monthly report's prefill, the
report rules, the dossier)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

`rules/monthly_flows.py` `flows` read every `event_lots` row five times (one scan per flow, through the lot
index, then filtered by month): 77-92 s for one enterprise's month at scale 10. Now it reads, per
facility of the enterprise, the rows put there or drawn from there in the months asked, and its exports by
exporter: three partial indexes, each over the roles its read counts, carrying the grams (and on
PostgreSQL the lot and role) so the read never visits the table. Sales and the waybill sides of shipments
are in none of them, so capture writes a row of those roles to no new index, and every indexed key leads
with a facility, a port or an exporter whose rows arrive in time order (appends, not random leaves).
Measured in docs/web.md and docs/benchmarks.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_event_lots_put": (["to_place", "event_time", "grams"], "role IN ('created', 'output', 'received')"),
    "ix_event_lots_draw": (["from_place", "event_time", "grams"], "role IN ('input', 'shipped')"),
    "ix_event_lots_exported": (["from_owner", "event_time", "grams"], "role = 'exported'"),
}


def upgrade() -> None:
    op.create_index("ix_events_location", "events", ["biz_location", "event_time"])
    op.create_index("ix_declarations_exporter", "declarations", ["exporter", "date"])
    for name, (columns, where) in INDEXES.items():
        w = sa.text(where)
        op.create_index(
            name, "event_lots", columns, sqlite_where=w, postgresql_where=w, postgresql_include=["lot_id", "role"]
        )


def downgrade() -> None:
    for name in reversed(INDEXES):
        op.drop_index(name, table_name="event_lots")
    op.drop_index("ix_declarations_exporter", table_name="declarations")
    op.drop_index("ix_events_location", table_name="events")
