"""Page 6, inspections of a province in a month: the month's plan (risk picks with a random share, each with
why it was chosen) and making one; where the records point (facilities with the most open alerts and activity
that month); recording an inspection with its checklist findings, the facility's status and corrective
actions; and the province's corrective actions with their deadlines, overdue marked, closed from here.

A plan is `supervision/plan.py`'s, behind the API's own province check (`api/supervision.py`
`_own_province`); an inspection and a closure are records of the supervision feed, sent through its capture
(`web/supervision.py` `send`), so the permission table and the feed's checks decide as they do over the API.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine, func, select

from oretrail.access.caller import Caller
from oretrail.access.scope import alerts_visible, events_visible, facilities_visible, supervised_visible
from oretrail.api.auth import Problem, note
from oretrail.api.deps import engine, reader
from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.storage.schema import (
    action_closures,
    alerts,
    corrective_actions,
    enterprises,
    events,
    facilities,
    inspection_plans,
)
from oretrail.supervision.records import BASES, MAX_ATTENDEES, RESULTS, SET_STATUSES
from oretrail.supervision.template import guidance
from oretrail.web.alerts import provinces
from oretrail.web.errors import BadInput, Denied, out_of_sight
from oretrail.web.forms import REQUIRED, label, parse_day, parse_month, parse_whole, permitted, posted
from oretrail.web.paging import paginate
from oretrail.web.render import language, may, page, redirect
from oretrail.web.session import PATH, page_caller, same_site
from oretrail.web.supervision import checklist, item_name, send

router = APIRouter(prefix=PATH, include_in_schema=False)
OFFICERS_ONLY = Message("web.refused.officers_only", "{user} ({scope}): inspections are an officers' page; an "
                        "enterprise reads its own inspections and trainings in the portal")  # fmt: skip
NOT_A_PROVINCE = Message("web.invalid.province", "{field}: {value:q} is not a province of China")
NO_ATTENDANCE = Message("web.invalid.attendance", "{field}: give the number of attendees of at least one enterprise")
SHOWN = 50
ACTION_SLOTS = 3  # corrective actions an inspection form offers
ACTION_COLUMNS = {"due": corrective_actions.c.due_on, "opened": corrective_actions.c.opened_on,
                  "enterprise": enterprises.c.name, "id": corrective_actions.c.id}  # fmt: skip


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
    permitted(request, who, "read", "registry", request.url.query)
    if who.role == "enterprise":
        raise Denied(OFFICERS_ONLY(user=who.user, scope=who.scope()))
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
    lang = language(request)
    ctx: dict[str, Any] = {}
    if may(who, "read", "supervision"):
        ctx["plans"] = _plans(conn, who, province, f"{first:%Y-%m}", lang)
        ctx["actions"], ctx["action_paging"] = _actions(conn, who, province, params)
        ctx["may_plan"] = may_plan(request, who, province)
        ctx["may_record"] = ctx["may_plan"]  # the same permission: capture supervision in this province
        if ctx["may_record"]:
            ctx["form"] = _form_choices(conn, who, province, params, lang)
            ctx["guidance"] = [(g.id, g.record(lang)["title"]) for g in guidance()]
            ctx["max_attendees"] = MAX_ATTENDEES
        ctx["item_name"] = lambda item: item_name(item, lang)
    return page(
        request, who, "inspections.html", title="web.nav.inspections", active="inspections",
        rows=ranked[:SHOWN], total=len(rows), open_alerts=open_alerts, province=province, month=first,
        provinces=provinces(), fixed_province=who.province is not None, with_events=activity is not None,
        done=params.get("done"), **ctx,
    )  # fmt: skip


def may_plan(request: Request, who: Caller, province: str) -> bool:
    """The API's check (`_own_province`) as a yes or no, for showing the forms."""
    from oretrail.api.supervision import _own_province

    if not may(who, "capture", "supervision"):
        return False
    audit = note(request)
    reason = audit.reason
    try:
        _own_province(request, who, province)
    except Problem:
        return False
    finally:
        audit.reason = reason  # a form not shown is not a refusal
    return True


def _plans(conn: Connection, who: Caller, province: str, month: str, lang: str) -> list[dict[str, Any]]:
    """The plans made for the province and month, newest first, picks with their reasons in `lang`."""
    from oretrail.supervision.plan import rendered

    p = inspection_plans
    visible = supervised_visible(who, p.c.province, province=p.c.province)
    rows = conn.execute(
        select(p).where(p.c.province == province, p.c.month == month, visible).order_by(p.c.created_at.desc())
    ).all()
    out = []
    for r in rows:
        picks = rendered(orjson.loads(r.picks), lang)
        names = dict(
            conn.execute(
                select(enterprises.c.party_id, enterprises.c.name).where(
                    enterprises.c.party_id.in_([x["enterprise"] for x in picks])
                )
            ).all()
        )
        for x in picks:
            x["name"] = names.get(x["enterprise"], x["enterprise"])
        out.append({"row": r, "picks": picks, "risk": sum(x["basis"] == "risk" for x in picks)})
    return out


def _today(conn: Connection) -> date:
    from oretrail.supervision.score import today

    return today(conn)


def _actions(conn: Connection, who: Caller, province: str, params: dict[str, str]) -> tuple[list[Any], Any]:
    """Corrective actions of the province's enterprises the reader may see: open ones (default), overdue, or
    all; sorted and paged in the database."""
    a, c = corrective_actions, action_closures
    day = _today(conn)
    q = (
        select(a, c.c.closed_on, enterprises.c.name)
        .outerjoin(c, c.c.action_id == a.c.id)
        .join(enterprises, enterprises.c.party_id == a.c.enterprise)
        .where(enterprises.c.province == province, supervised_visible(who, a.c.enterprise))
    )
    shown = params.get("actions", "open")
    if shown == "open":
        q = q.where(c.c.closed_on.is_(None))
    elif shown == "overdue":
        q = q.where(((c.c.closed_on.is_(None)) & (a.c.due_on < day)) | (c.c.closed_on > a.c.due_on))
    rows, paging = paginate(conn, q, params, ACTION_COLUMNS, ("due", "asc"), tiebreak=a.c.id)
    out = []
    for r in rows:
        overdue = (r.closed_on is None and r.due_on < day) or (r.closed_on is not None and r.closed_on > r.due_on)
        out.append({"row": r, "overdue": overdue})
    return out, paging


def _form_choices(conn: Connection, who: Caller, province: str, params: dict[str, str], lang: str) -> dict[str, Any]:
    ents = conn.execute(
        select(enterprises.c.party_id, enterprises.c.name)
        .where(enterprises.c.province == province, supervised_visible(who, enterprises.c.party_id))
        .order_by(enterprises.c.name)
    ).all()
    chosen = params.get("inspect", "")
    places = conn.execute(
        select(facilities.c.location_id, facilities.c.owner, facilities.c.type)
        .where(facilities.c.province == province, facilities_visible(who))
        .order_by(facilities.c.owner, facilities.c.location_id)
    ).all()
    if chosen:
        places = [p for p in places if p.owner == chosen]
    return {
        "enterprises": ents, "facilities": places, "chosen": chosen, "plan": params.get("plan", ""),
        "basis": params.get("basis", "risk"), "bases": BASES, "results": RESULTS, "statuses": SET_STATUSES,
        "items": checklist(lang), "slots": range(ACTION_SLOTS), "today": _today(conn).isoformat(),
    }  # fmt: skip


def _back(province: str, month: str, done: str, anchor: str) -> str:
    from urllib.parse import urlencode

    return f"{PATH}/inspections?{urlencode({'province': province, 'month': month, 'done': done})}#{anchor}"


@router.post("/inspections/plan", dependencies=[Depends(same_site)])
async def make_plan(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    """`POST /supervision/plans` from a form: the same province check, the same planner."""
    from oretrail.api.supervision import _own_province
    from oretrail.registry.provinces import is_cn_province
    from oretrail.supervision.plan import plan_inspections

    form = await posted(request, who, "capture", "supervision")
    province = form.text("province")
    month = parse_month(form.text("month"), label("web.inspections.month"))
    if not is_cn_province(province):
        raise BadInput(NOT_A_PROVINCE(field=label("web.alerts.province"), value=province))
    capacity = parse_whole(form.text("capacity"), label("web.plan.capacity"), 1, 10_000)
    seed = parse_whole(form.text("seed") or "0", label("web.plan.seed"), -(2**31), 2**31 - 1)
    try:
        _own_province(request, who, province)
    except Problem as exc:
        assert isinstance(exc.said, Said)  # the API's PLANS_IN, naming the provinces the officer plans in
        raise Denied(exc.said) from None
    s = request.app.state.settings
    with eng.begin() as conn:
        plan = plan_inspections(conn, s.config, s.catalogue, province, month, capacity, seed)
    form.audit.object = plan["id"]
    return redirect(request, _back(province, month, "planned", "plan"))


@router.post("/inspections/record", dependencies=[Depends(same_site)])
async def record_inspection(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    """An inspection record of the supervision feed, built from the form and sent through its capture."""
    form = await posted(request, who, "capture", "supervision")
    province, month = form.text("province"), form.text("month")
    day = parse_day(form.text("date"), label("web.inspect.date"))
    items = []
    for item, _ in checklist("en"):
        if form.text(f"result.{item}"):
            items.append({"item": item, "result": form.text(f"result.{item}"), "note": form.text(f"note.{item}")})
    ident = f"INSP-{province}-{day:%Y%m%d}-{secrets.token_hex(3)}"
    actions = []
    for n in range(ACTION_SLOTS):
        if not form.text(f"action.{n}.text"):
            continue
        action: dict[str, Any] = {"id": f"{ident}-A{n + 1}", "item": form.text(f"action.{n}.item"),
                                  "text": form.text(f"action.{n}.text")}  # fmt: skip
        if form.text(f"action.{n}.due"):
            action["due"] = form.text(f"action.{n}.due")
        actions.append(action)
    record: dict[str, Any] = {
        "kind": "inspection", "id": ident, "enterprise": form.text("enterprise"), "province": province,
        "inspector": who.user, "date": day.isoformat(), "basis": form.text("basis"), "items": items,
        "actions": actions,
    }  # fmt: skip
    for key in ("facility", "plan", "facility_status"):
        if form.text(key):
            record[key] = form.text(key)
    form.audit.object = ident
    send(eng, who, "supervision", [record], f"web-inspection-{ident}", request.app.state.settings)
    return redirect(request, _back(province, month, "recorded", "actions"))


@router.post("/inspections/actions/{action_id}/close", dependencies=[Depends(same_site)])
async def close_action(
    request: Request,
    action_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    """A closure record of the supervision feed: the permission follows the enterprise of the action."""
    form = await posted(request, who, "capture", "supervision", action_id)
    with eng.connect() as conn:
        known = conn.execute(
            select(corrective_actions.c.id).where(
                corrective_actions.c.id == action_id, supervised_visible(who, corrective_actions.c.enterprise)
            )
        ).first()
    if known is None:
        raise out_of_sight(who, "capture", "supervision", action_id, thing="action")
    day = parse_day(form.text("date"), label("web.action.closed"))
    evidence = [e.strip() for e in form.text("evidence").splitlines() if e.strip()]
    record = {"kind": "closure", "action": action_id, "date": day.isoformat(), "by": who.user, "evidence": evidence}
    send(eng, who, "supervision", [record], f"web-closure-{action_id}", request.app.state.settings)
    return redirect(request, _back(form.text("province"), form.text("month"), "closed", "actions"))


@router.post("/inspections/training", dependencies=[Depends(same_site)])
async def record_training(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    """A training record of the supervision feed: the session (date, topic, title in either or both
    languages, guidance handed out) and how many people of each enterprise attended. The capture decides
    whether this officer may record for the province, as for a file sent to `POST /capture/supervision`."""
    form = await posted(request, who, "capture", "supervision")
    province, month = form.text("province"), form.text("month")
    day = parse_day(form.text("date"), label("web.training.date"))
    topic = form.required("topic", label("web.training.topic"), 32)
    title = {lang: form.text(f"title_{lang}") for lang in ("zh", "en") if form.text(f"title_{lang}")}
    if not title:
        raise BadInput(REQUIRED(field=label("web.training.title")))
    docs = form.texts("guidance")
    attendance = []
    for key in form.form:
        if key.startswith("attend.") and form.text(key) not in ("", "0"):
            party = key.removeprefix("attend.")
            n = parse_whole(form.text(key), label("web.training.attendees_of", enterprise=party), 1, MAX_ATTENDEES)
            attendance.append({"enterprise": party, "attendees": n})
    if not attendance:
        raise BadInput(NO_ATTENDANCE(field=label("web.training.attendance")))
    ident = f"TRN-{province}-{day:%Y%m%d}-{secrets.token_hex(3)}"
    record = {"kind": "training", "id": ident, "date": day.isoformat(), "province": province, "topic": topic,
              "title": title, "guidance": docs, "attendance": attendance}  # fmt: skip
    form.audit.object = ident
    send(eng, who, "supervision", [record], f"web-training-{ident}", request.app.state.settings)
    return redirect(request, _back(province, month, "trained", "training"))
