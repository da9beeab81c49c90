"""An explainable risk score per enterprise: components with documented weights, and its history.

Each component is a value from 0 to 1 with a weight (policy.toml [score.weights], points out of 100); the
score is the sum of value × weight. Every component is kept with its value, weight, points and the facts it
rests on, and every computation is kept (one row per enterprise and day), so an officer can see which
component made a company rise. The enterprise's own supervision alerts (overdue actions, late reports) are
counted in their own components, not again among the alerts.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.rules.config import Config
from oretrail.rules.facility_status import status_on, timeline
from oretrail.rules.monthly_flows import beijing
from oretrail.storage.schema import (
    action_closures,
    alerts,
    corrective_actions,
    declarations,
    enterprises,
    facilities,
    facility_statuses,
    reviews,
    risk_scores,
    training_attendance,
    trainings,
)
from oretrail.storage.upsert import upsert
from oretrail.supervision.policy import policy

COMPONENTS = ("alerts", "review", "volume", "age", "destinations", "overdue_actions", "late_reports", "facility",
              "training")  # fmt: skip
BASIS = {
    "alerts": Message("supervision.score.alerts", "{count} alert(s) in the last year: {points:g} point(s) by "
                      "severity and outcome, full at {full:g}"),
    "review": Message("supervision.score.review", "latest review {review}: score {score:g} of 100"),
    "review.none": Message("supervision.score.review.none", "never reviewed: counted as {value:g}"),
    "volume": Message("supervision.score.volume", "{grams:kg} of licence-controlled goods declared for export in "
                      "the last year"),
    "age": Message("supervision.score.age", "registered {registered:date}, {years:.1f} year(s) ago"),
    "age.unknown": Message("supervision.score.age.unknown", "registration date unknown"),
    "destinations": Message("supervision.score.destinations", "{share:pct} of exported kilograms to high-risk "
                            "destinations ({countries:list})"),
    "overdue_actions": Message("supervision.score.overdue_actions", "{count} corrective action(s) overdue"),
    "late_reports": Message("supervision.score.late_reports", "{count} monthly report(s) late or missing in the "
                            "last year"),
    "facility": Message("supervision.score.facility", "worst facility status: {status}{facility:paren}"),
    "facility.none": Message("supervision.score.facility.none", "no registered facility"),
    "training": Message("supervision.score.training", "exports controlled goods with no training attended since "
                        "{since:date}"),
    "training.ok": Message("supervision.score.training.ok", "trained on {last:date}, or exports no controlled goods"),
}  # fmt: skip
STATUS_WORDS = {
    s: Message(f"supervision.status.{s}", w)
    for s, w in (
        ("green", "green (certified)"),
        ("yellow", "yellow (conditional)"),
        ("red", "red (suspended)"),
        ("blue", "blue (not inspected)"),
    )
}


@dataclass(frozen=True)
class Component:
    name: str
    value: float
    weight: float
    basis: Said

    @property
    def points(self) -> float:
        return round(self.value * self.weight, 2)

    def record(self, lang: str = "en") -> dict[str, Any]:
        return {"component": self.name, "value": round(self.value, 3), "weight": self.weight,
                "points": self.points, "basis": self.basis.render(lang)}  # fmt: skip


@dataclass(frozen=True)
class Score:
    enterprise: str
    as_of: date
    components: tuple[Component, ...]

    @property
    def score(self) -> float:
        return round(sum(c.points for c in self.components), 1)


def _day_start(day: date) -> datetime:
    """The first instant of a Beijing day, as naive UTC."""
    return datetime.combine(day, datetime.min.time()) - timedelta(hours=8)


def facility_status(conn: Connection, cfg: Config, places: list[str], day: date) -> dict[str, str]:
    history: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
    if places:
        q = select(facility_statuses).where(facility_statuses.c.facility.in_(places))
        for r in conn.execute(q):
            history[r.facility].append((r.since, r.status, r.inspection_id))
    return {p: status_on(timeline(history.get(p, []), cfg), day).status for p in places}


def last_trainings(conn: Connection, parties: list[str], before: date) -> dict[str, date]:
    """Each enterprise's latest training attended on or before `before` (absent: none)."""
    q = (
        select(training_attendance.c.enterprise, func.max(trainings.c.date))
        .join(training_attendance, training_attendance.c.training_id == trainings.c.id)
        .where(training_attendance.c.enterprise.in_(parties), trainings.c.date <= before)
        .group_by(training_attendance.c.enterprise)
    )
    return {party: day for party, day in conn.execute(q) if day is not None}


def last_training(conn: Connection, party: str, before: date) -> date | None:
    return last_trainings(conn, [party], before).get(party)


def exports_of(conn: Connection, parties: list[str], since: date, until: date, catalogue: Any) -> dict[str, list[Any]]:
    """Each enterprise's customs declarations of licence-controlled goods from `since` to `until`."""
    q = select(declarations.c.exporter, declarations.c.declaration_no, declarations.c.hs_code, declarations.c.net_g,
               declarations.c.destination).where(declarations.c.exporter.in_(parties), declarations.c.date >= since,
                                                 declarations.c.date <= until)  # fmt: skip
    out: dict[str, list[Any]] = defaultdict(list)
    for r in conn.execute(q):
        if catalogue.is_controlled_hs(r.hs_code):
            out[r.exporter].append(r)
    return out


def controlled_exports(conn: Connection, party: str, since: date, until: date, catalogue: Any) -> list[Any]:
    return exports_of(conn, [party], since, until, catalogue).get(party, [])


def compute(conn: Connection, party: str, day: date, cfg: Config, catalogue: Any) -> Score:
    """The score of `party` as of the Beijing day `day`, from what the database holds."""
    return compute_many(conn, [party], day, cfg, catalogue)[0]


def compute_many(conn: Connection, parties: list[str], day: date, cfg: Config, catalogue: Any) -> list[Score]:
    """The scores of `parties` (in that order) as of the Beijing day `day`: each component read for all of
    them in one statement, so a province's plan asks the database as often as one enterprise's score does."""
    p = policy()
    w = p["score"]["weights"]
    since = day - timedelta(days=int(p["score"]["alerts"]["window_days"]))
    comps: dict[str, list[Component]] = {party: [] for party in parties}

    # alerts
    sev, outc = p["score"]["alerts"]["severity"], p["score"]["alerts"]["outcome"]
    q = select(alerts.c.party, alerts.c.severity, alerts.c.status).where(
        alerts.c.party.in_(parties),
        alerts.c.settled_at.is_not(None),
        alerts.c.withdrawn_at.is_(None),
        ~alerts.c.rule.startswith("supervision."),
        alerts.c.raised_at >= _day_start(since),
        alerts.c.raised_at < _day_start(day + timedelta(days=1)),
    )
    found: dict[str, list[Any]] = defaultdict(list)
    for r in conn.execute(q):
        found[r.party].append(r)
    full = float(p["score"]["alerts"]["full"])
    for party in parties:
        rows = found.get(party, [])
        points = sum(sev.get(r.severity, 1) * outc.get(r.status if r.status in outc else "open", 0.6) for r in rows)
        said = BASIS["alerts"](count=len(rows), points=round(points, 2), full=full)
        comps[party].append(Component("alerts", min(1.0, points / full), w["alerts"], said))

    # review: the latest on or before the day (by date, then id)
    latest: dict[str, Any] = {}
    reviewed = select(reviews.c.enterprise, reviews.c.id, reviews.c.score, reviews.c.date).where(
        reviews.c.enterprise.in_(parties), reviews.c.date <= day
    )
    for rev in conn.execute(reviewed):
        if rev.enterprise not in latest or (rev.date, rev.id) > (
            latest[rev.enterprise].date,
            latest[rev.enterprise].id,
        ):
            latest[rev.enterprise] = rev
    unreviewed = float(p["score"]["review"]["unreviewed"])
    for party in parties:
        if party not in latest:
            comps[party].append(Component("review", unreviewed, w["review"], BASIS["review.none"](value=unreviewed)))
        else:
            r = latest[party]
            comps[party].append(Component("review", 1 - float(r.score) / 100, w["review"],
                                          BASIS["review"](review=r.id, score=float(r.score))))  # fmt: skip

    # volume and destinations, from the customs declarations of controlled goods
    exports = exports_of(conn, parties, since, day, catalogue)
    full_kg = float(p["score"]["volume"]["full_kg"])
    risky = set(p["score"]["destinations"]["high_risk"])
    for party in parties:
        mine = exports.get(party, [])
        grams = sum(int(r.net_g) for r in mine)
        volume = min(1.0, math.log10(1 + grams / 1000) / math.log10(1 + full_kg)) if grams else 0.0
        comps[party].append(Component("volume", volume, w["volume"], BASIS["volume"](grams=grams)))
        to_risky = sum(int(r.net_g) for r in mine if r.destination in risky)
        share = to_risky / grams if grams else 0.0
        countries = sorted({r.destination for r in mine if r.destination in risky})
        value = min(1.0, share / float(p["score"]["destinations"]["full_share"]))
        said = BASIS["destinations"](share=share, countries=countries or ["–"])
        comps[party].append(Component("destinations", value, w["destinations"], said))

    # age
    registered = dict(
        conn.execute(
            select(enterprises.c.party_id, enterprises.c.registered).where(enterprises.c.party_id.in_(parties))
        ).all()
    )
    a = p["score"]["age"]
    for party in parties:
        reg = registered.get(party)
        if reg is None:
            comps[party].append(Component("age", 0.0, w["age"], BASIS["age.unknown"]()))
        else:
            years = (day - reg).days / 365.25
            value = 1.0 if years < a["new_years"] else 0.5 if years < a["young_years"] else 0.0
            comps[party].append(
                Component("age", value, w["age"], BASIS["age"](registered=reg.isoformat(), years=years))
            )

    # overdue corrective actions, as of the day
    overdue_q = (
        select(corrective_actions.c.enterprise, func.count())
        .outerjoin(action_closures, action_closures.c.action_id == corrective_actions.c.id)
        .where(
            corrective_actions.c.enterprise.in_(parties),
            corrective_actions.c.due_on < day,
            (action_closures.c.closed_on.is_(None)) | (action_closures.c.closed_on > day),
        )
        .group_by(corrective_actions.c.enterprise)
    )
    overdue: dict[str, int] = dict(conn.execute(overdue_q).all())
    for party in parties:
        n = int(overdue.get(party, 0))
        comps[party].append(Component("overdue_actions", min(1.0, n / float(p["score"]["deadlines"]["actions_full"])),
                                      w["overdue_actions"], BASIS["overdue_actions"](count=n)))  # fmt: skip

    # late or missing reports, as the rule found them
    late_q = (
        select(alerts.c.party, func.count())
        .where(
            alerts.c.party.in_(parties),
            alerts.c.rule == "supervision.late_report",
            alerts.c.withdrawn_at.is_(None),
            alerts.c.raised_at >= _day_start(since),
        )
        .group_by(alerts.c.party)
    )
    late: dict[str, int] = dict(conn.execute(late_q).all())
    for party in parties:
        n = int(late.get(party, 0))
        comps[party].append(Component("late_reports", min(1.0, n / float(p["score"]["deadlines"]["reports_full"])),
                                      w["late_reports"], BASIS["late_reports"](count=n)))  # fmt: skip

    # facilities
    places: dict[str, list[str]] = defaultdict(list)
    for owner, place in conn.execute(
        select(facilities.c.owner, facilities.c.location_id).where(facilities.c.owner.in_(parties))
    ):
        places[owner].append(place)
    statuses = facility_status(conn, cfg, sorted(f for fs in places.values() for f in fs), day)
    values = p["score"]["facility"]["status"]
    for party in parties:
        if places.get(party):
            worst = max(sorted(places[party]), key=lambda f: values[statuses[f]])
            status = statuses[worst]
            said = BASIS["facility"](status=STATUS_WORDS[status](), facility=worst)
            comps[party].append(Component("facility", float(values[status]), w["facility"], said))
        else:
            comps[party].append(Component("facility", 0.0, w["facility"], BASIS["facility.none"]()))

    # training
    trained_on = last_trainings(conn, parties, day)
    year_ago = day - timedelta(days=365)
    for party in parties:
        trained = trained_on.get(party)
        untrained = bool(exports.get(party)) and (trained is None or trained < year_ago)
        basis = BASIS["training"](since=year_ago.isoformat()) if untrained else BASIS["training.ok"](
            last=(trained or year_ago).isoformat())  # fmt: skip
        comps[party].append(Component("training", 1.0 if untrained else 0.0, w["training"], basis))
    return [Score(party, day, tuple(comps[party])) for party in parties]


def today(conn: Connection) -> date:
    """The day scores are computed for by default: the supervision clock's Beijing day, else the wall clock's."""
    from oretrail.rules.monthly_flows import clock

    now = clock(conn)
    return beijing(now or utcnow()).date()


def record(conn: Connection, scores: list[Score]) -> None:
    computed_at, version = utcnow(), policy()["version"]
    upsert(conn, risk_scores, [{
        "enterprise": s.enterprise, "as_of": s.as_of, "score": s.score,
        "components": orjson.dumps([{"component": c.name, "value": c.value, "weight": c.weight,
                                     "basis": c.basis.to_json()} for c in s.components]).decode(),
        "policy_version": version, "computed_at": computed_at,
    } for s in scores])  # fmt: skip


def score_all(
    conn: Connection, cfg: Config, catalogue: Any, day: date | None = None, province: str | None = None
) -> list[Score]:
    """Compute and record the score of every registered enterprise (of a province), highest first."""
    day = day or today(conn)
    q = select(enterprises.c.party_id).order_by(enterprises.c.party_id)
    if province:
        q = q.where(enterprises.c.province == province)
    out = compute_many(conn, list(conn.execute(q).scalars()), day, cfg, catalogue)
    record(conn, out)
    return sorted(out, key=lambda s: (-s.score, s.enterprise))


def history(conn: Connection, party: str, lang: str = "en") -> list[dict[str, Any]]:
    """Every recorded score of `party`, oldest first, each with its components and what changed since the
    one before (the components whose points moved, largest first): why a company rose."""
    rows = conn.execute(select(risk_scores).where(risk_scores.c.enterprise == party).order_by(risk_scores.c.as_of))
    out: list[dict[str, Any]] = []
    before: dict[str, float] = {}
    for r in rows:
        comps = orjson.loads(r.components)
        shown = []
        for c in comps:
            basis = Said.from_json(c["basis"])
            shown.append({"component": c["component"], "value": round(c["value"], 3), "weight": c["weight"],
                          "points": round(c["value"] * c["weight"], 2), "basis": basis.render(lang)})  # fmt: skip
        now = {c["component"]: c["points"] for c in shown}
        moved = sorted(
            ({"component": k, "change": round(v - before.get(k, 0.0), 2)} for k, v in now.items()
             if before and abs(v - before.get(k, 0.0)) > 1e-9),
            key=lambda m: -abs(m["change"]),
        )  # fmt: skip
        out.append({"as_of": r.as_of.isoformat(), "score": r.score, "policy": r.policy_version,
                    "components": shown, "changes": moved})  # fmt: skip
        before = now
    return out
