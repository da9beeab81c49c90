"""Indexes for ten million events: capture's look-up of retracted events, and the EPCIS query by location and
by record time

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

Measured on PostgreSQL with 2.87 million events (docs/operations.md, bench/scale_capture.py `queries`):

- Capture asks, for every event of a document, whether it was retracted (`events.retracted`): without an
  index that is a heap visit per key through the primary key. Retracted events are rare, so a partial index
  over them alone answers from a few pages and costs capture nothing but the rare correction.
- `GET /events?EQ_bizLocation=…&orderBy=eventTime` walked the whole event-time index filtering by location;
  (biz_location, event_time) reads only the location's events, in order.
- `orderBy=recordTime` sorted every indexed event; (record_time, seq) is the keyset order of its pages.

The EPCIS index is written by its catch-up (api/epcis/index.py), never by capture itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    retracted = sa.text("retracted")
    op.create_index("ix_events_retracted", "events", ["event_id"], sqlite_where=retracted, postgresql_where=retracted)
    located = sa.text("biz_location IS NOT NULL")
    op.create_index(
        "ix_epcis_events_location",
        "epcis_events",
        ["biz_location", "event_time"],
        sqlite_where=located,
        postgresql_where=located,
    )
    op.create_index("ix_epcis_events_record_time", "epcis_events", ["record_time", "seq"])


def downgrade() -> None:
    op.drop_index("ix_epcis_events_record_time", table_name="epcis_events")
    op.drop_index("ix_epcis_events_location", table_name="epcis_events")
    op.drop_index("ix_events_retracted", table_name="events")
