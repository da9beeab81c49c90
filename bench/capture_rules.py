"""Capture throughput with the capture-time rules on, beside the same capture with them off.

What users get from `oretrail load events` is capture with early warning: after each document the rules run
over what it touched (`pipeline.alert_hook`, the hook the CLI installs), in the document's transaction.
`bench/capture.py` measures capture alone; this measures the price of the rules on top, in the same run,
on the simulator's dataset (registry loaded first, as `pipeline.load_dataset` does). Three modes, each run
in its own child process and interleaved run by run, so machine noise falls on all of them alike:

- `off`:   capture with no hook (what bench/capture.py measures);
- `doc`:   the alert hook after every document (today's pipeline);
- `group`: the hook once per commit group (`pipeline.GROUP_EVENTS` events, about 30 documents), over the
  union of what the group's documents touched: how capture will judge once the pipeline batches the
  rules per group. Emulated here by a hook that accumulates the projector's `Touched` and calls the real
  hook when the group is full (the document that fills it is the one after which `Capture.documents`
  commits), and once more for the last, partial group.

`--profile MODE` runs one capture in this process and prints where rule time went: scope expansion, each
rule's `find`, alert recording, and the top SQL statements by total time (on SQLite a statement's time is
only its execute; rows fetched later are charged to the Python around it).

`--findings PREFIX` logs a digest of every rules run's findings, one line per call: run it with two versions
of the code and `diff` the logs to prove they find the same at every capture-time call.

`--baseline-src DIR` runs the rules-on modes again with another checkout (say `git archive <commit> src`),
interleaved with this one, so before and after are measured side by side. `--base DB --start K` captures
documents K on into copies of a SQLite database already holding the first K (rules off): capture at the
end of a national load, without loading a million events per run.

    uv run python bench/capture_rules.py --scale 1 --runs 3 --baseline-src /tmp/base
    uv run python bench/capture_rules.py --scale 1 --engines sqlite --profile group
    uv run python bench/capture_rules.py --scale 1 --findings /tmp/new/f
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset, fresh_database, median

MODES = ("off", "doc", "group")


def findings_log(path: Path) -> None:
    """Append one line per rules run: a digest of its findings (ident, message, evidence, details), so two
    versions of the rules can be proved to find exactly the same at every capture-time call."""
    import hashlib

    import oretrail.alerts.store as store

    run_rules = store.run_rules
    out = path.open("w")

    def logged(*a: Any, **k: Any) -> Any:
        found = run_rules(*a, **k)
        h = hashlib.sha256()
        for f in found:
            h.update(repr((f.ident, f.message, f.evidence, sorted(f.details.items()))).encode())
        out.write(f"{len(found)} {h.hexdigest()}\n")
        out.flush()
        return found

    store.run_rules = logged  # type: ignore[assignment]


@contextmanager
def base_database(base: Path, tmp: Path) -> Iterator[Any]:
    """A copy of a SQLite database holding the dataset's first documents (see `--base`)."""
    import shutil

    from oretrail.storage.engine import make_engine

    path = tmp / "base.db"
    for suffix in ("", "-wal", ".signing.key"):  # the key that signs the base's ledger goes with it
        if Path(str(base) + suffix).exists():
            shutil.copyfile(str(base) + suffix, str(path) + suffix)
            Path(str(path) + suffix).chmod(0o600)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def capture_run(
    data: Path, kind: str, mode: str, log: Path | None = None, base: Path | None = None, start: int = 0
) -> dict[str, float]:
    """One capture of the dataset (from document `start` on, into a copy of `base` when given, else into a
    fresh database); events/s (wall and CPU) and the alerts it raised."""
    from sqlalchemy import func, select

    from oretrail.pipeline import GROUP_EVENTS, Capture, document_paths
    from oretrail.registry.store import load_registry
    from oretrail.rules.config import load_settings
    from oretrail.storage.schema import alerts

    files = document_paths([data / "events"])[start:]
    out: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        base_database(base, Path(tmp)) if base else fresh_database(kind, Path(tmp)) as engine,
    ):
        if base is None:
            load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry")
        if log is not None:
            findings_log(log)
        # Capture judges once per committed group; one document per group is the per-document mode.
        settings = None if mode == "off" else load_settings()
        group = 1 if mode == "doc" else GROUP_EVENTS
        cap = Capture(engine, settings)
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        for report in cap.documents(files, group_events=group):
            n += report.events
            if report.errors:
                raise SystemExit(f"capture refused {report.errors[0]}")
        out["capture_s"] = time.perf_counter() - t0
        out["cpu_s"] = time.process_time() - c0
        out["events"] = n
        with engine.connect() as conn:
            out["alerts"] = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
    return out


@contextmanager
def profiled(engine: Any) -> Iterator[dict[str, Any]]:
    """Times every rule's `find`, scope expansion, alert recording and every SQL statement (by text)."""
    from sqlalchemy import event

    import oretrail.alerts.store as store
    import oretrail.rules.runner as runner

    stats: dict[str, Any] = {"parts": defaultdict(float), "calls": defaultdict(int), "sql": defaultdict(float),
                             "sql_n": defaultdict(int)}  # fmt: skip
    current = ["capture"]
    saved: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        fn = getattr(owner, name)

        def timed(*a: Any, **k: Any) -> Any:
            before, current[0] = current[0], label
            t0 = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                stats["parts"][label] += time.perf_counter() - t0
                stats["calls"][label] += 1
                current[0] = before

        saved.append((owner, name, fn))
        setattr(owner, name, timed)

    wrap(runner, "expand", "scope.expand")
    wrap(store, "record_findings", "alerts.record")
    wrap(store, "run_rules", "rules (all)")
    for m in runner.RULES:
        wrap(m, "find", m.RULE)

    def before(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        conn.info["t0"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        key = f"[{current[0]}] " + " ".join(statement.split())[:160]
        stats["sql"][key] += time.perf_counter() - conn.info["t0"]
        stats["sql_n"][key] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield stats
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def profile_run(data: Path, kind: str, mode: str, top: int) -> None:
    from oretrail.pipeline import GROUP_EVENTS, Capture, document_paths
    from oretrail.registry.store import load_registry
    from oretrail.rules.config import load_settings

    files = document_paths([data / "events"])
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as engine:
        load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry")
        cap = Capture(engine, load_settings())
        with profiled(engine) as stats:
            t0 = time.perf_counter()
            n = sum(r.events for r in cap.documents(files, group_events=1 if mode == "doc" else GROUP_EVENTS))
            total = time.perf_counter() - t0
    rules_s = stats["parts"]["rules (all)"] + stats["parts"]["alerts.record"]
    print(f"{kind} {mode}: {n:,} events in {total:.1f} s ({n / total:,.0f} events/s); "
          f"rules + recording {rules_s:.1f} s ({rules_s / total:.0%})")  # fmt: skip
    print(f"\n{'part':28} {'calls':>6} {'s':>8} {'share of rules':>15}")
    for label, s in sorted(stats["parts"].items(), key=lambda kv: -kv[1]):
        print(f"{label:28} {stats['calls'][label]:>6} {s:>8.2f} {s / rules_s:>15.1%}")
    print(f"\ntop {top} statements by total time (share of rules + recording)")
    sql = {k: v for k, v in stats["sql"].items() if not k.startswith("[capture]")}
    for key, s in sorted(sql.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{s:8.2f} s {s / rules_s:6.1%} n={stats['sql_n'][key]:<5} {key}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="simulator scale (1 ≈ 100,000 events)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--profile", choices=MODES[1:], help="one profiled run of this mode per engine")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument(
        "--findings",
        type=Path,
        help="one run per engine and rules-on mode, logging each rules "
        "run's findings digest to FINDINGS-ENGINE-MODE.txt (compare two versions with diff)",
    )
    ap.add_argument(
        "--base",
        type=Path,
        help="SQLite only: a database already holding the dataset's first "
        "START documents (captured with rules off); each run captures the rest into a copy of it, "
        "which measures capture at the end of a national load without loading it all per run",
    )
    ap.add_argument("--start", type=int, default=0, help="the first document captured (with --base)")
    ap.add_argument(
        "--baseline-src",
        type=Path,
        help="a checkout of the code to compare with (its src/ goes "
        "first on PYTHONPATH): each of --baseline-modes runs again with it, interleaved, as MODE@base",
    )
    ap.add_argument("--baseline-modes", default="doc,group")
    ap.add_argument("--worker", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = ap.parse_args()
    data = dataset(args.scale)
    if args.worker:
        kind, mode, *log = args.worker
        log_path = Path(log[0]) if log and log[0] != "-" else None
        print(json.dumps(capture_run(data, kind, mode, log_path, args.base, args.start)))
        return
    tail = ["--base", str(args.base), "--start", str(args.start)] if args.base else []
    if args.findings:
        for kind in args.engines.split(","):
            for mode in args.modes.split(","):
                if mode != "off":
                    log = Path(f"{args.findings}-{kind}-{mode}.txt")
                    proc = subprocess.run(
                        [sys.executable, __file__, "--scale", str(args.scale), *tail, "--worker", kind, mode, str(log)],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    r = json.loads(proc.stdout.strip().splitlines()[-1])
                    print(f"{kind} {mode}: {r['alerts']:,.0f} alerts, findings per run in {log}", file=sys.stderr)
        return
    if args.profile:
        for kind in args.engines.split(","):
            profile_run(data, kind, args.profile, args.top)
        return

    modes = args.modes.split(",")
    if args.baseline_src:
        modes += [f"{m}@base" for m in args.baseline_modes.split(",")]
    results: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for kind in args.engines.split(","):
        for i in range(args.runs):
            for mode in modes:  # interleaved: each run of every mode sees the same machine
                env = dict(os.environ)
                if mode.endswith("@base"):
                    env["PYTHONPATH"] = str(args.baseline_src.resolve() / "src")
                proc = subprocess.run(
                    [sys.executable, __file__, "--scale", str(args.scale), *tail, "--worker", kind,
                     mode.removesuffix("@base"), "-"],
                    capture_output=True, text=True, check=True, env=env,
                )  # fmt: skip
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                results[kind, mode].append(r)
                print(f"{kind} run {i + 1} {mode:5}: {r['events'] / r['capture_s']:,.0f} events/s, "
                      f"{r['events'] / r['cpu_s']:,.0f} events per CPU-s, {r['alerts']:,.0f} alerts",
                      file=sys.stderr)  # fmt: skip

    where = f", documents {args.start} on, into copies of {args.base.name}" if args.base else ""
    print(f"\ncapture with rules: scale {args.scale:g}{where}, {args.runs} runs per engine and mode (medians)")
    print(
        "events/s is wall time; per CPU-s counts this process's CPU time only (the whole of SQLite's work, not "
        "PostgreSQL's server side), which a shared machine disturbs less"
    )
    print(f"{'engine':10} {'mode':6} {'events':>8} {'events/s':>9} {'on/off':>7} {'per CPU-s':>10} {'on/off':>7} "
          f"{'alerts':>7}")  # fmt: skip
    for (kind, mode), rs in results.items():
        off = results.get((kind, "off"), [])
        cols = []
        for clock in ("capture_s", "cpu_s"):
            rate = median([r["events"] / r[clock] for r in rs])
            ratio = rate / median([r["events"] / r[clock] for r in off]) if off else float("nan")
            cols.append((rate, ratio))
        alerts = "/".join(map(str, sorted({int(r["alerts"]) for r in rs})))
        print(f"{kind:10} {mode:6} {rs[0]['events']:>8,.0f} {cols[0][0]:>9,.0f} {cols[0][1]:>7.3f} "
              f"{cols[1][0]:>10,.0f} {cols[1][1]:>7.3f} {alerts:>7}")  # fmt: skip


if __name__ == "__main__":
    main()
