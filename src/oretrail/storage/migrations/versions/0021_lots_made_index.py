"""An index of lots by creation time, for the lots list

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03

The trace page without a lot lists the lots the reader may see, newest first (web/trace.py). Without an
index it decided the visibility predicate for every lot and sorted the visible ones to show 25: 0.7-2.4 s
for a provincial officer or an enterprise at scale 10 (333,006 lots). Read through (created_at,
created_location) it walks back from the newest lot and stops after a page of visible ones; the place of
making and the lot id (the primary key ending every SQLite index entry) decide visibility from the index
alone. Measured in docs/web.md.
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lots_made", "lots", ["created_at", "created_location"])


def downgrade() -> None:
    op.drop_index("ix_lots_made", table_name="lots")
