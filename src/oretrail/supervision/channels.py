"""Customs channels for export declarations of controlled material, in the ASYCUDA selectivity order.

red: physical inspection; yellow: documents; blue: release, audited after clearance; green: release.
A declaration's risk (0-100) is the highest of the points of the alerts on it and on the lots it carried
and of the worst status of the facilities those lots (and every lot they were made from) came from, plus a
share of the exporter's risk score (policy.toml [channels]). Lanes by risk thresholds first; then a minimum
random share per lane (a uniform draw per declaration from the seed and its number, so a declaration's draw
does not depend on which others are channelled with it); then lanes below their expected rate are topped up
from would-be-green declarations, drawn at random. Random and top-up selections are labelled as such; every
channel is recorded with its reasons for customs.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection, select

from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.rules.config import Config
from oretrail.storage.schema import alerts, customs_channels, declarations, exports, genealogy, lots, risk_scores
from oretrail.storage.upsert import upsert
from oretrail.supervision.policy import policy
from oretrail.supervision.score import STATUS_WORDS, facility_status

LANES = ("red", "yellow", "blue", "green")  # most to least control
ALERT = Message("channel.alert", "{rule} alert ({severity:term}) on {subject}: {points:g} point(s)")
EXPORTER = Message("channel.exporter", "exporter's risk score {score:g} × {share:g}: {points:g} point(s)")
FACILITY = Message("channel.facility", "lots from {facility}, {status} on {day:date}: {points:g} point(s)")
RANDOM = Message("channel.random", "selected at random for the {lane} lane (minimum random share {share:pct})")
TOP_UP = Message("channel.top_up", "topped up at random to the {lane} lane's expected rate of {rate:pct}")
LANE_WORDS = {lane: Message(f"channel.lane.{lane}", lane) for lane in LANES}


@dataclass
class Channelled:
    declaration_no: str
    risk: float
    lane: str
    selection: str  # risk | random | top_up | none
    reasons: list[Said]

    def record(self, lang: str = "en") -> dict[str, Any]:
        return {"declaration_no": self.declaration_no, "channel": self.lane, "selection": self.selection,
                "risk": round(self.risk, 1), "reasons": [r.render(lang) for r in self.reasons]}  # fmt: skip


def draw(seed: int, *parts: str) -> float:
    """A uniform number in [0, 1) from the seed and the parts: reproducible, independent per declaration."""
    digest = hashlib.sha256("\x1f".join((str(seed), *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _lane_of(risk: float, thresholds: dict[str, float]) -> str:
    for lane in ("red", "yellow", "blue"):
        if risk >= thresholds[lane]:
            return lane
    return "green"


def risks(conn: Connection, cfg: Config, numbers: Sequence[str]) -> dict[str, tuple[float, list[Said]]]:
    """Each declaration's risk and the reasons that make it up."""
    ch = policy()["channels"]
    wanted = sorted(set(numbers))
    decl = {r.declaration_no: r for r in conn.execute(select(declarations).where(
        declarations.c.declaration_no.in_(wanted)))} if wanted else {}  # fmt: skip
    lots_of: dict[str, set[str]] = defaultdict(set)
    for no, lot in conn.execute(select(exports.c.declaration_no, exports.c.lot_id).where(
            exports.c.declaration_no.in_(wanted))):  # fmt: skip
        lots_of[no].add(lot)
    parents: dict[str, set[str]] = defaultdict(set)
    for out_lot, in_lot in conn.execute(select(genealogy.c.output_lot, genealogy.c.input_lot)):
        parents[out_lot].add(in_lot)
    made_at = dict(conn.execute(select(lots.c.lot_id, lots.c.created_location)).all())
    standing = (alerts.c.withdrawn_at.is_(None),)
    by_subject: dict[str, list[Any]] = defaultdict(list)
    for r in conn.execute(select(alerts.c.rule, alerts.c.severity, alerts.c.subject_id).where(*standing,
                          alerts.c.subject_kind.in_(("declaration", "lot")))):  # fmt: skip
        by_subject[r.subject_id].append(r)
    score_of: dict[str, float] = {}
    for score_row in conn.execute(select(risk_scores.c.enterprise, risk_scores.c.score).order_by(risk_scores.c.as_of)):
        score_of[score_row.enterprise] = float(score_row.score)  # the newest wins
    out: dict[str, tuple[float, list[Said]]] = {}
    for no in wanted:
        d = decl.get(no)
        if d is None:
            continue
        reasons: list[tuple[float, Said]] = []
        ancestry: set[str] = set()
        todo = list(lots_of.get(no, ()))
        while todo:
            lot = todo.pop()
            if lot not in ancestry:
                ancestry.add(lot)
                todo.extend(parents.get(lot, ()))
        for subject in [no, *sorted(lots_of.get(no, ()))]:
            for a in by_subject.get(subject, ()):
                pts = float(ch["alert_points"].get(a.severity, 0))
                reasons.append((pts, ALERT(rule=a.rule, severity=a.severity, subject=subject, points=pts)))
        places = sorted({made_at[lot] for lot in ancestry if made_at.get(lot)})
        for place, status in facility_status(conn, cfg, places, d.date).items():
            pts = float(ch["facility_points"][status])
            if pts:
                reasons.append((pts, FACILITY(facility=place, status=STATUS_WORDS[status](), day=d.date.isoformat(),
                                              points=pts)))  # fmt: skip
        base = max((p for p, _ in reasons), default=0.0)
        exporter = score_of.get(d.exporter)
        extra = 0.0
        said = [s for _, s in sorted(reasons, key=lambda r: -r[0])]
        if exporter is not None:
            share = float(ch["exporter_share"])
            extra = exporter * share
            said.append(EXPORTER(score=exporter, share=share, points=round(extra, 1)))
        out[no] = (min(100.0, base + extra), said)
    return out


def assign(
    conn: Connection, cfg: Config, numbers: Sequence[str], seed: int = 0, *, controlled: set[str] | None = None
) -> list[Channelled]:
    """Channel the declarations `numbers` (their risks read now) and record each channel with its reasons.
    `controlled`: the numbers that are of controlled material (only they are channelled); None: all."""
    ch = policy()["channels"]
    chosen = [n for n in sorted(set(numbers)) if controlled is None or n in controlled]
    risk = risks(conn, cfg, chosen)
    out: list[Channelled] = []
    for no in chosen:
        if no not in risk:
            continue
        r, reasons = risk[no]
        lane = _lane_of(r, ch["thresholds"])
        got = Channelled(no, r, lane, "risk" if lane != "green" else "none", list(reasons))
        u, floor = draw(seed, "random", no), 0.0
        for candidate in ("red", "yellow", "blue"):
            share = float(ch["random"][candidate])
            if floor <= u < floor + share and LANES.index(candidate) < LANES.index(got.lane):
                got.lane, got.selection = candidate, "random"
                got.reasons.append(RANDOM(lane=LANE_WORDS[candidate](), share=share))
            floor += share
        out.append(got)
    n = len(out)
    for lane in ("red", "yellow", "blue"):
        rate = float(ch["expected"][lane])
        missing = math.ceil(rate * n - 1e-9) - sum(1 for c in out if c.lane == lane)
        if missing <= 0:
            continue
        greens = sorted(
            (c for c in out if c.lane == "green"), key=lambda c: draw(seed, "top_up", lane, c.declaration_no)
        )
        for c in greens[:missing]:
            c.lane, c.selection = lane, "top_up"
            c.reasons.append(TOP_UP(lane=LANE_WORDS[lane](), rate=rate))
    now = utcnow()
    upsert(conn, customs_channels, [{
        "declaration_no": c.declaration_no, "channel": c.lane, "selection": c.selection, "risk": c.risk,
        "reasons": orjson.dumps([s.to_json() for s in c.reasons]).decode(), "seed": seed, "assigned_at": now,
    } for c in out])  # fmt: skip
    return out


def red_at_rate(risk: dict[str, float], rate: float, seed: int, random_share: float) -> set[str]:
    """The declarations a red lane of `rate` inspects: `random_share` of the lane's places drawn at random,
    the rest the highest risks (ties by a seeded draw). For bench/selectivity.py."""
    n = len(risk)
    places = math.ceil(rate * n - 1e-9)
    n_random = round(places * random_share)
    ranked = sorted(risk, key=lambda no: (-risk[no], draw(seed, "tie", no)))
    by_risk = set(ranked[: places - n_random])
    rest = sorted((no for no in risk if no not in by_risk), key=lambda no: draw(seed, "random", no))
    return by_risk | set(rest[:n_random])


def controlled_numbers(conn: Connection, catalogue: Any, since: date | None = None) -> set[str]:
    """Declarations of controlled material: a licence-controlled HS code, or lots of a licence-controlled
    material exported under them whatever code they were declared under (a misclassified export is the
    first one customs must see)."""
    q = select(declarations.c.declaration_no, declarations.c.hs_code)
    if since is not None:
        q = q.where(declarations.c.date >= since)
    known = dict(conn.execute(q).all())
    found = {no for no, hs in known.items() if catalogue.is_controlled_hs(hs)}
    controlled = [code for code, m in catalogue.materials.items() if m.licence_required]
    q2 = (
        select(exports.c.declaration_no)
        .join(lots, lots.c.lot_id == exports.c.lot_id)
        .where(lots.c.material.in_(controlled))
    )
    found |= {no for no in conn.execute(q2).scalars() if no in known}
    return found


def stored(conn: Connection, number: str, lang: str = "en") -> dict[str, Any] | None:
    r = conn.execute(select(customs_channels).where(customs_channels.c.declaration_no == number)).first()
    if r is None:
        return None
    return {"declaration_no": r.declaration_no, "channel": r.channel, "selection": r.selection,
            "risk": round(r.risk, 1), "seed": r.seed, "assigned_at": r.assigned_at.isoformat(timespec="seconds") + "Z",
            "reasons": [Said.from_json(s).render(lang) for s in orjson.loads(r.reasons)]}  # fmt: skip
