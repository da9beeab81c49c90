"""The alert workflow of the platform: states, levels, sharing, attachments, acknowledgement

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03

The decision log (`alert_actions`) stays the record; `alerts` keeps its fold for queues and access filters:
`status` (new → assigned → investigating → actioned | dismissed), `level` (province | central: escalated
to the centre or not), `handed_to` (the province the centre gave it to), `shared_with` (JSON list of
departments), `acknowledged_at` (the first officer's action; an alert left unacknowledged past its
severity's deadline escalates by itself). Old statuses map: open → new, escalated → new at the centre,
acted → actioned, dismissed stays; `note` entries become `comment`. Attachments are stored once by content
hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("status", sa.String(16), nullable=False, server_default="new"))
    op.add_column("alerts", sa.Column("level", sa.String(8), nullable=False, server_default="province"))
    op.add_column("alerts", sa.Column("handed_to", sa.String(8), nullable=True))
    op.add_column("alerts", sa.Column("shared_with", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("alerts", sa.Column("acknowledged_at", sa.DateTime(), nullable=True))
    op.add_column("alert_actions", sa.Column("province", sa.String(8), nullable=True))
    op.add_column("alert_actions", sa.Column("attachment", sa.String(64), nullable=True))
    op.create_table(
        "attachments",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(), nullable=False),
    )
    op.execute(sa.text("UPDATE alert_actions SET action = 'comment' WHERE action = 'note'"))
    op.execute(sa.text("UPDATE alerts SET level = 'central' WHERE jurisdiction = 'CN'"))
    # The fold of existing logs: later entries win, as `state()` reads them.
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT alert_id, action, actor, department, at FROM alert_actions ORDER BY id")).all()
    fold: dict[str, dict[str, object]] = {}
    for alert_id, action, actor, department, at in rows:
        f = fold.setdefault(alert_id, {"status": "new", "level": None, "shared": [], "ack": None})
        if actor != "oretrail" and f["ack"] is None:
            f["ack"] = at
        if action == "assign" and f["status"] == "new":
            f["status"] = "assigned"
        elif action == "escalate":
            f["level"] = "central"
        elif action == "share" and department and department not in f["shared"]:  # type: ignore[operator]
            f["shared"].append(department)  # type: ignore[attr-defined]
        elif action == "dismiss":
            f["status"] = "dismissed"
        elif action == "act":
            f["status"] = "actioned"
    import orjson

    for alert_id, f in fold.items():
        bind.execute(
            sa.text(
                "UPDATE alerts SET status = :s, shared_with = :w, acknowledged_at = :a"
                + (", level = 'central'" if f["level"] else "")
                + " WHERE id = :i"
            ),
            {"s": f["status"], "w": orjson.dumps(f["shared"]).decode(), "a": f["ack"], "i": alert_id},
        )
    op.create_index("ix_alerts_level_status", "alerts", ["level", "status"])


def downgrade() -> None:
    op.drop_index("ix_alerts_level_status", "alerts")
    op.drop_table("attachments")
    with op.batch_alter_table("alert_actions") as batch:
        batch.drop_column("attachment")
        batch.drop_column("province")
    with op.batch_alter_table("alerts") as batch:
        for column in ("acknowledged_at", "shared_with", "handed_to", "level", "status"):
            batch.drop_column(column)
