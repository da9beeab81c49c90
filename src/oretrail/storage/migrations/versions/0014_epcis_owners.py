"""EPCIS capture jobs, named queries and subscriptions belong to the caller who made them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

`owner` is the user name of the signed-in caller who started the capture job, created the named query or
subscribed (issue 13: the EPCIS binding joined to identity and access). A caller lists and reads their own
jobs, queries and subscriptions (the central office all of them); a subscription's deliveries carry only
what its owner may see, read again at every delivery, so a disabled owner gets nothing. Rows made before
this revision have no owner: only a caller who sees every event sees them, and an ownerless subscription
delivers nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TABLES = ("capture_jobs", "epcis_queries", "epcis_subscriptions")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("owner", sa.String(64), nullable=True))
    op.create_index("ix_capture_jobs_owner", "capture_jobs", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_capture_jobs_owner", table_name="capture_jobs")
    for table in TABLES:
        op.drop_column(table, "owner")
