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

    uv run python bench/detect.py --scales 1          # three seeds at ≈ 100,000 events each
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
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset, fresh_database, median

SEEDS = (1, 2, 3)


def detect_run(data: Path) -> dict[str, Any]:
    """Load one dataset into a fresh database, scan, evaluate; returns scores, misses and false alarms."""
    from oretrail.alerts.store import query_alerts
    from oretrail.pipeline import load_dataset, scan
    from oretrail.sim import RULES as LABELLED_RULES
    from oretrail.sim.evaluate import evaluate, read_labels

    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as engine:
        os.environ["ORETRAIL_SIGNING_KEY"] = str(Path(tmp) / "signing.key")
        t0 = time.perf_counter()
        events = load_dataset(engine, data).events.events
        load_s = time.perf_counter() - t0
        findings, _ = scan(engine)
        standing = {(f.rule, f.subject_kind, f.subject_id) for f in findings}
        labels = read_labels((data / "labels.jsonl").read_bytes().splitlines())
        with engine.connect() as conn:
            ev = evaluate(labels, list(query_alerts(conn)), rules=LABELLED_RULES)
    return {
        "events": events,
        "load_s": load_s,
        "rules": {r: {"labels": s.labels, "found": s.found, "alerts": s.alerts, "true": s.true_alerts}
                  for r, s in ev.rules.items()},
        "misses": [{"rule": m.rule, "subject": list(m.subject), "note": m.note} for m in ev.misses],
        "false_alarms": [{"rule": a["rule"], "subject": [a["subject"]["kind"], a["subject"]["id"]],
                          "message": a["message"],
                          "stale": (a["rule"], a["subject"]["kind"], a["subject"]["id"]) not in standing}
                         for a in ev.false_alarms],
        "signals": ev.unjudged,
    }  # fmt: skip


def _run_child(scale: float, seed: int) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", f"{scale:g}", str(seed)], capture_output=True, text=True, check=False
    )  # fmt: skip
    if proc.returncode:
        raise RuntimeError(f"scale {scale:g} seed {seed} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"scale {scale:g} seed {seed}: {result['events']:,} events loaded in {result['load_s']:.0f} s",
          file=sys.stderr)  # fmt: skip
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
    ap.add_argument("--worker", nargs=2, metavar=("SCALE", "SEED"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(detect_run(dataset(float(args.worker[0]), int(args.worker[1])))))
        return
    seeds = SEEDS[: args.seeds]
    for scale in args.scales:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda seed, s=scale: _run_child(s, seed), seeds))
        report(scale, dict(zip(seeds, results, strict=True)))


if __name__ == "__main__":
    main()
