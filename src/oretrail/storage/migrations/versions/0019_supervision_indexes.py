"""Indexes for supervision's reads at national scale: an enterprise's monthly flows, its dossier, its risk score

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03

- `rules/monthly_flows.py` `flows` (the monthly report's prefill, the report rules, the dossier) read every
  `event_lots` row five times, one scan per flow through the lot index, then kept one month: 37-92 s for
  one enterprise's month at scale 10. Three partial indexes now serve it, each over the roles its read
  counts: what is put at a place (created, output, received) and what is drawn from it (input, shipped) by
  place and time, and exports by exporter and time. Each carries the grams, and the lot and role (the
  primary key ending every SQLite index entry of this table; INCLUDEd on PostgreSQL), so a read never
  visits the table. Sales and the waybill sides of shipments are in none of them: capture writes no new
  entry for those, and every new key leads with a facility, a port or an exporter whose rows arrive in
  time order (appends, not random leaves).
- The dossier's flows and timeline read the events at the enterprise's facilities: (biz_location,
  event_time) instead of every event.
- The risk score (and the dossier's timeline) read an exporter's declarations of a year: (exporter, date)
  instead of every declaration.

Measured in docs/web.md and docs/operations.md.
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
