"""Movements are found by their event's capture, not by lot: the lot-ordered index gives way to one on seq

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Every captured event writes two or three movements, and the (lot, place) index took each at a random leaf:
at a million events it was the widest random-order index capture still wrote. Movements get the ledger
`seq` of their event's capture (always increasing at capture, so its index is appended to) and the
(lot, place) index goes. A correction finds its event's movements by that seq; `balance.lot` reaches a
lot's movements through `event_lots`, whose lot index names the captures that touched the lot.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("movements", sa.Column("seq", sa.BigInteger(), nullable=True))
    # Live movements belong to live events, whose `seq` is still that of their capture.
    op.execute("UPDATE movements SET seq = (SELECT events.seq FROM events WHERE events.event_id = movements.event_id)")
    with op.batch_alter_table("movements") as batch:
        batch.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
    op.drop_index("ix_movements_lot_place", table_name="movements")
    op.create_index("ix_movements_seq", "movements", ["seq"])


def downgrade() -> None:
    op.drop_index("ix_movements_seq", table_name="movements")
    op.create_index("ix_movements_lot_place", "movements", ["lot_id", "place"])
    with op.batch_alter_table("movements") as batch:
        batch.drop_column("seq")
