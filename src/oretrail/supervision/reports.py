"""The monthly report prefilled from the enterprise's own events: what an honest enterprise files.

The report feed's record shape (records.py `parse_reports`) with the ledger's figures, in kilograms, so an
enterprise reviews and files it rather than keying figures in twice; the figures it files are then compared
with the same ledger (`supervision.report_mismatch`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from oretrail.rules.monthly_flows import FLOWS, flows


def prefill(conn: Connection, enterprise: str, period: str) -> dict[str, Any]:
    """`period` YYYY-MM or YYYYMM."""
    digits = period.replace("-", "")
    found = flows(conn, [enterprise], [digits]).get((enterprise, digits), {})
    lines = [{"material": m, **{f"{f}_kg": figures.get(f, 0) / 1000 for f in FLOWS}} for m, figures in found.items()]
    return {"enterprise": enterprise, "period": f"{digits[:4]}-{digits[4:]}", "lines": lines}
