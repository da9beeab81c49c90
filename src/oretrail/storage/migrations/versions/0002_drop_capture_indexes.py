"""Drop two indexes that cost a random B-tree write per row at capture and serve no query

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

`ix_movements_event` served only corrections, which now reach an event's movements through its lots;
`ix_positions_place` served no query (positions are read by lot).
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_movements_event", table_name="movements")
    op.drop_index("ix_positions_place", table_name="positions")


def downgrade() -> None:
    op.create_index("ix_positions_place", "positions", ["place"])
    op.create_index("ix_movements_event", "movements", ["event_id"])
