"""supervision.overdue_action: a corrective action an inspection opened was not closed by its deadline.

An inspection's findings are only as good as their follow-up: RMAP gives a facility 90 days to implement its
corrective action plan (rules/defaults.toml [supervision] action_days), and an action still open after its
deadline is a matter for the provincial commerce department. One finding per action: raised once when the
deadline passes by the supervision clock, and kept when the action is closed late (it was overdue; the
closure date is in the details), so closing it neither hides the lapse nor raises it again.
"""

from __future__ import annotations

from sqlalchemy import select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.monthly_flows import beijing, clock
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import SUPERVISED
from oretrail.storage.schema import action_closures, corrective_actions

RULE = "supervision.overdue_action"
OPEN = Message(
    RULE,
    "Corrective action {action} ({item}) from inspection {inspection} of {opened:date} was due by {due:date} "
    "and is still open, {days} day(s) later.",
)
LATE = Message(
    f"{RULE}.closed_late",
    "Corrective action {action} ({item}) from inspection {inspection} of {opened:date} was due by {due:date} "
    "and was closed only on {closed:date}, {days} day(s) late.",
)
SCOPE_KIND = SUPERVISED


def find(ctx: Context) -> list[Finding]:
    now = clock(ctx.conn)
    if now is None:
        return []
    today = beijing(now).date()
    a, c = corrective_actions.c, action_closures.c
    rows = ctx.conn.execute(
        select(a.id, a.inspection_id, a.enterprise, a.facility, a.item, a.opened_on, a.due_on, c.closed_on)
        .outerjoin(action_closures, c.action_id == a.id)
        .where(ctx.within(SCOPE_KIND, a.enterprise), a.due_on < today)
        .order_by(a.id)
    )
    out = []
    for r in rows:
        if r.closed_on is not None and r.closed_on <= r.due_on:
            continue
        end = r.closed_on or today
        days = (end - r.due_on).days
        params = dict(action=r.id, item=r.item, inspection=r.inspection_id, opened=r.opened_on.isoformat(),
                      due=r.due_on.isoformat(), days=days)  # fmt: skip
        said = OPEN(**params) if r.closed_on is None else LATE(**params, closed=r.closed_on.isoformat())
        out.append(
            Finding(
                rule=RULE,
                subject_kind="enterprise",
                subject_id=r.enterprise,
                message=said,
                evidence=(r.inspection_id, r.id),
                details={
                    "action": r.id,
                    "due_on": r.due_on.isoformat(),
                    "closed_on": r.closed_on and r.closed_on.isoformat(),
                    "days_overdue": days,
                },
                key=r.id,
                location=r.facility,
                party=r.enterprise,
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("commerce", "market_regulation"),
    settling=Settling.IMMEDIATE,
    title="a corrective action from an inspection was not closed by its deadline",
    check="Ask the enterprise for the evidence of the fix; re-inspect, and consider suspending the facility.",
    thresholds=("supervision.action_days",),
    rejudged_by=("supervision",),
)
