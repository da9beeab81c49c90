"""Page 6, inspections of a province in a month. What the records already allow is here: the facilities of
the province, each with the activity it had that month and the standing alerts concerning its owner, ranked
so that an inspector sees where to look first. The inspection plan (risk-based picks with a random share),
recording an inspection and its findings, and corrective actions with their deadlines are the supervision
work (issue 14): the page keeps marked places for them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, func, select

from oretrail.access.caller import Caller
from oretrail.access.scope import alerts_visible, events_visible, facilities_visible
from oretrail.api.auth import note
from oretrail.api.deps import reader
from oretrail.clock import utcnow
from oretrail.storage.schema import alerts, enterprises, events, facilities
from oretrail.web.alerts import provinces
from oretrail.web.errors import Denied
from oretrail.web.render import may, page
from oretrail.web.session import PATH, page_caller

router = APIRouter(prefix=PATH, include_in_schema=False)
SHOWN = 50


def _month(text: str | None) -> date:
    try:
        return datetime.strptime(text or "", "%Y-%m").date()
    except ValueError:
        today = utcnow().date()
        return date(today.year, today.month, 1)


def _next(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


@router.get("/inspections")
def inspections(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    audit = note(request)
    audit.action, audit.kind, audit.object = "read", "registry", request.url.query
    if who.role == "enterprise" or not may(who, "read", "registry"):
        raise Denied(f"{who.user} ({who.describe()}) may not plan inspections")
    params = dict(request.query_params)
    province = who.province or params.get("province") or "CN-JX"
    first = _month(params.get("month"))
    end = _next(first)
    start_t, end_t = datetime.combine(first, datetime.min.time()), datetime.combine(end, datetime.min.time())
    activity = (
        select(events.c.biz_location.label("place"), func.count().label("events"))
        .where(events.c.event_time >= start_t, events.c.event_time < end_t, events_visible(who))
        .group_by(events.c.biz_location)
        .subquery()
        if may(who, "read", "event")
        else None
    )
    cols: list[Any] = [facilities, enterprises.c.name]
    q = (
        select(*cols)
        .outerjoin(enterprises, enterprises.c.party_id == facilities.c.owner)
        .where(facilities.c.province == province, facilities_visible(who))
    )
    if activity is not None:
        q = q.add_columns(func.coalesce(activity.c.events, 0).label("events")).outerjoin(
            activity, activity.c.place == facilities.c.location_id
        )
    rows = conn.execute(q).all()
    open_alerts: dict[str, int] = {}
    if may(who, "read", "alert"):
        open_alerts = dict(
            conn.execute(
                select(alerts.c.party, func.count())
                .where(
                    alerts.c.jurisdiction == province, alerts.c.party.is_not(None), alerts.c.settled_at.is_not(None),
                    alerts.c.withdrawn_at.is_(None), alerts.c.status.in_(("new", "assigned", "investigating")),
                    alerts_visible(who),
                )
                .group_by(alerts.c.party)
            ).all()
        )  # fmt: skip
    ranked = sorted(
        rows, key=lambda r: (-open_alerts.get(r.owner, 0), -int(getattr(r, "events", 0) or 0), r.location_id)
    )
    return page(
        request, who, "inspections.html", title="web.nav.inspections", active="inspections",
        rows=ranked[:SHOWN], total=len(rows), open_alerts=open_alerts, province=province, month=first,
        provinces=provinces(), fixed_province=who.province is not None, with_events=activity is not None,
    )  # fmt: skip
