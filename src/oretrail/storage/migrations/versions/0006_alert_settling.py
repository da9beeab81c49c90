"""Alerts carry when they settle, when they settled and whether they stand

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

An alert is provisional until the evidence that could clear it has had its chance to arrive
(`settles_at`, from its rule's settling policy); `settled_at` records when it reached the officers' queue.
`withdrawn_at` mirrors the newest system entry of the workflow log (withdraw / reinstate), which stays
the record of truth: a queue query then filters on a column instead of folding the whole log. Existing
alerts were shown to officers before settling existed, so they count as settled when raised, and their
withdrawals are carried over from the log. The (rule, subject) index serves the judging of a scope: the
alerts of a rule whose subjects a batch could change.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("settles_at", "settled_at", "withdrawn_at"):
        op.add_column("alerts", sa.Column(name, sa.DateTime(), nullable=True))
    op.execute("UPDATE alerts SET settles_at = raised_at, settled_at = raised_at")
    op.execute(
        "UPDATE alerts SET withdrawn_at = (SELECT a.at FROM alert_actions a WHERE a.alert_id = alerts.id "
        "AND a.action IN ('withdraw', 'reinstate') ORDER BY a.id DESC LIMIT 1) "
        "WHERE (SELECT a.action FROM alert_actions a WHERE a.alert_id = alerts.id "
        "AND a.action IN ('withdraw', 'reinstate') ORDER BY a.id DESC LIMIT 1) = 'withdraw'"
    )
    op.create_index("ix_alerts_rule_subject", "alerts", ["rule", "subject_id"])
    op.drop_index("ix_alerts_rule", table_name="alerts")


def downgrade() -> None:
    op.create_index("ix_alerts_rule", "alerts", ["rule"])
    op.drop_index("ix_alerts_rule_subject", table_name="alerts")
    for name in ("withdrawn_at", "settled_at", "settles_at"):
        op.drop_column("alerts", name)
