"""supervision.report_mismatch: a month's report disagrees with the ledger beyond tolerance.

The report and the EPCIS events come from the same weighings at the same facilities, so the figures must
agree up to rounding: a report that shows less exported, or more consumed, than the events is how output
is kept off the books (or how the books are kept off the platform). Every (material, flow) either side
names is compared; it disagrees when the difference exceeds both the relative and the absolute tolerance
(rules/defaults.toml [supervision]). One finding per enterprise and month, listing every line that
disagrees; what is at stake is the largest difference.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.monthly_flows import FLOWS, flows, month_start
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import SUPERVISED, scope_ids
from oretrail.storage.schema import monthly_reports

RULE = "supervision.report_mismatch"
SAID = Message(
    RULE,
    "{party}'s report for {period:month} disagrees with its own events in {count} figure(s): {lines:semi}.",
)
LINE = Message(f"{RULE}.line", "{flow} {material}: reported {reported:kg}, events {ledger:kg}")
FLOW_WORDS = {
    "produced": Message("supervision.flow.produced", "produced"),
    "received": Message("supervision.flow.received", "received"),
    "consumed": Message("supervision.flow.consumed", "consumed"),
    "shipped": Message("supervision.flow.shipped", "shipped"),
    "exported": Message("supervision.flow.exported", "exported"),
}
SCOPE_KIND = SUPERVISED


def find(ctx: Context) -> list[Finding]:
    q = select(monthly_reports)
    if ctx.scoped:
        q = q.where(monthly_reports.c.enterprise.in_(scope_ids(SCOPE_KIND)))
    reports = ctx.conn.execute(q.order_by(monthly_reports.c.enterprise, monthly_reports.c.period)).all()
    if not reports:
        return []
    ledger = ctx.shared(flows)  # every enterprise's months, read once for this rule and late_report
    pct, kg = ctx.config.report_tolerance_pct / 100, ctx.config.report_tolerance_kg * 1000
    out = []
    for r in reports:
        reported: dict[str, dict[str, int]] = {
            line["material"]: {f: int(line.get(f"{f}_g", 0)) for f in FLOWS} for line in orjson.loads(r.lines)
        }
        booked = ledger.get((r.enterprise, r.period), {})
        bad = []
        for material in sorted(set(reported) | set(booked)):
            for flow in FLOWS:
                said_g = reported.get(material, {}).get(flow, 0)
                true_g = booked.get(material, {}).get(flow, 0)
                diff = abs(said_g - true_g)
                if diff > pct * max(said_g, true_g) and diff > kg:
                    bad.append((material, flow, said_g, true_g, diff))
        if not bad:
            continue
        worst = max(bad, key=lambda b: b[4])
        out.append(
            Finding(
                rule=RULE,
                subject_kind="enterprise",
                subject_id=r.enterprise,
                message=SAID(
                    party=r.enterprise,
                    period=r.period,
                    count=len(bad),
                    lines=[LINE(flow=FLOW_WORDS[f](), material=m, reported=s, ledger=t) for m, f, s, t, _ in bad[:10]],
                ),
                evidence=(f"report:{r.enterprise}:{r.period}",),
                details={
                    "period": r.period,
                    "lines": [{"material": m, "flow": f, "reported_g": s, "ledger_g": t} for m, f, s, t, _ in bad],
                },
                key=r.period,
                party=r.enterprise,
                material=worst[0],
                stake_g=worst[4],
                controlled=ctx.is_controlled_material(worst[0]),
                anchor=month_start(r.period),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("industry", "commerce"),
    settling=Settling.REPORT,
    title="a monthly report disagrees with the enterprise's own events beyond tolerance",
    check="Compare the report line by line with the events the platform prefills; ask which is wrong, and "
    "have the enterprise correct its events (errorDeclaration) or file a corrected report.",
    thresholds=("supervision.report_tolerance_pct", "supervision.report_tolerance_kg"),
    rejudged_by=("reports",),
)
