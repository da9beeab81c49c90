"""Scale: the platform at simulator scales 1, 10 (and 100), one section per concern (issue 16).

    python3 -m uv run python bench/scale.py --sections scan --scales 1 10 --runs 3

Sections (`--sections`, comma-separated) are functions of `SECTIONS`, each taking the prepared datasets and
the options and returning rows; `capture` (SQLite, PostgreSQL with one and two writers) runs
bench/scale_capture.py's sections on the same datasets.
Datasets are made once under `--data` (default /work/data, else bench/data) and reused:
the simulator's feeds `sim-s{scale}`, loaded into `scan-s{scale}.db` (SQLite, loaded without judging), and
its Parquet export `scan-s{scale}.parquet`.

scan: a full scan (every rule over everything: the findings a scan records) on SQLite, on PostgreSQL when
`--pg URL` holds the same data (same ledger head), on DuckDB and on Spark (local mode, two cores) over the
export. Each run is a fresh process (the engines' own start included: DuckDB loading the export, Spark its
JVM and session), timed from the outside, with peak memory of the process and its children (the JVM)
sampled every 50 ms. Reported: median seconds, seconds per million events, the growth exponent between
consecutive scales (time ~ events^k; n log n is k a little above 1), peak MiB, and the export's own time
(what DuckDB or Spark cost on top when the export is not already there). Every engine's findings must be
identical to SQLite's (asserted).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path("/work/data") if Path("/work/data").is_dir() else ROOT / "bench" / "data"


@dataclass(frozen=True)
class Dataset:
    scale: float
    feeds: Path
    db: Path
    export: Path
    events: int
    export_s: float  # the full export's time, measured when it was made


def prepare(data: Path, scale: float, seed: int) -> Dataset:
    """The dataset of `scale`, made once: simulated, loaded into SQLite, exported to Parquet."""
    from sqlalchemy import func, select

    from oretrail.export.parquet import export_parquet
    from oretrail.feeds import load_dataset
    from oretrail.sim import simulate
    from oretrail.storage.engine import make_engine, migrate
    from oretrail.storage.schema import events

    feeds, db, export = data / f"sim-s{scale:g}", data / f"scan-s{scale:g}.db", data / f"scan-s{scale:g}.parquet"
    os.environ.setdefault("ORETRAIL_SIGNING_KEY", str(db) + ".signing.key")
    if not (feeds / "labels.jsonl").exists():
        print(f"simulating scale {scale:g} into {feeds}", file=sys.stderr)
        simulate(feeds, scale, seed)
    engine = make_engine(f"sqlite:///{db}")
    loaded = Path(f"{db}.loaded")
    if not loaded.exists():
        print(f"loading {feeds} into {db}", file=sys.stderr)
        migrate(engine)
        load_dataset(engine, feeds, None)
        loaded.write_text("loaded\n")
    timing = Path(f"{export}.seconds")
    if not timing.exists():
        print(f"exporting {db} to {export}", file=sys.stderr)
        started = time.perf_counter()
        export_parquet(engine, export)
        timing.write_text(f"{time.perf_counter() - started:.3f}\n")
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(events)).scalar_one()
    engine.dispose()
    return Dataset(scale, feeds, db, export, int(n), float(timing.read_text()))


# --- one measured run, in its own process ----------------------------------------------------------------------
def run_one(engine: str, db: str, export: str, pg: str | None, out: str, workers: int) -> None:
    """Child process: the full scan's findings on one engine, written as JSON (time measured by the parent)."""
    from oretrail.rules.config import load_settings
    from oretrail.rules.runner import run_rules
    from oretrail.storage.engine import make_engine

    settings = load_settings()
    started = time.perf_counter()
    per_rule: dict[str, float] = {}

    def timed(rule: str, _count: int, seconds: float) -> None:
        per_rule[rule] = round(seconds, 3)

    if engine in ("sqlite", "postgresql"):
        store = make_engine(pg if engine == "postgresql" and pg else f"sqlite:///{db}")
        with store.connect() as conn:
            found = run_rules(conn, None, settings.config, catalogue=settings.catalogue, on_rule=timed, workers=workers)
        store.dispose()
    else:
        from oretrail.engines import find_on

        found = find_on(engine, Path(export), settings, None, workers=workers, on_rule=timed)
    seconds = time.perf_counter() - started
    Path(out).write_text(
        json.dumps(
            {
                "seconds_inside": seconds,
                "per_rule": per_rule,
                "findings": sorted(
                    [f.rule, f.subject_kind, f.subject_id, f.key, f.message.key, list(f.evidence), f.stake_g]
                    for f in found
                ),
            }
        )
    )


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc (no dependency for it)."""
    total, todo = 0, [pid]
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    while todo:
        p = todo.pop()
        try:
            for line in (Path("/proc") / str(p) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
        todo.extend(children.get(p, []))
    return total


def measure(
    engine: str, ds: Dataset, pg: str | None, tmp: Path, workers: int = 1
) -> tuple[float, int, list[Any], dict[str, float]]:
    """(wall seconds of the whole process, peak bytes of its tree, findings, seconds per rule on the store's
    engines: from one rule's end to the next's, so the first also holds the catalogue's and clock's reads)."""
    out = tmp / f"{engine}-{ds.scale:g}.json"
    cmd = [sys.executable, __file__, "--one", engine, str(ds.db), str(ds.export), pg or "", str(out), str(workers)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    if proc.wait() != 0:
        raise SystemExit(f"{engine} at scale {ds.scale:g} failed")
    seconds = time.perf_counter() - started
    sampler.join()
    got = json.loads(out.read_text())
    return seconds, peak, got["findings"], got["per_rule"]


def _pg_holds(pg: str, ds: Dataset) -> bool:
    from sqlalchemy import func, select

    from oretrail.storage.engine import make_engine
    from oretrail.storage.schema import ledger

    def head(url: str) -> Any:
        e = make_engine(url)
        try:
            with e.connect() as conn:
                return conn.execute(select(func.max(ledger.c.seq), func.count()).select_from(ledger)).one()
        except Exception:
            return None
        finally:
            e.dispose()

    return head(pg) == head(f"sqlite:///{ds.db}")


def scan_section(datasets: list[Dataset], args: argparse.Namespace) -> list[dict[str, Any]]:
    from oretrail.storage.engine import READERS

    rows: list[dict[str, Any]] = []
    tmp = Path(args.data) / "scan-tmp"
    tmp.mkdir(exist_ok=True)
    previous: dict[tuple[str, int], tuple[int, float]] = {}
    for ds in datasets:
        engines = [e for e in args.engines.split(",") if e != "postgresql" or (args.pg and _pg_holds(args.pg, ds))]
        baseline: list[Any] | None = None
        for engine, workers in [(e, w) for e in engines for w in (args.workers if e in READERS else [1])]:
            if engine == "spark" and ds.scale > args.spark_max_scale:
                continue
            runs = [measure(engine, ds, args.pg, tmp, workers) for _ in range(args.runs if engine != "spark" else 1)]
            for _, _, found, _ in runs:
                if baseline is None:
                    baseline = found
                assert found == baseline, f"{engine} at scale {ds.scale:g}: findings differ from {engines[0]}'s"
            seconds = statistics.median(r[0] for r in runs)
            row = {
                "section": "scan",
                "scale": ds.scale,
                "events": ds.events,
                "engine": engine,
                "workers": workers,
                "runs": len(runs),
                "seconds": round(seconds, 2),
                "s_per_M_events": round(seconds / ds.events * 1e6, 2),
                "peak_MiB": round(max(r[1] for r in runs) / 2**20),
                "findings": len(runs[0][2]),
                "export_s": round(ds.export_s, 2) if engine in ("duckdb", "spark") else 0.0,
            }
            if (engine, workers) in previous:
                n0, t0 = previous[(engine, workers)]
                row["growth_exponent"] = round(math.log(seconds / t0) / math.log(ds.events / n0), 2)
            previous[(engine, workers)] = (ds.events, seconds)
            if args.per_rule and runs[0][3]:
                row["per_rule_s"] = {r: statistics.median(run[3][r] for run in runs) for r in runs[0][3]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def capture_section(datasets: list[Dataset], args: argparse.Namespace) -> list[dict[str, Any]]:
    """Capture on SQLite and PostgreSQL (COPY, and as before COPY), and one against two writers, per scale:
    bench/scale_capture.py's sections run on this bench's datasets, each in its own process, printing its
    own tables."""
    for ds in datasets:
        print(f"capture at scale {ds.scale:g} ({ds.events:,} events)", flush=True)
        command = [sys.executable, str(ROOT / "bench" / "scale_capture.py"), "--data", str(ds.feeds)]
        subprocess.run([*command, "--runs", str(args.runs), "--sections", "capture,writers"], check=True)
    return []


SECTIONS: dict[str, Callable[[list[Dataset], argparse.Namespace], list[dict[str, Any]]]] = {
    "scan": scan_section,
    "capture": capture_section,
}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        engine, db, export, pg, out, workers = sys.argv[2:8]
        run_one(engine, db, export, pg or None, out, int(workers))
        return
    from oretrail.storage.engine import SCAN_WORKERS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", default="scan", help=f"comma-separated: {', '.join(SECTIONS)}")
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="runs per engine and scale (Spark: one)")
    parser.add_argument("--engines", default="sqlite,postgresql,duckdb,spark")
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[SCAN_WORKERS],
        help="side-by-side readers of a scan on SQLite, PostgreSQL or DuckDB",
    )
    parser.add_argument("--spark-max-scale", type=float, default=100.0)
    parser.add_argument("--per-rule", action="store_true", help="median seconds of each rule")
    parser.add_argument("--pg", default=os.environ.get("ORETRAIL_BENCH_PG"), help="PostgreSQL URL holding the data")
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    args = parser.parse_args()
    unknown = set(args.sections.split(",")) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {', '.join(sorted(unknown))}; the sections are {', '.join(SECTIONS)}")
    datasets = [prepare(Path(args.data), s, args.seed) for s in args.scales]
    for name in args.sections.split(","):
        SECTIONS[name](datasets, args)


if __name__ == "__main__":
    main()
