"""Whom to inspect in a province in a month: mostly by risk, with a minimum random share.

As customs selectivity keeps a random lane, a plan keeps random picks (policy.toml [plan] random_share):
every enterprise has some chance of a visit whatever its score, and the random picks measure whether the
score finds what it should. The number of random picks is the share of the capacity, its fraction settled
by the seeded draw (so over many plans the share is exactly honoured, and no plan has fewer than its whole
part); risk picks are the highest scores (ties by party id), random picks are drawn from the rest. The same
(province, month, capacity, seed) gives the same plan; each pick carries its reasons, random ones labelled.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson
from sqlalchemy import Connection

from oretrail.clock import utcnow
from oretrail.rules.config import Config
from oretrail.storage.schema import inspection_plans
from oretrail.storage.upsert import upsert
from oretrail.supervision.policy import policy
from oretrail.supervision.score import Score, score_all


@dataclass(frozen=True)
class Pick:
    enterprise: str
    basis: str  # risk | random
    score: float
    reasons: list[dict[str, Any]]  # the components that weigh most (risk), or the draw (random)


def random_count(capacity: int, share: float, rng: random.Random) -> int:
    exact = capacity * share
    whole = math.floor(exact)
    return min(capacity, whole + (1 if rng.random() < exact - whole else 0))


def choose(scores: list[Score], capacity: int, share: float, seed: int, key: str) -> list[Pick]:
    """The plan's picks from scored candidates; pure, so it is tested on hand-made scores."""
    rng = random.Random(f"{seed}:{key}")
    ranked = sorted(scores, key=lambda s: (-s.score, s.enterprise))
    capacity = min(capacity, len(ranked))
    n_random = random_count(capacity, share, rng)
    risk = ranked[: capacity - n_random]
    rest = ranked[capacity - n_random :]
    drawn = rng.sample(rest, n_random) if n_random else []
    out = [
        Pick(s.enterprise, "risk", s.score,
             [{"component": c.name, "points": c.points, "basis": c.basis.to_json()}
              for c in sorted(s.components, key=lambda c: -c.points)[:3] if c.points > 0])
        for s in risk
    ]  # fmt: skip
    out += [
        Pick(s.enterprise, "random", s.score, [{"component": "random", "draw": f"seed {seed}, {n_random} of "
                                                 f"{len(rest)} not picked by risk"}])
        for s in sorted(drawn, key=lambda s: s.enterprise)
    ]  # fmt: skip
    return out


def plan_inspections(
    conn: Connection, cfg: Config, catalogue: Any, province: str, month: str, capacity: int, seed: int = 0
) -> dict[str, Any]:
    """Score every enterprise of the province (recorded), choose, record the plan; returns it."""
    year, mon = int(month[:4]), int(month[5:7])
    scores = score_all(conn, cfg, catalogue, date(year, mon, 1), province)
    share = float(policy()["plan"]["random_share"])
    picks = choose(scores, capacity, share, seed, f"{province}:{month}")
    plan_id = f"PLAN-{province}-{month}-{capacity}-{seed}"
    record = {
        "id": plan_id,
        "province": province,
        "month": month,
        "capacity": capacity,
        "seed": seed,
        "random_share": share,
        "candidates": len(scores),
        "picks": [p.__dict__ for p in picks],
    }
    upsert(conn, inspection_plans, [{
        "id": plan_id, "province": province, "month": month, "capacity": capacity, "seed": seed,
        "random_share": share, "picks": orjson.dumps(record["picks"]).decode(), "created_at": utcnow(),
    }])  # fmt: skip
    return record


def rendered(picks: list[dict[str, Any]], lang: str = "en") -> list[dict[str, Any]]:
    """Picks with their reasons in the reader's language."""
    from oretrail.i18n.message import Said

    out = []
    for p in picks:
        reasons = [{**r, "basis": Said.from_json(r["basis"]).render(lang)} if "basis" in r else r for r in p["reasons"]]
        out.append({**p, "reasons": reasons})
    return out
