"""Where an event took a lot from and put it to is kept on its event_lots row; the movements table goes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

Every movement was already one side of an event_lots row: a role draws at most once (inputs, shipped,
received, sold, exported) and puts at most once (created, outputs, shipped, received, sold, exported). So
each row now carries its draw (`from_place`, `from_owner`) and its put (`to_place`, `to_owner`), NULL where
the role has none, and the movements table with its (lot, place) index is dropped. Capture writes about 2.4
fewer rows and 2.4 fewer index entries per event.

Rows are carried over from the movements of the same event and lot, the draw from the negative one and the
put from the positive one. A lot that an event listed twice and drew from two holders keeps the first;
`oretrail rebuild` then gives the exact state, as always.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

URI = sa.String(length=512)
MOVES = ("from_place", "from_owner", "to_place", "to_owner")
DRAWING = "('input', 'shipped', 'received', 'sold', 'exported')"
PUTTING = "('created', 'output', 'shipped', 'received', 'sold', 'exported')"


def _side(column: str, sign: str) -> str:
    return (
        f"(SELECT m.{column} FROM movements m WHERE m.lot_id = event_lots.lot_id "
        f"AND m.event_id = event_lots.event_id AND m.delta_g {sign} 0 ORDER BY m.id LIMIT 1)"
    )


def upgrade() -> None:
    for name in MOVES:
        op.add_column("event_lots", sa.Column(name, URI, nullable=True))
    op.execute(
        f"UPDATE event_lots SET from_place = {_side('place', '<')}, from_owner = {_side('owner', '<')} "
        f"WHERE role IN {DRAWING}"
    )
    op.execute(
        f"UPDATE event_lots SET to_place = {_side('place', '>')}, to_owner = {_side('owner', '>')} "
        f"WHERE role IN {PUTTING}"
    )
    op.drop_index("ix_movements_lot_place", table_name="movements")
    op.drop_table("movements")


def downgrade() -> None:
    op.create_table(
        "movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("event_id", URI, nullable=False),
        sa.Column("lot_id", URI, nullable=False),
        sa.Column("place", URI, nullable=False),
        sa.Column("owner", URI, nullable=False),
        sa.Column("delta_g", sa.BigInteger(), nullable=False),
        sa.Column("event_time", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_movements_lot_place", "movements", ["lot_id", "place"])
    op.execute(
        "INSERT INTO movements (event_id, lot_id, place, owner, delta_g, event_time) "
        "SELECT event_id, lot_id, place, owner, delta_g, event_time FROM ("
        "SELECT seq, 0 AS side, event_id, lot_id, from_place AS place, from_owner AS owner, -grams AS delta_g, "
        "event_time FROM event_lots WHERE from_place IS NOT NULL UNION ALL "
        "SELECT seq, 1 AS side, event_id, lot_id, to_place, to_owner, grams, event_time FROM event_lots "
        "WHERE to_place IS NOT NULL) AS moves ORDER BY seq, side, lot_id"
    )
    for name in reversed(MOVES):
        op.drop_column("event_lots", name)
