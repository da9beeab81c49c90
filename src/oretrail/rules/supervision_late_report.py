"""supervision.late_report: a month with controlled flows on the ledger was reported late, or not at all.

Enterprises in a controlled chain file the previous month's flows by the 10th (rules/defaults.toml
[supervision] report_due_day, after the rare-earth traceability rules). A month is owed when the ledger shows
the enterprise produced, received, consumed, shipped or exported catalogue material at its facilities in it
(a month without any is not owed: there is nothing to report, and demanding nil returns from every
registered firm would bury the late ones). Missing: the due day has passed by the supervision clock and no
report is on record; late: the report was filed after the due day (Beijing time). One finding per month,
keyed by it; a missing month later filed late stays the same finding.
"""

from __future__ import annotations

from sqlalchemy import select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.monthly_flows import beijing, clock, due_date, flows, month_start
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import SUPERVISED
from oretrail.storage.schema import monthly_reports

RULE = "supervision.late_report"
MISSING = Message(
    RULE,
    "{party} has not filed its report for {period:month}, due by {due:date}; the ledger shows {materials} "
    "material(s) moving at its facilities that month.",
)
LATE = Message(
    f"{RULE}.late",
    "{party} filed its report for {period:month} on {filed:date}, {days} day(s) after it was due ({due:date}).",
)
SCOPE_KIND = SUPERVISED


def find(ctx: Context) -> list[Finding]:
    now = clock(ctx.conn)
    if now is None:
        return []
    today = beijing(now).date()
    owed = ctx.shared(flows)
    filed = {
        (r.enterprise, r.period): r.filed_at
        for r in ctx.conn.execute(
            select(monthly_reports.c.enterprise, monthly_reports.c.period, monthly_reports.c.filed_at)
        )
    }
    scoped: set[str] | None = None
    if ctx.scoped:
        from oretrail.rules.scope import scope_ids

        scoped = set(ctx.conn.execute(scope_ids(SCOPE_KIND)).scalars())
    out = []
    for (party, period), materials in owed.items():
        if scoped is not None and party not in scoped:
            continue
        due = due_date(period, ctx.config.report_due_day)
        at = filed.get((party, period))
        if at is None:
            if today <= due:
                continue
            said = MISSING(party=party, period=period, due=due.isoformat(), materials=len(materials))
            days = (today - due).days
        else:
            local = beijing(at).date()
            if local <= due:
                continue
            days = (local - due).days
            said = LATE(party=party, period=period, due=due.isoformat(), filed=local.isoformat(), days=days)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="enterprise",
                subject_id=party,
                message=said,
                evidence=(f"report:{party}:{period}",),
                details={
                    "period": period,
                    "due": due.isoformat(),
                    "filed_at": at and at.isoformat(),
                    "days_late": days,
                    "materials": sorted(materials),
                },
                key=period,
                party=party,
                anchor=month_start(period),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("industry", "commerce"),
    settling=Settling.IMMEDIATE,
    title="a month with controlled flows was reported late or not at all",
    check="Remind the enterprise of the 10th-day deadline; a repeated lapse counts in its risk score and "
    "calls for an inspection of its records.",
    thresholds=("supervision.report_due_day",),
    rejudged_by=("reports", "supervision"),
)
