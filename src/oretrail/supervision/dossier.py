"""A company's dossier: everything the platform knows about one enterprise, as one record with a timeline.

What a provincial officer opens before an inspection, and what the centre reads when a company's score
rises: registry data, facilities with their status history, licences and how far each is drawn down,
controlled flows in and out by material and month, alerts and their outcomes, reviews, inspections,
corrective actions, trainings, monthly reports, the risk score and its history, and flags (exports without
training in the last twelve months). The timeline lists every dated fact, newest first.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from oretrail.alerts.store import message_of
from oretrail.i18n.message import Message
from oretrail.rules.config import Config
from oretrail.rules.facility_status import timeline
from oretrail.rules.monthly_flows import FLOWS, flows
from oretrail.storage.schema import (
    action_closures,
    alerts,
    corrective_actions,
    declarations,
    enterprises,
    facilities,
    facility_statuses,
    inspections,
    licences,
    monthly_reports,
    reviews,
    training_attendance,
    trainings,
)
from oretrail.supervision.score import controlled_exports, history, last_training, today

UNTRAINED = Message(
    "supervision.flag.untrained",
    "exports licence-controlled goods ({count} declaration(s) in the last twelve months) but attended no "
    "training since {since:date}",
)


class NotFound(LookupError):
    pass


NO_ENTERPRISE = Message("dossier.no_enterprise", "no enterprise {party} in the registry")


Rows = list[dict[str, Any]]
Dated = list[dict[str, Any]]  # timeline entries: {date, kind, what}


def facility_part(conn: Connection, party: str, cfg: Config, day: date) -> tuple[Rows, Dated]:
    """Each facility of `party` with its status on `day` and its history up to then."""
    places = select(facilities.c.location_id).where(facilities.c.owner == party)
    hist: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
    for r in conn.execute(select(facility_statuses).where(facility_statuses.c.facility.in_(places))):
        hist[r.facility].append((r.since, r.status, r.inspection_id))
    facs, events = [], []
    for f in conn.execute(select(facilities).where(facilities.c.owner == party).order_by(facilities.c.location_id)):
        spans = timeline(hist.get(f.location_id, []), cfg)
        now = next((s for s in spans if s.start <= day < s.end), spans[-1])
        facs.append({"id": f.location_id, "type": f.type, "province": f.province,
                     "capacity_kg_per_year": f.capacity_kg_per_year, "status": now.status,
                     "status_history": [s.record() for s in spans if s.start <= day]})  # fmt: skip
        for s in spans:
            if s.cause != "never_inspected" and s.start <= day:
                events.append({"date": s.start.isoformat(), "kind": "facility_status",
                               "what": f"{f.location_id}: {s.status} ({s.cause})"})  # fmt: skip
    return facs, events


def review_part(conn: Connection, party: str) -> tuple[Rows, Dated]:
    rev, events = [], []
    for r in conn.execute(select(reviews).where(reviews.c.enterprise == party).order_by(reviews.c.date)):
        levels = {k: v["level"] for k, v in orjson.loads(r.elements).items()}
        rev.append({"id": r.id, "date": r.date.isoformat(), "reviewer": r.reviewer, "template": r.template_version,
                    "score": r.score, "levels": levels})  # fmt: skip
        events.append({"date": r.date.isoformat(), "kind": "review", "what": f"{r.id}: {r.score:g}/100"})
    return rev, events


def inspection_part(conn: Connection, party: str) -> tuple[Rows, Dated]:
    insp, events = [], []
    for r in conn.execute(select(inspections).where(inspections.c.enterprise == party).order_by(inspections.c.date)):
        insp.append({"id": r.id, "date": r.date.isoformat(), "facility": r.facility, "basis": r.basis,
                     "inspector": r.inspector, "items": orjson.loads(r.items), "alerts": orjson.loads(r.alerts),
                     "facility_status": r.facility_status, "plan": r.plan})  # fmt: skip
        events.append({"date": r.date.isoformat(), "kind": "inspection", "what": f"{r.id} ({r.basis})"})
    return insp, events


def action_part(conn: Connection, party: str, day: date) -> tuple[Rows, Dated]:
    """Corrective actions with their deadlines; overdue: open past its due day, or closed after it."""
    acts, events = [], []
    q = (
        select(corrective_actions, action_closures.c.closed_on)
        .outerjoin(action_closures, action_closures.c.action_id == corrective_actions.c.id)
        .where(corrective_actions.c.enterprise == party)
        .order_by(corrective_actions.c.due_on)
    )
    for r in conn.execute(q):
        overdue = (r.closed_on is None and r.due_on < day) or (r.closed_on is not None and r.closed_on > r.due_on)
        acts.append({"id": r.id, "inspection": r.inspection_id, "item": r.item, "text": r.text,
                     "opened_on": r.opened_on.isoformat(), "due_on": r.due_on.isoformat(),
                     "closed_on": r.closed_on and r.closed_on.isoformat(), "overdue": overdue})  # fmt: skip
        if r.closed_on:
            events.append({"date": r.closed_on.isoformat(), "kind": "action_closed", "what": r.id})
    return acts, events


def training_part(conn: Connection, party: str, lang: str) -> tuple[Rows, Dated]:
    trn, events = [], []
    q = (
        select(trainings, training_attendance.c.attendees)
        .join(training_attendance, training_attendance.c.training_id == trainings.c.id)
        .where(training_attendance.c.enterprise == party)
        .order_by(trainings.c.date)
    )
    for r in conn.execute(q):
        title = orjson.loads(r.title)
        trn.append({"id": r.id, "date": r.date.isoformat(), "topic": r.topic, "attendees": r.attendees,
                    "title": title.get(lang) or next(iter(title.values()))})  # fmt: skip
        events.append({"date": r.date.isoformat(), "kind": "training", "what": r.id})
    return trn, events


def report_part(conn: Connection, party: str) -> tuple[Rows, Dated]:
    reps, events = [], []
    for r in conn.execute(select(monthly_reports).where(monthly_reports.c.enterprise == party)
                          .order_by(monthly_reports.c.period)):  # fmt: skip
        reps.append({"period": r.period, "filed_at": r.filed_at.isoformat(timespec="seconds") + "Z",
                     "lines": orjson.loads(r.lines)})  # fmt: skip
        events.append({"date": r.filed_at.date().isoformat(), "kind": "report", "what": r.period})
    return reps, events


def flag_part(conn: Connection, party: str, day: date, catalogue: Any, lang: str) -> Rows:
    """Exports of licence-controlled goods without training in the last twelve months."""
    year_ago = day - timedelta(days=365)
    exported = controlled_exports(conn, party, year_ago, day, catalogue)
    trained = last_training(conn, party, day)
    if exported and (trained is None or trained < year_ago):
        return [{"flag": "untrained", "message": UNTRAINED(count=len(exported), since=year_ago.isoformat())
                 .render(lang)}]  # fmt: skip
    return []


def dossier(conn: Connection, party: str, cfg: Config, catalogue: Any, lang: str = "en") -> dict[str, Any]:
    ent = conn.execute(select(enterprises).where(enterprises.c.party_id == party)).first()
    if ent is None:
        raise NotFound(NO_ENTERPRISE(party=party))
    day = today(conn)
    facs, events = facility_part(conn, party, cfg, day)  # events: the timeline

    drawn = dict(conn.execute(select(declarations.c.licence_no, func.sum(declarations.c.net_g)).where(
        declarations.c.exporter == party, declarations.c.licence_no.is_not(None)).group_by(
        declarations.c.licence_no)).all())  # fmt: skip
    lic = []
    for r in conn.execute(select(licences).where(licences.c.exporter == party).order_by(licences.c.valid_from)):
        used = int(drawn.get(r.licence_no) or 0)
        lic.append({"licence_no": r.licence_no, "material": r.material, "hs_code": r.hs_code,
                    "destination": r.destination, "consignee": r.consignee, "status": r.status,
                    "valid_from": r.valid_from.isoformat(), "valid_to": r.valid_to.isoformat(),
                    "quantity_kg": r.quantity_g / 1000, "drawn_kg": used / 1000,
                    "drawn_share": round(used / r.quantity_g, 3) if r.quantity_g else None})  # fmt: skip
        events.append({"date": r.valid_from.isoformat(), "kind": "licence", "what": f"{r.licence_no} ({r.status})"})

    flow_rows = []
    for (_, period), materials in sorted(flows(conn, [party]).items()):
        for material, figures in materials.items():
            flow_rows.append({"period": period, "material": material,
                              **{f"{f}_kg": figures.get(f, 0) / 1000 for f in FLOWS}})  # fmt: skip

    alert_rows = []
    for r in conn.execute(select(alerts).where(alerts.c.party == party).order_by(alerts.c.raised_at.desc())):
        alert_rows.append({"id": r.id, "rule": r.rule, "severity": r.severity, "status": r.status,
                           "settled": r.settled_at is not None, "withdrawn": r.withdrawn_at is not None,
                           "raised_at": r.raised_at.isoformat(timespec="seconds") + "Z",
                           "message": message_of(r).render(lang)})  # fmt: skip
        events.append({"date": r.raised_at.date().isoformat(), "kind": "alert", "what": f"{r.rule} ({r.status})"})

    rev, more = review_part(conn, party)
    events += more
    insp, more = inspection_part(conn, party)
    events += more
    acts, more = action_part(conn, party, day)
    events += more
    trn, more = training_part(conn, party, lang)
    events += more
    reps, more = report_part(conn, party)
    events += more
    flags = flag_part(conn, party, day, catalogue, lang)

    scores = history(conn, party, lang)
    events.sort(key=lambda e: (e["date"], e["kind"]), reverse=True)
    return {
        "enterprise": {"id": ent.party_id, "uscc": ent.uscc, "name": ent.name, "province": ent.province,
                       "stages": orjson.loads(ent.stages), "registered": ent.registered and ent.registered.isoformat()},
        "as_of": day.isoformat(),
        "facilities": facs,
        "licences": lic,
        "flows": flow_rows,
        "alerts": alert_rows,
        "reviews": rev,
        "inspections": insp,
        "corrective_actions": acts,
        "trainings": trn,
        "reports": reps,
        "risk": scores[-1] if scores else None,
        "risk_history": [{"as_of": s["as_of"], "score": s["score"], "changes": s["changes"]} for s in scores],
        "flags": flags,
        "timeline": events,
    }  # fmt: skip
