"""Customs selectivity: how many violating declarations a red lane of 1 %, 5 % and 10 % catches when
declarations are ranked by the platform's risk (supervision/channels.py), against random selection at the
same rate.

A simulated dataset with planted violations (bench/common.py `dataset`, cached) is loaded as the demo loads
it, fully judged, the risk scores of every enterprise computed as of the period's end, then every export
declaration of controlled material gets its risk. A declaration is violating when a label names it, or
names a lot exported under it (trace.no_provenance, suspended_facility), or names the licence it cites
(licence.overdrawn, screening.watchlist). The red lane at rate r takes ceil(r × n) declarations: the
policy's random share of them drawn at random, the rest the highest risks; random selection takes as many
uniformly (its expected catch is r; the mean of 200 draws is shown). Caveat: risks are read after the
whole period was judged, so they use alerts a customs officer would have had only once the evidence came
in; the alerts themselves are the platform's early warning, which is what the comparison measures.

    uv run python bench/selectivity.py --scale 0.1 --seed 1
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset, fresh_database

RATES = (0.01, 0.05, 0.10)


def run(scale: float, seed: int) -> None:
    import orjson
    from sqlalchemy import select

    from oretrail.feeds import load_dataset
    from oretrail.pipeline import scan
    from oretrail.rules.config import load_settings
    from oretrail.storage.schema import declarations, exports
    from oretrail.supervision.channels import controlled_numbers, red_at_rate, risks
    from oretrail.supervision.policy import policy
    from oretrail.supervision.score import score_all, today

    data = dataset(scale, seed)
    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as engine:
        os.environ["ORETRAIL_SIGNING_KEY"] = str(Path(tmp) / "signing.key")
        t0 = time.perf_counter()
        load_dataset(engine, data, settings)
        scan(engine, settings)
        loaded = time.perf_counter() - t0
        with engine.begin() as conn:
            t1 = time.perf_counter()
            score_all(conn, settings.config, settings.catalogue, today(conn))
            scored = time.perf_counter() - t1
            numbers = sorted(controlled_numbers(conn, settings.catalogue))
            t2 = time.perf_counter()
            risk = {no: r for no, (r, _) in risks(conn, settings.config, numbers).items()}
            ranked = time.perf_counter() - t2
            lots_of: dict[str, set[str]] = defaultdict(set)
            for no, lot in conn.execute(select(exports.c.declaration_no, exports.c.lot_id)):
                lots_of[no].add(lot)
            cites = dict(conn.execute(select(declarations.c.declaration_no, declarations.c.licence_no)).all())
    bad: set[str] = set()
    for line in (data / "labels.jsonl").read_bytes().splitlines():
        label = orjson.loads(line)
        kind, ident = label["subject"]["kind"], label["subject"]["id"]
        for no in numbers:
            if (
                (kind == "declaration" and ident == no)
                or (kind == "lot" and ident in lots_of.get(no, ()))
                or (kind == "licence" and cites.get(no) == ident)
            ):
                bad.add(no)
    share = float(policy()["channels"]["random"]["red"]) / float(policy()["channels"]["expected"]["red"])
    print(f"scale {scale:g} seed {seed}: {len(numbers):,} controlled declarations, {len(bad):,} violating "
          f"({len(bad) / max(1, len(numbers)):.1%}); load and judge {loaded:.1f} s, scores {scored:.2f} s, "
          f"declaration risks {ranked:.2f} s; random share within the red lane {share:.0%}")  # fmt: skip
    print(f"{'red rate':>9} {'inspected':>10} {'caught (risk)':>14} {'caught (random)':>16} {'lift':>6}")
    for rate in RATES:
        red = red_at_rate(risk, rate, seed, share)
        caught = len(red & bad) / len(bad) if bad else 0.0
        draws = []
        rng = random.Random(seed)
        for _ in range(200):
            pick = set(rng.sample(numbers, len(red)))
            draws.append(len(pick & bad) / len(bad) if bad else 0.0)
        rand = sum(draws) / len(draws)
        lift = caught / rand if rand else float("inf")
        print(f"{rate:>9.0%} {len(red):>10,} {caught:>14.1%} {rand:>16.1%} {lift:>6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1, help="simulator scale (1 ≈ 100k events)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    run(args.scale, args.seed)


if __name__ == "__main__":
    main()
