"""An index on `event_lots` by role and time, for the full scan's rules

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-03

The rules that judge one kind of movement (balance.transformation its inputs and outputs,
supervision.suspended_facility what was made or shipped since a facility turned red) filtered `event_lots`
by role with no index leading with it, and SQLite walked the lot index instead, visiting the table once per
row in lot order: the scan's largest cost after the monthly flows, and superlinear (measured in
docs/benchmarks.md, "Scale"). (role, event_time) reads one role's rows in time order, from a date on when
asked. Capture appends to it: a new row lands at the end of its role's range, not at a random leaf.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_event_lots_role_time", "event_lots", ["role", "event_time"])


def downgrade() -> None:
    op.drop_index("ix_event_lots_role_time", table_name="event_lots")
