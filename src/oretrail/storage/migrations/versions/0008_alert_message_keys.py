"""Alerts keep what was found as a message key with parameters, rendered in the reader's language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

Officers read alerts in 简体中文 or English (`Accept-Language`, `--lang`), and an alert is evidence kept for
years, so it is stored as `message_key` + `message_params` (JSON) and rendered when read (i18n/), not as the
finished English of the day it was raised. Alerts raised before this revision keep their English text under
the key `alert.legacy`, whose only parameter is that text.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("message_key", sa.String(96), nullable=False, server_default="alert.legacy"))
    op.add_column("alerts", sa.Column("message_params", sa.Text(), nullable=False, server_default="{}"))
    rows = op.get_bind().execute(sa.text("SELECT id, message FROM alerts")).all()
    if rows:
        import orjson

        op.get_bind().execute(
            sa.text("UPDATE alerts SET message_params = :p WHERE id = :i"),
            [{"i": i, "p": orjson.dumps({"text": m}).decode()} for i, m in rows],
        )
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("message")


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("message", sa.Text(), nullable=False, server_default=""))
    op.drop_column("alerts", "message_params")
    op.drop_column("alerts", "message_key")
