"""Warning bulletins: issued by a department to chosen departments and provinces, acknowledged per recipient

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

A bulletin names consignees, HS codes or enterprises and is in force until a date; the consignees it names
are screened like the watch list while it is in force (screening/store.py reads them from `bulletins`).
Each recipient unit (a department, at the centre or in a province) acknowledges it; unacknowledged ones are
reminded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issuer", sa.String(128), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("province", sa.String(8), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("hs_codes", sa.Text(), nullable=False),
        sa.Column("enterprises", sa.Text(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
    )
    op.create_table(
        "bulletin_recipients",
        sa.Column("bulletin_id", sa.String(40), primary_key=True),
        sa.Column("department", sa.String(32), primary_key=True),
        sa.Column("province", sa.String(8), primary_key=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("bulletin_recipients")
    op.drop_table("bulletins")
