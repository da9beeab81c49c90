"""Events keep their departures from the stage profile, and whether the event itself is on record

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

`off_profile` (JSON {"reading": ..., "departures": [[field, reason], ...]}, NULL for an event that follows
the profile): intake no longer refuses a valid EPCIS event whose shape the stage profile does not foresee;
it stores it, reads it for what it does, and the rule intake.off_profile reports the departures from here.
Staged events stored before this revision were on profile (the others were refused); events without
`ot:stage` that move goods are now departures too, so `oretrail rebuild` fills the column for them.

`original_seq`: the ledger record of the event itself, as sent without an errorDeclaration; NULL while only
its errorDeclaration is on record (the declaration arrived first). Capture reads it to tell a re-send of an
original it already holds from the first arrival of an original whose correction came first, which must be
stored. Filled here with `seq` for events that are not retracted, and from the ledger for retracted ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("original_seq", sa.BigInteger(), nullable=True))
    op.add_column("events", sa.Column("off_profile", sa.Text(), nullable=True))
    op.execute(sa.text("UPDATE events SET original_seq = seq WHERE NOT retracted"))
    # One pass over the ledger, not one per retracted event: the ledger has no index on its key.
    op.execute(
        sa.text(
            "UPDATE events SET original_seq = first.seq FROM ("
            "SELECT key, MIN(seq) AS seq FROM ledger WHERE kind = 'event' "
            "AND body NOT LIKE '%\"errorDeclaration\":%' GROUP BY key) AS first "
            "WHERE first.key = events.event_id AND events.retracted"
        )
    )


def downgrade() -> None:
    op.drop_column("events", "off_profile")
    op.drop_column("events", "original_seq")
