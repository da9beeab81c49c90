"""Uploads through the enterprise portal: who sent which document, and what became of each record

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

The portal (web/portal.py) captures through the feeds (feeds.py) in the uploader's name; the report of each
upload (counts, per-event outcomes, or the refusal naming the record and field) is kept so the enterprise can
come back to it, and sees only its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_uploads",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user", sa.String(64), nullable=False),
        sa.Column("feed", sa.String(16), nullable=False),
        sa.Column("document", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
    )
    op.create_index("ix_web_uploads_user_at", "web_uploads", ["user", "at"])


def downgrade() -> None:
    op.drop_index("ix_web_uploads_user_at", table_name="web_uploads")
    op.drop_table("web_uploads")
