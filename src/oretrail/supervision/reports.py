"""The monthly report prefilled from the enterprise's own events: what an honest enterprise files; and each
month's standing, owed or filed.

The report feed's record shape (records.py `parse_reports`) with the ledger's figures, in kilograms, so an
enterprise reviews and files it rather than keying figures in twice; the figures it files are then compared
with the same ledger (`supervision.report_mismatch`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select

from oretrail.rules.monthly_flows import FLOWS, beijing, due_date, flows
from oretrail.storage.schema import monthly_reports


def prefill(conn: Connection, enterprise: str, period: str) -> dict[str, Any]:
    """`period` YYYY-MM or YYYYMM."""
    digits = period.replace("-", "")
    found = flows(conn, [enterprise], [digits]).get((enterprise, digits), {})
    lines = [{"material": m, **{f"{f}_kg": figures.get(f, 0) / 1000 for f in FLOWS}} for m, figures in found.items()]
    return {"enterprise": enterprise, "period": f"{digits[:4]}-{digits[4:]}", "lines": lines}


def standing(conn: Connection, enterprise: str, due_day: int, today: date) -> list[dict[str, Any]]:
    """Every month the enterprise filed for, or was found not to have filed for (a standing
    `supervision.late_report` alert: the rule has judged that its facilities moved controlled material that
    month), newest first: `on_time`, `late` (filed after the due day, Beijing time), `missing` or `not_due`.
    Read from the reports and the rule's alerts rather than recounting the ledger's flows, which takes
    minutes at national scale."""
    from oretrail.storage.schema import alerts

    filed = dict(
        conn.execute(
            select(monthly_reports.c.period, monthly_reports.c.filed_at).where(
                monthly_reports.c.enterprise == enterprise
            )
        ).all()
    )
    found = conn.execute(
        select(alerts.c.details).where(
            alerts.c.rule == "supervision.late_report", alerts.c.party == enterprise, alerts.c.withdrawn_at.is_(None)
        )
    ).scalars()
    owed = {str(orjson.loads(d).get("period")) for d in found} - {"None"}
    out = []
    for period in sorted(owed | set(filed), reverse=True):
        due = due_date(period, due_day)
        at = filed.get(period)
        if at is None:
            state = "missing" if today > due else "not_due"
        else:
            state = "late" if beijing(at).date() > due else "on_time"
        out.append({"period": period, "due": due, "filed_at": at, "state": state, "owed": period in owed})
    return out
