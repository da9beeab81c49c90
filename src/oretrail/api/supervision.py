"""Supervision over HTTP: dossiers, risk scores, reviews, inspections, corrective actions, trainings,
guidance, inspection plans, monthly reports and their prefill, facility status, customs channels.

Records arrive through the feeds (`POST /capture/supervision`, `POST /capture/reports`, checked record by
record against the caller's permissions); these routes read and compute. Each asks the permission table
(kinds `supervision` and `report`): an enterprise sees its own reviews, findings, actions, trainings,
guidance, reports and dossier; officers their province. Errors are `application/problem+json`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, select

from oretrail.access.caller import Caller
from oretrail.access.scope import declarations_visible, supervised_visible, unconstrained
from oretrail.api.auth import NOT_FOUND, Problem, Words, note, out_of_sight, permit, refuse, unseen
from oretrail.api.deps import engine, lang, reader
from oretrail.i18n.message import Message
from oretrail.storage.schema import declarations, enterprises, facilities

router = APIRouter(tags=["supervision"])


INVALID = Message("problem.title.invalid", "Invalid request")
NO_GUIDANCE = Message("supervision.no_guidance", "no guidance document {id}")
NOT_A_PROVINCE = Message("supervision.not_a_province", "{province} is not an ISO 3166-2 province of China")
NO_CHANNEL = Message("supervision.no_channel", "declaration {id} has no channel (POST /customs/channels)")
NOT_REGISTERED = Message("supervision.not_registered", "no enterprise {party} in the registry")
NOT_SUPERVISED = Message(
    "supervision.not_supervised", "{party} is not among the enterprises whose {kind} records {user} may read"
)
PLANS_IN = Message("supervision.plans_in", "{user} plans and scores in {provinces:or} only")
NO_PROVINCE = Message("supervision.no_province", "no province")


def not_found(detail: Words) -> Problem:
    return Problem(404, "not-found", NOT_FOUND, detail)


def bad_request(detail: Words) -> Problem:
    return Problem(422, "invalid", INVALID, detail)


def _enterprise(request: Request, conn: Connection, who: Caller, party: str, kind: str = "supervision") -> None:
    """403 when the caller may not see `party`'s records of `kind`; 404 when it is not registered (only said
    to callers who see every enterprise, so ids cannot be probed)."""
    visible = supervised_visible(who, enterprises.c.party_id, kind=kind)
    found = conn.execute(select(enterprises.c.party_id).where(enterprises.c.party_id == party, visible)).first()
    note(request).object = party
    if found is None:
        denied = NOT_SUPERVISED(party=party, kind=kind, user=who.user)
        raise out_of_sight(request, who, "read", kind, NOT_REGISTERED(party=party), denied)


# --- responses ----------------------------------------------------------------------------------------
class ComponentOut(BaseModel):
    component: str
    value: float = Field(description="0 (no risk shown) to 1")
    weight: float = Field(description="points out of 100 (policy.toml [score.weights])")
    points: float
    basis: str = Field(description="the facts the value rests on, in the reader's language")


class ScoreOut(BaseModel):
    as_of: str
    score: float
    policy: str
    components: list[ComponentOut]
    changes: list[dict[str, Any]] = Field(description="components whose points moved since the score before")


class RiskOut(BaseModel):
    enterprise: str
    history: list[ScoreOut]


class RankedOut(BaseModel):
    enterprise: str
    score: float
    components: list[ComponentOut]


class DossierOut(BaseModel):
    enterprise: dict[str, Any]
    as_of: str
    facilities: list[dict[str, Any]]
    licences: list[dict[str, Any]]
    flows: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    inspections: list[dict[str, Any]]
    corrective_actions: list[dict[str, Any]]
    trainings: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    risk: dict[str, Any] | None
    risk_history: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


class ReviewOut(BaseModel):
    id: str
    enterprise: str
    reviewer: str
    date: str
    template: str
    score: float
    method: str
    elements: list[dict[str, Any]]
    guidance: list[dict[str, Any]] = Field(description="improvements and guidance documents per weak element")
    previous: dict[str, Any] | None
    score_change: float | None


class PlanIn(BaseModel):
    province: str
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    capacity: int = Field(ge=1, le=10_000, description="inspections the province can make that month")
    seed: int = 0


class PickOut(BaseModel):
    enterprise: str
    basis: str = Field(description="risk | random")
    score: float
    reasons: list[dict[str, Any]]


class PlanOut(BaseModel):
    id: str
    province: str
    month: str
    capacity: int
    seed: int
    random_share: float
    candidates: int
    picks: list[PickOut]


class ChannelsIn(BaseModel):
    declarations: list[str] | None = Field(None, description="these numbers; default: every controlled one")
    since: date | None = Field(None, description="only declarations dated from this day")
    seed: int = 0


class ChannelOut(BaseModel):
    declaration_no: str
    channel: str = Field(description="red | yellow | blue | green")
    selection: str = Field(description="risk | random | top_up | none")
    risk: float
    reasons: list[str]


class StatusSpanOut(BaseModel):
    status: str
    from_: str = Field(alias="from")
    until: str | None
    cause: str
    inspection: str | None


class FacilityStatusOut(BaseModel):
    facility: str
    status: str
    history: list[dict[str, Any]]


# --- dossier and risk ---------------------------------------------------------------------------------
@router.get("/enterprises/{party}/dossier", summary="Everything known of one enterprise, with a timeline")
def get_dossier(
    request: Request,
    party: str,
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
) -> DossierOut:
    from oretrail.supervision.dossier import dossier

    _enterprise(request, conn, who, party)
    s = request.app.state.settings
    return DossierOut(**dossier(conn, party, s.config, s.catalogue, language))


@router.get("/enterprises/{party}/risk", summary="The enterprise's risk score history, every component explained")
def get_risk(
    request: Request,
    party: str,
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
) -> RiskOut:
    from oretrail.supervision.score import history

    _enterprise(request, conn, who, party)
    return RiskOut(enterprise=party, history=[ScoreOut(**h) for h in history(conn, party, language)])


@router.post("/supervision/scores", summary="Compute and record the risk score of every enterprise (of a province)")
def post_scores(
    request: Request,
    eng: Annotated[Engine, Depends(engine)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("capture", "supervision"))],
    province: str | None = None,
    as_of: date | None = None,
) -> list[RankedOut]:
    from oretrail.supervision.score import score_all

    province = _own_province(request, who, province)
    s = request.app.state.settings
    with eng.begin() as conn:
        scores = score_all(conn, s.config, s.catalogue, as_of, province)
    out = []
    for x in scores:
        comps = [ComponentOut(**c.record(language)) for c in x.components]
        out.append(RankedOut(enterprise=x.enterprise, score=x.score, components=comps))
    return out


def _own_province(request: Request, who: Caller, province: str | None) -> str | None:
    """A province-bound caller acts in their own province only."""
    from oretrail.access.permissions import table

    alternatives = table().constraints(who, "capture", "supervision")
    if alternatives is None:
        return province
    allowed = {p for alt in alternatives for p in alt.get("province", ())}
    if province is None and len(allowed) == 1:
        return next(iter(allowed))
    if province not in allowed:
        raise refuse(request, PLANS_IN(user=who.user, provinces=sorted(allowed) or [NO_PROVINCE()]))
    return province


# --- reviews, template, guidance ------------------------------------------------------------------------
@router.get("/supervision/template", summary="The compliance review template: nine elements, EU and BIS mapping")
def get_template(
    language: Annotated[str, Depends(lang)], _: Annotated[Caller, Depends(permit("read", "supervision"))]
) -> dict[str, Any]:
    from oretrail.supervision.template import template

    return template().record(language)


@router.get("/supervision/guidance", summary="Guidance documents, in the reader's language")
def list_guidance(
    language: Annotated[str, Depends(lang)],
    _: Annotated[Caller, Depends(permit("read", "supervision"))],
    topic: str | None = None,
) -> list[dict[str, str]]:
    from oretrail.supervision.template import guidance

    return [g.record(language) for g in guidance() if topic is None or g.topic == topic]


@router.get("/supervision/guidance/{doc_id}", summary="One guidance document")
def get_guidance(
    doc_id: str, language: Annotated[str, Depends(lang)], _: Annotated[Caller, Depends(permit("read", "supervision"))]
) -> dict[str, str]:
    from oretrail.supervision.template import guidance_doc

    found = guidance_doc(doc_id)
    if found is None:
        raise not_found(NO_GUIDANCE(id=doc_id))
    return found.record(language)


def _listing(request: Request, conn: Connection, who: Caller, table: Any, enterprise: str | None, order: Any,
             kind: str = "supervision") -> list[Any]:  # fmt: skip
    q = select(table).where(supervised_visible(who, table.c.enterprise, kind=kind)).order_by(order)
    if enterprise:
        _enterprise(request, conn, who, enterprise, kind)
        q = q.where(table.c.enterprise == enterprise)
    return list(conn.execute(q))


@router.get("/supervision/reviews", summary="Compliance reviews the caller may read")
def list_reviews(
    request: Request,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
    enterprise: str | None = None,
) -> list[dict[str, Any]]:
    from oretrail.storage.schema import reviews

    rows = _listing(request, conn, who, reviews, enterprise, reviews.c.date)
    return [{"id": r.id, "enterprise": r.enterprise, "date": r.date.isoformat(), "reviewer": r.reviewer,
             "template": r.template_version, "score": r.score} for r in rows]  # fmt: skip


@router.get("/supervision/reviews/{review_id}", summary="A review: levels, score and method, guidance, progress")
def get_review(
    request: Request,
    review_id: str,
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
) -> ReviewOut:
    import orjson

    from oretrail.storage.schema import reviews
    from oretrail.supervision.review import explained

    row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
    if row is None:
        raise out_of_sight(request, who, "read", "supervision", *unseen(who, "read", "review", review_id))
    _enterprise(request, conn, who, row.enterprise)
    before = conn.execute(
        select(reviews).where(reviews.c.enterprise == row.enterprise, reviews.c.date < row.date)
        .order_by(reviews.c.date.desc()).limit(1)
    ).first()  # fmt: skip

    def as_dict(r: Any) -> dict[str, Any]:
        return {**r._mapping, "elements": orjson.loads(r.elements)}

    return ReviewOut(**explained(as_dict(row), as_dict(before) if before else None, language))


@router.get("/supervision/inspections", summary="Inspections with their checklist results")
def list_inspections(
    request: Request,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
    enterprise: str | None = None,
) -> list[dict[str, Any]]:
    import orjson

    from oretrail.storage.schema import inspections

    rows = _listing(request, conn, who, inspections, enterprise, inspections.c.date)
    return [{"id": r.id, "enterprise": r.enterprise, "facility": r.facility, "date": r.date.isoformat(),
             "basis": r.basis, "inspector": r.inspector, "items": orjson.loads(r.items),
             "alerts": orjson.loads(r.alerts), "facility_status": r.facility_status, "plan": r.plan}
            for r in rows]  # fmt: skip


@router.get("/supervision/actions", summary="Corrective actions, with their deadlines and closures")
def list_actions(
    request: Request,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
    enterprise: str | None = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    from oretrail.rules.monthly_flows import beijing, clock
    from oretrail.storage.schema import action_closures, corrective_actions

    a = corrective_actions
    q = (select(a, action_closures.c.closed_on).outerjoin(action_closures, action_closures.c.action_id == a.c.id)
         .where(supervised_visible(who, a.c.enterprise)).order_by(a.c.due_on, a.c.id))  # fmt: skip
    if enterprise:
        _enterprise(request, conn, who, enterprise)
        q = q.where(a.c.enterprise == enterprise)
    now = clock(conn)
    today = beijing(now).date() if now else date.today()
    out = []
    for r in conn.execute(q):
        late = (r.closed_on or today) > r.due_on and (r.closed_on is not None or r.due_on < today)
        if overdue and not late:
            continue
        out.append({"id": r.id, "enterprise": r.enterprise, "inspection": r.inspection_id, "item": r.item,
                    "text": r.text, "opened_on": r.opened_on.isoformat(), "due_on": r.due_on.isoformat(),
                    "closed_on": r.closed_on and r.closed_on.isoformat(), "overdue": late})  # fmt: skip
    return out


@router.get("/supervision/trainings", summary="Training sessions and the caller's visible attendance")
def list_trainings(
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
) -> list[dict[str, Any]]:
    import orjson

    from oretrail.storage.schema import training_attendance, trainings

    t, at = trainings, training_attendance
    q = (select(t, at.c.enterprise, at.c.attendees).join(at, at.c.training_id == t.c.id)
         .where(supervised_visible(who, at.c.enterprise)).order_by(t.c.date, t.c.id, at.c.enterprise))  # fmt: skip
    out: dict[str, dict[str, Any]] = {}
    for r in conn.execute(q):
        title = orjson.loads(r.title)
        entry = out.setdefault(r.id, {"id": r.id, "date": r.date.isoformat(), "province": r.province,
                                      "topic": r.topic, "title": title.get(language) or next(iter(title.values())),
                                      "guidance": orjson.loads(r.guidance), "attendance": []})  # fmt: skip
        entry["attendance"].append({"enterprise": r.enterprise, "attendees": r.attendees})
    return list(out.values())


# --- plans ----------------------------------------------------------------------------------------------
@router.post("/supervision/plans", summary="Plan a month's inspections: by risk, with a minimum random share")
def post_plan(
    request: Request,
    body: PlanIn,
    eng: Annotated[Engine, Depends(engine)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("capture", "supervision"))],
) -> PlanOut:
    from oretrail.registry.provinces import is_cn_province
    from oretrail.supervision.plan import plan_inspections, rendered

    if not is_cn_province(body.province):
        raise bad_request(NOT_A_PROVINCE(province=body.province))
    _own_province(request, who, body.province)
    s = request.app.state.settings
    with eng.begin() as conn:
        plan = plan_inspections(conn, s.config, s.catalogue, body.province, body.month, body.capacity, body.seed)
    note(request).object = plan["id"]
    return PlanOut(**{**plan, "picks": rendered(plan["picks"], language)})


# --- monthly reports ------------------------------------------------------------------------------------
@router.get("/reports", summary="Monthly reports the caller may read")
def list_reports(
    request: Request,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "report"))],
    enterprise: str | None = None,
    period: str | None = Query(None, pattern=r"^\d{4}-?(0[1-9]|1[0-2])$"),
) -> list[dict[str, Any]]:
    import orjson

    from oretrail.storage.schema import monthly_reports as m

    rows = _listing(request, conn, who, m, enterprise, m.c.period, "report")
    wanted = period.replace("-", "") if period else None
    return [{"enterprise": r.enterprise, "period": r.period, "filed_at": r.filed_at.isoformat(timespec="seconds")
             + "Z", "lines": orjson.loads(r.lines)} for r in rows if wanted is None or r.period == wanted]  # fmt: skip


@router.get("/reports/prefill", summary="A month's report as the enterprise's own events give it, ready to file")
def get_prefill(
    request: Request,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "report"))],
    enterprise: str,
    period: str = Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM"),
) -> dict[str, Any]:
    from oretrail.supervision.reports import prefill

    _enterprise(request, conn, who, enterprise, "report")
    return prefill(conn, enterprise, period)


# --- facility status --------------------------------------------------------------------------------------
@router.get("/facilities/{facility}/status", summary="A facility's status today and its history")
def get_facility_status(
    request: Request,
    facility: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "supervision"))],
) -> FacilityStatusOut:
    from oretrail.supervision.facility import status_history

    owner = conn.execute(select(facilities.c.owner).where(facilities.c.location_id == facility)).scalar()
    if owner is None:
        raise out_of_sight(request, who, "read", "supervision", *unseen(who, "read", "facility", facility))
    _enterprise(request, conn, who, owner)
    return FacilityStatusOut(**status_history(conn, request.app.state.settings.config, facility))


# --- customs channels -------------------------------------------------------------------------------------
@router.post("/customs/channels", summary="Assign channels to export declarations of controlled material")
def post_channels(
    request: Request,
    body: ChannelsIn,
    eng: Annotated[Engine, Depends(engine)],
    language: Annotated[str, Depends(lang)],
    _: Annotated[Caller, Depends(permit("capture", "declaration"))],
) -> list[ChannelOut]:
    from oretrail.supervision.channels import assign, controlled_numbers

    s = request.app.state.settings
    with eng.begin() as conn:
        controlled = controlled_numbers(conn, s.catalogue, body.since)
        numbers = body.declarations if body.declarations is not None else sorted(controlled)
        done = assign(conn, s.config, numbers, body.seed, controlled=controlled)
    return [ChannelOut(**c.record(language)) for c in done]


@router.get("/declarations/{declaration_no}/channel", summary="The channel of a declaration, with its reasons")
def get_channel(
    request: Request,
    declaration_no: str,
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "declaration"))],
) -> dict[str, Any]:
    from oretrail.supervision.channels import stored

    seen = conn.execute(select(declarations.c.declaration_no).where(
        declarations.c.declaration_no == declaration_no, declarations_visible(who))).first()  # fmt: skip
    if seen is None and not unconstrained(who, "read", "declaration"):
        raise refuse(request, unseen(who, "read", "declaration", declaration_no)[1])
    found = stored(conn, declaration_no, language)
    if found is None:
        raise not_found(NO_CHANNEL(id=declaration_no))
    return found
