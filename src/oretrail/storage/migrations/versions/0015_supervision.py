"""Supervision of enterprises: monthly reports, reviews, inspections, corrective actions, trainings, facility
statuses, risk scores, inspection plans, customs channels

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10

Reports and supervision records are ledger records (feeds `reports` and `supervision`); their tables are
projections that rebuild replays. Risk scores, plans and channels are computed, kept with their reasons and
the policy they were computed under (docs/supervision.md).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monthly_reports",
        sa.Column("enterprise", sa.String(512), primary_key=True),
        sa.Column("period", sa.String(6), primary_key=True),
        sa.Column("filed_at", sa.DateTime(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("enterprise", sa.String(512), nullable=False),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("template_version", sa.String(16), nullable=False),
        sa.Column("elements", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_reviews_enterprise", "reviews", ["enterprise", "date"])
    op.create_table(
        "inspections",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("enterprise", sa.String(512), nullable=False),
        sa.Column("facility", sa.String(512), nullable=True),
        sa.Column("province", sa.String(8), nullable=False),
        sa.Column("inspector", sa.String(128), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("plan", sa.String(64), nullable=True),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("alerts", sa.Text(), nullable=False),
        sa.Column("facility_status", sa.String(8), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_inspections_enterprise", "inspections", ["enterprise", "date"])
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("inspection_id", sa.String(64), nullable=False),
        sa.Column("enterprise", sa.String(512), nullable=False),
        sa.Column("facility", sa.String(512), nullable=True),
        sa.Column("item", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_corrective_actions_enterprise", "corrective_actions", ["enterprise"])
    op.create_table(
        "action_closures",
        sa.Column("action_id", sa.String(64), primary_key=True),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "trainings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("province", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "training_attendance",
        sa.Column("training_id", sa.String(64), primary_key=True),
        sa.Column("enterprise", sa.String(512), primary_key=True),
        sa.Column("attendees", sa.Integer(), nullable=False),
    )
    op.create_index("ix_training_attendance_enterprise", "training_attendance", ["enterprise"])
    op.create_table(
        "facility_statuses",
        sa.Column("facility", sa.String(512), primary_key=True),
        sa.Column("since", sa.Date(), primary_key=True),
        sa.Column("inspection_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(8), nullable=False),
    )
    op.create_table(
        "risk_scores",
        sa.Column("enterprise", sa.String(512), primary_key=True),
        sa.Column("as_of", sa.Date(), primary_key=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("components", sa.Text(), nullable=False),
        sa.Column("policy_version", sa.String(16), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("province", sa.String(8), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("random_share", sa.Float(), nullable=False),
        sa.Column("picks", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "customs_channels",
        sa.Column("declaration_no", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("selection", sa.String(8), nullable=False),
        sa.Column("risk", sa.Float(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("customs_channels")
    op.drop_table("inspection_plans")
    op.drop_table("risk_scores")
    op.drop_table("facility_statuses")
    op.drop_table("training_attendance")
    op.drop_table("trainings")
    op.drop_table("action_closures")
    op.drop_table("corrective_actions")
    op.drop_table("inspections")
    op.drop_table("reviews")
    op.drop_table("monthly_reports")
