"""Detection quality: recall and precision of every rule against the simulator's planted violations.

For each (scale, seed) the simulator's dataset (cached under bench/data/) is loaded feed by feed into a fresh
SQLite database exactly as `oretrail demo` loads it (registry, EPCIS documents with capture-time alerts,
licences, declarations, partner statistics, watch list), then fully scanned; the alerts are compared with
`labels.jsonl`. Each (scale, seed) runs in its own child process, so runs can go side by side and one
run's memory is not another's. The table gives per rule the median over seeds and the worst seed; the
misses and false alarms of every run follow, because a rate says nothing about why. "Standing precision"
leaves out the false alarms that the final full scan no longer finds: alerts raised at capture on evidence a
later document corrected (EPCIS errorDeclaration), which the alert store keeps but a scan of the complete
data does not support.

The documents are first re-cut one per enterprise and month, as real senders send them, and loaded in three
arrival orders: in time order as a reporting calendar (each month's documents one load, settled as of that
month's reporting deadline), per enterprise (all of one enterprise's months, then the next), and shuffled;
the last two as one backfill load. Besides recall and precision it reports the churn of the alert
lifecycle (raised, withdrawn, settled, settled then withdrawn: the target is 0) and whether the final queue
is the same whatever the order.

    uv run python bench/detect.py --scales 1          # three seeds at ≈ 100,000 events each
    uv run python bench/detect.py --scales 1 --seeds 1 --orders time shuffled
    uv run python bench/detect.py --scales 10 --seeds 1 --jobs 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset, fresh_database, median
from oretrail.sim.senders import SentDocument, per_sender

SEEDS = (1, 2, 3)


ORDERS = ("time", "enterprise", "shuffled")


def _ordered(files: list[SentDocument], order: str) -> list[list[Path]]:
    """Loads, each a list of documents: in time order one load per month (a reporting calendar); per
    enterprise and shuffled, one load of everything (a backfill)."""
    import random

    if order == "time":
        months = sorted({m for _, m, _ in files})
        return [[p for w, m, p in sorted(files, key=lambda f: (f[1], f[0])) if m == month] for month in months]
    if order == "enterprise":
        return [[p for _, _, p in sorted(files, key=lambda f: (f[0], f[1]))]]
    shuffled = [p for _, _, p in files]
    random.Random(7).shuffle(shuffled)
    return [shuffled]


def _churn(engine: Any) -> dict[str, int]:
    """From the workflow log: alerts raised, ever withdrawn, settled, and withdrawn after they had settled."""
    from sqlalchemy import func, select

    from oretrail.alerts.workflow import SETTLE, WITHDRAW
    from oretrail.storage.schema import alert_actions as a
    from oretrail.storage.schema import alerts

    with engine.connect() as conn:
        raised = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
        log: dict[str, list[str]] = {}
        for aid, action in conn.execute(select(a.c.alert_id, a.c.action).order_by(a.c.id)):
            log.setdefault(aid, []).append(action)
    withdrawn = sum(1 for acts in log.values() if WITHDRAW in acts)
    settled = sum(1 for acts in log.values() if SETTLE in acts)
    after = sum(1 for acts in log.values() if SETTLE in acts and WITHDRAW in acts[acts.index(SETTLE) :])
    return {"raised": raised, "withdrawn": withdrawn, "settled": settled, "settled_then_withdrawn": after}


def detect_run(data: Path, order: str) -> dict[str, Any]:
    """Load one dataset into a fresh database in one order, scan, evaluate; returns scores, misses, false
    alarms, the churn of the alert lifecycle and the final queue."""
    from oretrail.alerts.store import month_end, query_alerts
    from oretrail.feeds import FEEDS
    from oretrail.pipeline import Capture, scan
    from oretrail.rules.config import Settings, load_settings
    from oretrail.sim import RULES as LABELLED_RULES
    from oretrail.sim.evaluate import evaluate, read_labels

    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as engine:
        os.environ["ORETRAIL_SIGNING_KEY"] = str(Path(tmp) / "signing.key")
        loads = _ordered(per_sender(data / "events", Path(tmp) / "docs"), order)
        events, load_s = 0, 0.0
        for feed in FEEDS:  # in the order of a national load, the documents in the chosen order
            if feed.name != "events":
                feed.load(engine, [data / feed.source], settings, None)
                continue
            t0 = time.perf_counter()
            for docs in loads:
                as_of = None
                if order == "time":  # the month's reporting deadline has passed when its load ends
                    month = datetime.fromisoformat(json.loads(docs[0].read_bytes())["creationDate"][:10])
                    as_of = month_end(month) + timedelta(days=settings.config.report_deadline_days)
                capture = Capture(engine, Settings(settings.config, settings.catalogue, as_of))
                for report in capture.documents(docs):
                    if report.errors:
                        raise report.errors[0]
                    events += report.events
            load_s = time.perf_counter() - t0
        judged = scan(engine, settings)
        standing = {(f.rule, f.subject_kind, f.subject_id) for f in judged.findings}
        labels = read_labels((data / "labels.jsonl").read_bytes().splitlines())
        with engine.connect() as conn:
            queue = list(query_alerts(conn))
        ev = evaluate(labels, queue, rules=LABELLED_RULES)
        churn = _churn(engine)
    return {
        "events": events,
        "load_s": load_s,
        "order": order,
        "churn": churn,
        "queue": sorted(a["id"] for a in queue),
        "rules": {r: {"labels": s.labels, "found": s.found, "alerts": s.alerts, "true": s.true_alerts}
                  for r, s in ev.rules.items()},
        "misses": [{"rule": m.rule, "subject": list(m.subject), "note": m.note} for m in ev.misses],
        "false_alarms": [{"rule": a["rule"], "subject": [a["subject"]["kind"], a["subject"]["id"]],
                          "message": a["message"],
                          "stale": (a["rule"], a["subject"]["kind"], a["subject"]["id"]) not in standing}
                         for a in ev.false_alarms],
        "signals": ev.unjudged,
    }  # fmt: skip


def _run_child(scale: float, seed: int, order: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", f"{scale:g}", str(seed), order], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(f"scale {scale:g} seed {seed} order {order} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    c = result["churn"]
    print(f"scale {scale:g} seed {seed} {order}: {result['events']:,} events loaded in {result['load_s']:.0f} s; "
          f"alerts raised {c['raised']}, withdrawn {c['withdrawn']}, settled {c['settled']}, "
          f"settled then withdrawn {c['settled_then_withdrawn']}", file=sys.stderr)  # fmt: skip
    return result


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _fmt(x: float | None) -> str:
    return "   -" if x is None else f"{x:.3f}"


def _span(xs: list[float]) -> str:
    """Median over seeds, the worst seed in brackets."""
    return f"{_fmt(median(xs) if xs else None)} ({_fmt(min(xs) if xs else None)})"


def report(scale: float, runs: dict[int, dict[str, Any]]) -> None:
    """The table (median and minimum over seeds, per rule and overall), then every miss and false alarm."""
    from oretrail.sim.evaluate import base_rule

    rules = sorted({r for run in runs.values() for r in run["rules"]})
    print(f"\ndetection at scale {scale:g}, seeds {', '.join(map(str, runs))}: median (min) over seeds")
    print(f"{'rule':28} {'labels':>7} {'alerts':>7} {'recall':>14} {'precision':>14} {'standing prec.':>15}")
    totals: dict[int, list[int]] = {seed: [0, 0, 0, 0, 0] for seed in runs}
    for rule in [*rules, "overall"]:
        recalls, precisions, standing, labels, alerts = [], [], [], [], []
        for seed, run in runs.items():
            if rule == "overall":
                lab, found, al, true, stale = totals[seed]
            else:
                s = run["rules"][rule]
                stale = sum(1 for a in run["false_alarms"] if a["stale"] and base_rule(a["rule"], {rule}))
                lab, found, al, true = s["labels"], s["found"], s["alerts"], s["true"]
                for i, v in enumerate((lab, found, al, true, stale)):
                    totals[seed][i] += v
            labels.append(lab)
            alerts.append(al)
            if (r := _ratio(found, lab)) is not None:
                recalls.append(r)
            if (p := _ratio(true, al)) is not None:
                precisions.append(p)
            if (p := _ratio(true, al - stale)) is not None:
                standing.append(p)
        print(
            f"{rule:28} {median(labels):>7g} {median(alerts):>7g} {_span(recalls):>14} {_span(precisions):>14} "
            f"{_span(standing):>15}"
        )
    for seed, run in runs.items():
        if run.get("signals"):
            listed = ", ".join(f"{n} {r}" for r, n in sorted(run["signals"].items()))
            print(f"  seed {seed} signals no label speaks about (counted neither way): {listed}")
    for seed, run in runs.items():
        for m in run["misses"]:
            print(f"  seed {seed} missed      {m['rule']} {m['subject'][0]} {m['subject'][1]} — {m['note']}")
        for a in run["false_alarms"]:
            stale = " [stale: the final scan no longer finds it]" if a["stale"] else ""
            print(f"  seed {seed} false alarm{stale} {a['rule']} {a['subject'][0]} {a['subject'][1]} — {a['message']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0], help="simulator scales (1 ≈ 100k events)")
    ap.add_argument("--seeds", type=int, default=len(SEEDS), help="how many seeds per scale (1-3)")
    ap.add_argument("--jobs", type=int, default=2, help="runs side by side (each needs one core)")
    ap.add_argument("--orders", nargs="+", choices=ORDERS, default=list(ORDERS), help="arrival orders to load in")
    ap.add_argument("--worker", nargs=3, metavar=("SCALE", "SEED", "ORDER"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(detect_run(dataset(float(args.worker[0]), int(args.worker[1])), args.worker[2])))
        return
    seeds = SEEDS[: args.seeds]
    for scale in args.scales:
        jobs = [(seed, order) for seed in seeds for order in args.orders]
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda job, s=scale: _run_child(s, *job), jobs))
        by_job = dict(zip(jobs, results, strict=True))
        for order in args.orders:
            print(f"\n=== arrival order: {order} ===")
            report(scale, {seed: by_job[(seed, order)] for seed in seeds})
        print("\nchurn (alerts raised / ever withdrawn / settled / settled then withdrawn) and the final queue:")
        for seed in seeds:
            queues = {order: by_job[(seed, order)]["queue"] for order in args.orders}
            same = len({tuple(q) for q in queues.values()}) == 1
            for order in args.orders:
                c = by_job[(seed, order)]["churn"]
                print(f"  seed {seed} {order:10} {c['raised']:>6} / {c['withdrawn']:>6} / {c['settled']:>6} / "
                      f"{c['settled_then_withdrawn']:>4}   queue {len(queues[order])} alerts")  # fmt: skip
            print(f"  seed {seed}: final queue {'identical' if same else 'DIFFERS'} across orders")


if __name__ == "__main__":
    main()
