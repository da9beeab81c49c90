"""EPCIS 2.0 REST binding: the query index, capture jobs, named queries and their subscriptions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

`epcis_events` and `epcis_values` index every ledger record of kind event for the binding's query
parameters; they follow the ledger by the cursor `epcis_index` (filled on first use, so existing databases
need no backfill here). `capture_jobs` keeps POST /capture jobs across restarts; `epcis_queries` and
`epcis_subscriptions` hold named queries and the webhook subscriptions with their delivery position.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

URI = sa.String(512)


def upgrade() -> None:
    op.create_table(
        "epcis_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("event_id", URI, nullable=False),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("action", sa.String(8)),
        sa.Column("event_time", sa.DateTime(), nullable=False),
        sa.Column("record_time", sa.DateTime(), nullable=False),
        sa.Column("biz_step", URI),
        sa.Column("disposition", URI),
        sa.Column("read_point", URI),
        sa.Column("biz_location", URI),
        sa.Column("transformation_id", URI),
        sa.Column("error_time", sa.DateTime()),
        sa.Column("error_reason", URI),
    )
    op.create_index("ix_epcis_events_event_id", "epcis_events", ["event_id"])
    op.create_index("ix_epcis_events_time", "epcis_events", ["event_time"])
    op.create_table(
        "epcis_values",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Float()),
    )
    op.create_index("ix_epcis_values_lookup", "epcis_values", ["kind", "value"])
    op.create_table(
        "capture_jobs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("feed", sa.String(16), nullable=False),
        sa.Column("document", sa.String(512), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("error_behaviour", sa.String(8), nullable=False),
        sa.Column("errors", sa.Text(), nullable=False),
        sa.Column("report", sa.Text()),
    )
    op.create_index("ix_capture_jobs_created", "capture_jobs", ["created_at"])
    op.create_table(
        "epcis_queries",
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "epcis_subscriptions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("query_name", sa.String(256), nullable=False),
        sa.Column("dest", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text()),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.Text()),
        sa.Column("report_if_empty", sa.Boolean(), nullable=False),
        sa.Column("initial_record_time", sa.DateTime()),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_notified_at", sa.DateTime()),
        sa.Column("last_run_at", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
    )
    op.create_index("ix_epcis_subscriptions_query", "epcis_subscriptions", ["query_name"])


def downgrade() -> None:
    op.drop_table("epcis_subscriptions")
    op.drop_table("epcis_queries")
    op.drop_table("capture_jobs")
    op.drop_table("epcis_values")
    op.drop_table("epcis_events")
