"""The signing key's identity recorded, and checkpoints chained to each other and to the key that made them

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

`signing_keys` holds every key that has signed the ledger, in order: the first as it was registered, each
later one with its hand-over (the previous key's signature over the new public key). A checkpoint now names
its key (`key_id`, the SHA-256 of the raw public key) and the checkpoint before it (`prev_seq`), both under
its signature, so a deleted checkpoint row breaks the chain of checkpoints. Rows written before this
migration keep NULL in both and verify as they were signed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("since_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("previous", sa.String(64), nullable=True),
        sa.Column("handover", sa.String(128), nullable=True),
    )
    with op.batch_alter_table("checkpoints") as batch:
        batch.add_column(sa.Column("key_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("prev_seq", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("checkpoints") as batch:
        batch.drop_column("prev_seq")
        batch.drop_column("key_id")
    op.drop_table("signing_keys")
