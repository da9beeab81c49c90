"""Page 4, the company dossier: what the records say of an enterprise (registry, facilities and their
status, licences and their drawdown, alerts and their outcomes, flows by material and month, the risk score
with its components and history, compliance reviews, inspections and findings, corrective actions, training,
monthly reports, a timeline), each part read through the reader's visibility predicate; the supervision
parts come from `web/supervision.py`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, String, cast, func, select

from oretrail.access.caller import Caller
from oretrail.access.scope import (
    alerts_visible,
    declarations_visible,
    enterprises_visible,
    events_visible,
    facilities_visible,
)
from oretrail.alerts.store import message_of
from oretrail.api.deps import reader
from oretrail.storage.schema import alerts, declarations, enterprises, event_lots, events, facilities, lots
from oretrail.web.errors import out_of_sight
from oretrail.web.forms import permitted
from oretrail.web.licences import licence_query
from oretrail.web.paging import paginate
from oretrail.web.render import language, may, page
from oretrail.web.session import PATH, page_caller
from oretrail.web.supervision import dossier_part

router = APIRouter(prefix=PATH, include_in_schema=False)

COLUMNS = {"name": enterprises.c.name, "province": enterprises.c.province, "registered": enterprises.c.registered}
# How a movement of material counts for the enterprise whose facility it happens at.
DIRECTION = {"created": "out", "output": "out", "arrived": "in", "received": "in", "input": "in",
             "shipped": "out", "removed": "out", "exported": "out", "sold": "out"}  # fmt: skip


@router.get("/enterprises")
def enterprise_list(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "registry", request.url.query)
    params = dict(request.query_params)
    q = select(enterprises).where(enterprises_visible(who))
    if params.get("q"):
        q = q.where(enterprises.c.name.contains(params["q"]) | enterprises.c.uscc.contains(params["q"]))
    if params.get("province"):
        q = q.where(enterprises.c.province == params["province"])
    if who.role == "enterprise" and len(who.parties) == 1 and not params:
        from oretrail.web.render import redirect

        return redirect(request, f"{PATH}/enterprises/{who.parties[0]}")
    rows, paging = paginate(conn, q, params, COLUMNS, ("name", "asc"), tiebreak=enterprises.c.party_id)
    provinces = sorted(
        conn.execute(select(enterprises.c.province).where(enterprises_visible(who)).distinct()).scalars()
    )
    return page(request, who, "enterprises.html", title="web.nav.enterprises", active="enterprises", rows=rows,
                paging=paging, provinces=provinces)  # fmt: skip


def flows_of(conn: Connection, who: Caller, places: list[str]) -> list[tuple[str, str, str, int]]:
    """(month, material, in|out, grams) of material at the enterprise's facilities, over visible events."""
    if not places:
        return []
    month = func.substr(cast(events.c.event_time, String), 1, 7)
    q = (
        select(month, lots.c.material, event_lots.c.role, func.sum(event_lots.c.grams))
        .select_from(events)
        .join(event_lots, event_lots.c.seq == events.c.seq)
        .join(lots, lots.c.lot_id == event_lots.c.lot_id)
        .where(events.c.biz_location.in_(places), events.c.retracted.is_(False), events_visible(who))
        .group_by(month, lots.c.material, event_lots.c.role)
    )
    sums: dict[tuple[str, str, str], int] = {}
    for m, material, role, grams in conn.execute(q):
        way = DIRECTION.get(role)
        if way is None or not material:
            continue
        sums[(m, material, way)] = sums.get((m, material, way), 0) + int(grams)
    return sorted((m, mat, way, g) for (m, mat, way), g in sums.items())


@router.get("/enterprises/{party:path}")
def dossier(
    request: Request,
    party: str,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "registry", party)
    row = conn.execute(select(enterprises).where(enterprises.c.party_id == party, enterprises_visible(who))).first()
    if row is None:
        raise out_of_sight(who, "read", "registry", party, thing="enterprise")
    lang = language(request)
    plants = conn.execute(
        select(facilities)
        .where(facilities.c.owner == party, facilities_visible(who))
        .order_by(facilities.c.location_id)
    ).all()
    ctx: dict[str, Any] = {"row": row, "stages": orjson.loads(row.stages), "facilities": plants}
    if may(who, "read", "licence"):
        q, _ = licence_query(who, as_of=_today(), exporter=party)
        from oretrail.storage.schema import licences

        ctx["licences"] = conn.execute(q.order_by(licences.c.valid_to.desc()).limit(50)).all()
    if may(who, "read", "alert"):
        found = conn.execute(
            select(alerts)
            .where(alerts.c.party == party, alerts.c.settled_at.is_not(None), alerts_visible(who))
            .order_by(alerts.c.raised_at.desc())
            .limit(50)
        ).all()
        ctx["alerts"] = [{"row": a, "message": message_of(a).render(lang)} for a in found]
        outcomes = conn.execute(
            select(alerts.c.status, func.count())
            .where(alerts.c.party == party, alerts.c.settled_at.is_not(None), alerts_visible(who))
            .group_by(alerts.c.status)
        ).all()
        ctx["outcomes"] = dict(outcomes)
    if may(who, "read", "event"):
        ctx["flows"] = flows_of(conn, who, [p.location_id for p in plants])
    ctx.update(dossier_part(conn, who, party, lang, request.app.state.settings))
    ctx["timeline"] = timeline(conn, who, party, [p.location_id for p in plants], ctx.get("alerts", []), lang)
    ctx["timeline"] = sorted(ctx["timeline"] + supervised_dates(ctx), key=lambda i: i["at"], reverse=True)[:60]
    return page(request, who, "dossier.html", title="web.dossier.title", active="enterprises", **ctx)


def supervised_dates(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Timeline entries of the supervision records the page shows."""
    from datetime import datetime, time

    def at(day: str) -> datetime:
        return datetime.combine(date.fromisoformat(day[:10]), time())

    items: list[dict[str, Any]] = []
    for r in ctx.get("reviews", [])[:10]:
        items.append({"at": at(r["date"]), "kind": "review", "text": f"{r['id']} · {r['score']:g}/100"})
    for r in ctx.get("inspections", [])[:10]:
        items.append({"at": at(r["date"]), "kind": "inspection", "text": r["id"]})
    for r in ctx.get("actions", []):
        if r["closed_on"]:
            items.append({"at": at(r["closed_on"]), "kind": "action_closed", "text": r["id"]})
    for r in ctx.get("trainings", [])[:10]:
        items.append({"at": at(r["date"]), "kind": "training", "text": r["title"]})
    for r in ctx.get("reports", [])[:12]:
        if r["filed_at"] is not None:
            items.append({"at": r["filed_at"], "kind": "report", "text": r["period"]})
    return items


def _today() -> Any:
    from oretrail.clock import utcnow

    return utcnow().date()


def timeline(conn: Connection, who: Caller, party: str, places: list[str], alert_items: list[dict[str, Any]],
             lang: str) -> list[dict[str, Any]]:  # fmt: skip
    """The newest entries of every kind the reader may see, newest first: registration, declarations,
    licences, alerts, and the latest events at the enterprise's facilities."""
    from datetime import datetime, time

    items: list[dict[str, Any]] = []
    reg = conn.execute(select(enterprises.c.registered).where(enterprises.c.party_id == party)).scalar()
    if reg is not None:
        items.append({"at": datetime.combine(reg, time()), "kind": "registered", "text": ""})
    if may(who, "read", "declaration"):
        for d in conn.execute(
            select(declarations).where(declarations.c.exporter == party, declarations_visible(who))
            .order_by(declarations.c.date.desc()).limit(15)
        ):  # fmt: skip
            items.append(
                {
                    "at": datetime.combine(d.date, time()),
                    "kind": "declaration",
                    "text": f"{d.declaration_no} · {d.hs_code} → {d.destination}",
                    "grams": d.net_g,
                }
            )
    if may(who, "read", "licence"):
        q, _ = licence_query(who, as_of=_today(), exporter=party)
        from oretrail.storage.schema import licences

        for lic in conn.execute(q.order_by(licences.c.valid_from.desc()).limit(15)):
            items.append(
                {
                    "at": datetime.combine(lic.valid_from, time()),
                    "kind": "licence",
                    "text": f"{lic.licence_no} · {lic.material}",
                    "grams": lic.quantity_g,
                }
            )
    for a in alert_items[:15]:
        items.append({"at": a["row"].raised_at, "kind": "alert", "text": a["message"], "id": a["row"].id})
    if places and may(who, "read", "event"):
        for e in conn.execute(
            select(events.c.event_time, events.c.stage, events.c.biz_step, events.c.event_id)
            .where(events.c.biz_location.in_(places), events_visible(who))
            .order_by(events.c.event_time.desc()).limit(15)
        ):  # fmt: skip
            items.append({"at": e.event_time, "kind": "event", "stage": e.stage, "text": e.biz_step or ""})
    return sorted(items, key=lambda i: i["at"], reverse=True)[:50]
