"""An enterprise's flows of each material in a month, as the ledger's projections show them, and the clock
the supervision rules judge deadlines by.

The monthly report (feed `reports`) states the same figures from the enterprise's books; the rule
`supervision.report_mismatch` compares the two, and the platform prefills a report from these (so an honest
enterprise files exactly what its own events say). Flows are counted at the enterprise's registered
facilities (the registry's `facilities.owner`), per material, in kilograms as integer grams:

- produced: lots created there (mining) or put out by a transformation there;
- received: shipments received there;
- consumed: lots put into a transformation there;
- shipped: shipments dispatched from there;
- exported: lots that left the country under a customs declaration while the enterprise owned them.

Months are Beijing months (UTC+8): an enterprise closes its books in local time, and an event at 01:00 on
the 1st belongs to the new month there, not to the old one as in UTC.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import Connection, func, literal, or_, select, union_all

from oretrail.rules.portable import BEIJING, local_month
from oretrail.storage.schema import (
    action_closures,
    event_lots,
    events,
    facilities,
    inspections,
    lots,
    monthly_reports,
)

FLOWS = ("produced", "received", "consumed", "shipped", "exported")


def beijing(moment: datetime) -> datetime:
    """Stored times are naive UTC; deadlines and months are Beijing time."""
    return moment + BEIJING


def period_of(moment: datetime) -> str:
    return f"{beijing(moment):%Y%m}"


def next_month(period: str) -> str:
    year, month = int(period[:4]), int(period[4:])
    return f"{year + month // 12:04d}{month % 12 + 1:02d}"


def due_date(period: str, due_day: int) -> date:
    """The last day (Beijing) on which the report of `period` is on time."""
    following = next_month(period)
    return date(int(following[:4]), int(following[4:]), due_day)


def month_start(period: str) -> datetime:
    """The first instant of a Beijing month, as naive UTC."""
    return datetime(int(period[:4]), int(period[4:]), 1) - BEIJING


def clock(conn: Connection) -> datetime | None:
    """The supervision clock: the newest time the platform knows of, among live events, reports filed,
    inspections made and corrective actions closed (naive UTC). Never the wall clock: judging an archive, or
    replaying after an outage, must come out the same on any day it is run."""
    times: list[datetime] = []
    newest_event = conn.execute(select(func.max(events.c.event_time)).where(events.c.retracted.is_(False))).scalar()
    filed = conn.execute(select(func.max(monthly_reports.c.filed_at))).scalar()
    times += [t for t in (newest_event, filed) if t is not None]
    for column in (inspections.c.date, action_closures.c.closed_on):
        day = conn.execute(select(func.max(column))).scalar()
        if day is not None:
            times.append(datetime.combine(day, datetime.min.time()) - BEIJING)
    return max(times) if times else None


def flows(
    conn: Connection, enterprises: list[str] | None = None, periods: list[str] | None = None
) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
    """{(enterprise, period): {material: {flow: grams}}} for the enterprises (None: all) and Beijing months
    (None: all). Lots of unknown material (never created on record) are left out: no one can report what
    the ledger cannot name."""
    el, f = event_lots.c, facilities.c
    month = local_month(conn.dialect.name, el.event_time).label("period")
    site = facilities.alias("site")  # not `at`: a keyword in DuckDB
    parts = []
    for flow, roles, place in (
        ("produced", ("created", "output"), el.to_place),
        ("received", ("received",), el.to_place),
        ("consumed", ("input",), el.from_place),
        ("shipped", ("shipped",), el.from_place),
    ):
        q = (
            select(site.c.owner.label("enterprise"), month, lots.c.material, literal(flow).label("flow"), el.grams)
            .join(site, site.c.location_id == place)
            .join(lots, lots.c.lot_id == el.lot_id)
            .where(el.role.in_(roles))
        )
        if enterprises is not None:
            q = q.where(site.c.owner.in_(enterprises))
        parts.append(q)
    exported = (
        select(el.from_owner.label("enterprise"), month, lots.c.material, literal("exported").label("flow"), el.grams)
        .join(lots, lots.c.lot_id == el.lot_id)
        .where(el.role == "exported", el.from_owner.in_(select(f.owner)))
    )
    if enterprises is not None:
        exported = exported.where(el.from_owner.in_(enterprises))
    parts.append(exported)
    rows = union_all(*parts).subquery("flows")
    q = select(rows.c.enterprise, rows.c.period, rows.c.material, rows.c.flow, func.sum(rows.c.grams)).group_by(
        rows.c.enterprise, rows.c.period, rows.c.material, rows.c.flow
    )
    q = q.where(rows.c.material.is_not(None))
    if periods is not None:
        q = q.where(or_(*[rows.c.period == p for p in periods]))
    out: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for enterprise, period, material, flow, grams in conn.execute(q):
        out[(enterprise, period)][material][flow] = int(grams)
    return {k: {m: dict(v) for m, v in sorted(d.items())} for k, d in sorted(out.items())}
