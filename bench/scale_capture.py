"""Capture at scale (issue 16, the capture half of bench/scale.py): SQLite against PostgreSQL, COPY against
`executemany`, one writer against two, and the hot reads of a large PostgreSQL database.

Sections, each printing a table of medians (`--sections`, default all but `queries`):

- `capture`: events/s of `Capture.documents` (validation, hashing, the chain, every projection; rules off)
  into a fresh database: SQLite, PostgreSQL as it captured before COPY (`pg-executemany`: the COPY paths
  patched back to `executemany` in that child process) and PostgreSQL with COPY (`postgres`).
- `cli`: `oretrail load registry` then `oretrail load events DIR` (rules on, as an operator loads), wall time.
- `writers`: the same load by one and by two `oretrail load events` processes at once (halves of the
  documents), on SQLite and PostgreSQL; the chain is verified afterwards.
- `queries`: latency of trace, the EPCIS query and capture's look-ups on an existing database (`--db`):
  run it before and after `alembic upgrade` to 0018 to see what the indexes do.
- `storage`: bytes per event of every table and index of that database.

    uv run python bench/scale_capture.py --scale 1 --runs 3
    uv run python bench/scale_capture.py --sections queries,storage --db postgresql://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PG_URL, dataset, fresh_database, median

ORETRAIL = "from oretrail.cli import app; app(prog_name='oretrail')"
# Run in a child before the CLI or a capture: PostgreSQL's COPY paths go back to one statement per row.
NO_COPY = """
import oretrail.storage.bulk as b
b.copy_values = None
def _plain(conn, table, keys, rows):
    b.execute_values(conn, b._insert(table), keys, rows)
def _merge(conn, stmt, keys, rows):
    b.execute_values(conn, stmt, keys, rows)
def _delete(conn, table, keys, rows):
    b.execute_values(conn, b._delete_by(table, keys, staged=False), keys, rows)
b.insert_values, b.merge_values, b.delete_keys = _plain, _merge, _delete
import oretrail.ledger.store as s, oretrail.chain.projector as p
s.insert_values = p.insert_values = _plain
p.merge_values, p.delete_keys = _merge, _delete
"""


# --- capture ------------------------------------------------------------------------------------------
def capture_worker(data: Path, kind: str) -> dict[str, float]:
    if kind == "pg-executemany":
        exec(NO_COPY, {})
    from oretrail.ledger.keys import create_key
    from oretrail.pipeline import Capture, document_paths
    from oretrail.registry.store import load_registry

    files = document_paths([data / "events"])
    with tempfile.TemporaryDirectory() as tmp, fresh_database(_engine_kind(kind), Path(tmp)) as engine:
        load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry")
        cap = Capture(engine, signing_key=create_key(Path(tmp) / "k.pem"))
        n, t0 = 0, time.perf_counter()
        for report in cap.documents(files):
            n += report.events
            if report.errors:
                raise SystemExit(f"capture refused {report.errors[0]}")
        return {"events": n, "seconds": time.perf_counter() - t0}


def _engine_kind(kind: str) -> str:
    return "sqlite" if kind == "sqlite" else "postgres"


def capture(data: Path, runs: int) -> None:
    kinds = ("sqlite", "pg-executemany", "postgres")
    rates: dict[str, list[float]] = {k: [] for k in kinds}
    events = 0
    for i in range(runs):
        for kind in kinds:  # interleaved, so a busy moment of the machine falls on every engine alike
            r = _child("capture", data, kind)
            events = int(r["events"])
            rates[kind].append(r["events"] / r["seconds"])
            print(f"  capture run {i + 1} {kind}: {rates[kind][-1]:,.0f} events/s", file=sys.stderr)
    print(f"\ncapture (Capture.documents, rules off): {events:,} events, median of {runs}")
    print(f"{'engine':16} {'events/s':>10} {'vs sqlite':>10}")
    base = median(rates["sqlite"])
    for kind in kinds:
        print(f"{kind:16} {median(rates[kind]):>10,.0f} {median(rates[kind]) / base:>10.2f}")


# --- the CLI, one and two writers ------------------------------------------------------------------------
def _db_url(kind: str, tmp: Path) -> tuple[str, Any]:
    """A fresh database for CLI children: a SQLite file, or a PostgreSQL schema (dropped by the returned
    callable)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / f'cli-{time.monotonic_ns()}.db'}", lambda: None
    from sqlalchemy import create_engine, text

    schema = f"bench_cli_{time.monotonic_ns() % 10**10}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()

    return f"{PG_URL}?options=-csearch_path%3D{schema}", drop


def _cli(args: list[str], db: str, prelude: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", prelude + ORETRAIL, *args, "--db", db],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "ORETRAIL_LANG": "en"},
    )  # fmt: skip


def _wait(*procs: subprocess.Popen[str]) -> None:
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise SystemExit(f"oretrail failed: {err[-2000:]}")


def load_with(data: Path, kind: str, writers: int, tmp: Path) -> float:
    """Seconds to load the dataset's events with `writers` processes at once (registry first, untimed)."""
    db, drop = _db_url(_engine_kind(kind), tmp)
    prelude = NO_COPY if kind == "pg-executemany" else ""
    try:
        _wait(_cli(["load", "registry", str(data / "registry.jsonl")], db))
        files = sorted((data / "events").iterdir())
        parts = [tmp / f"part{i}-{time.monotonic_ns()}" for i in range(writers)]
        for i, part in enumerate(parts):
            part.mkdir()
            for f in files[i::writers]:
                (part / f.name).symlink_to(f)
        t0 = time.perf_counter()
        _wait(*[_cli(["load", "events", str(p)], db, prelude) for p in parts])
        seconds = time.perf_counter() - t0
        verified = subprocess.run(
            [sys.executable, "-c", ORETRAIL, "verify", "--db", db], capture_output=True, text=True
        )  # fmt: skip
        if verified.returncode:
            raise SystemExit(f"chain broken after {writers} writers on {kind}: {verified.stdout[-500:]}")
        return seconds
    finally:
        drop()


def _events_in(data: Path) -> int:
    import orjson

    return sum(len(orjson.loads(f.read_bytes())["epcisBody"]["eventList"]) for f in (data / "events").iterdir())


def cli(data: Path, runs: int, writers: tuple[int, ...], kinds: tuple[str, ...], title: str) -> None:
    n = _events_in(data)
    rates: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            for kind in kinds:
                for w in writers:
                    rate = n / load_with(data, kind, w, Path(tmp))
                    rates.setdefault((kind, w), []).append(rate)
                    print(f"  {title} run {i + 1} {kind} writers={w}: {rate:,.0f} events/s", file=sys.stderr)
    print(f"\n{title} (oretrail load events, rules on): {n:,} events, median of {runs}")
    print(f"{'engine':16} {'writers':>7} {'events/s':>10} {'vs sqlite 1':>12}")
    base = median(rates[("sqlite", 1)]) if ("sqlite", 1) in rates else None
    for (kind, w), rs in rates.items():
        ratio = f"{median(rs) / base:>12.2f}" if base else f"{'':>12}"
        print(f"{kind:16} {w:>7} {median(rs):>10,.0f} {ratio}")


# --- hot reads and storage of a large database --------------------------------------------------------------
def _timed(fn: Any, n: int) -> float:
    """Median milliseconds of `n` calls of `fn(i)`."""
    ms = []
    for i in range(n):
        t0 = time.perf_counter()
        fn(i)
        ms.append((time.perf_counter() - t0) * 1000)
    return median(ms)


def queries(db: str, n: int, without: str | None) -> None:
    """Each hot read timed on the same samples with the indexes of head, then (`without`: a revision) after a
    downgrade to that revision, then upgrade again, timed: what the newest indexes buy and cost to build."""
    from alembic import command
    from sqlalchemy import func, select, text

    from oretrail.api.epcis import query as eq
    from oretrail.api.epcis.index import bodies
    from oretrail.chain.projector import _HOLDINGS_OF, _RETRACTED_AMONG
    from oretrail.chain.trace import trace
    from oretrail.ledger.store import LedgerWriter
    from oretrail.storage.engine import alembic_config, make_engine
    from oretrail.storage.schema import epcis_events, events, lots

    engine = make_engine(db)
    rng = random.Random(1)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setseed(0.16)"))  # the same samples in every run
        total = conn.execute(select(func.count()).select_from(events)).scalar_one()
        lot_ids = list(conn.execute(select(lots.c.lot_id).order_by(func.random()).limit(2000)).scalars())
        event_ids = list(conn.execute(select(events.c.event_id).order_by(func.random()).limit(2000)).scalars())
        ev = epcis_events.c
        sample = conn.execute(
            select(ev.biz_location, ev.event_time, ev.biz_step)
            .where(ev.biz_location.is_not(None))
            .order_by(func.random())
            .limit(60)
        ).all()
    lots_for = [rng.sample(lot_ids, min(400, len(lot_ids))) for _ in range(n)]
    ids_for = [rng.sample(event_ids, min(400, len(event_ids))) for _ in range(n)]
    traced = [rng.choice(lot_ids) for _ in range(n)]

    def at(i: int) -> Any:
        return sample[i % len(sample)]

    def month(i: int) -> tuple[str, str]:
        t = at(i)[1]
        return t.replace(day=1).isoformat() + "Z", t.replace(day=28).isoformat() + "Z"

    cases: list[tuple[str, dict[str, Any]]] = [
        ("epcis: eventType, a month by eventTime", {
            "eventType": "ObjectEvent", "GE_eventTime": lambda i: month(i)[0],
            "LT_eventTime": lambda i: month(i)[1], "orderBy": "eventTime"}),
        ("epcis: EQ_bizLocation", {"EQ_bizLocation": lambda i: at(i)[0]}),
        ("epcis: EQ_bizLocation + bizStep, by eventTime", {
            "EQ_bizLocation": lambda i: at(i)[0], "EQ_bizStep": lambda i: at(i)[2] or "shipping",
            "orderBy": "eventTime", "orderDirection": "DESC"}),
        ("epcis: MATCH_epcClass (one lot)", {"MATCH_epcClass": lambda i: traced[i]}),
        ("epcis: newest by recordTime", {"orderBy": "recordTime", "orderDirection": "DESC"}),
    ]  # fmt: skip

    def measure() -> list[tuple[str, float]]:
        rows: list[tuple[str, float]] = []
        with engine.connect() as conn:

            def epcis(params: dict[str, Any]) -> Any:
                def one(i: int) -> None:
                    p = {k: (v(i) if callable(v) else v) for k, v in params.items()}
                    page = eq.run(conn, eq.parse(p), None, 100, None)
                    list(bodies(conn, page.seqs))

                return one

            rows.append(("trace backward", _timed(lambda i: trace(conn, traced[i], backward=True), n)))
            rows.append(("trace forward", _timed(lambda i: trace(conn, traced[i], backward=False), n)))
            for name, params in cases:
                rows.append((name, _timed(epcis(params), n)))
            digests = LedgerWriter.latest_digests
            rows.append(("capture: digests of 400 eventIDs",
                         _timed(lambda i: digests(_Reader(conn), events.c.event_id, ids_for[i]), n)))  # fmt: skip
            rows.append(("capture: retracted among 400",
                         _timed(lambda i: conn.execute(_RETRACTED_AMONG, {"ids": ids_for[i]}).all(), n)))  # fmt: skip
            rows.append(("capture: holdings of 400 lots",
                         _timed(lambda i: conn.execute(_HOLDINGS_OF, {"ids": lots_for[i]}).all(), n)))  # fmt: skip
        return rows

    measure()  # once to warm the caches: the first pass reads from disk what the others find in memory
    with_indexes = measure()
    before: list[tuple[str, float]] = []
    build = 0.0
    if without:
        cfg = alembic_config(engine)
        command.downgrade(cfg, without)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        before = measure()
        t0 = time.perf_counter()
        command.upgrade(cfg, "head")
        build = time.perf_counter() - t0
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    print(f"\nhot reads on {engine.url.render_as_string()} ({total:,} events): median ms of {n}")
    print(f"{'read':48} {'at ' + without if without else '':>9} {'head':>9}")
    for i, (name, ms) in enumerate(with_indexes):
        old = f"{before[i][1]:>9.2f}" if before else f"{'':>9}"
        print(f"{name:48} {old} {ms:>9.2f}")
    if without:
        print(f"upgrade {without} -> head (building its indexes): {build:.1f} s")


class _Reader:
    """Enough of a LedgerWriter to run its look-up without taking the append lock."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn


def storage(db: str) -> None:
    from sqlalchemy import text

    from oretrail.storage.engine import make_engine

    engine = make_engine(db)
    if engine.dialect.name != "postgresql":
        raise SystemExit("storage: PostgreSQL only")
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
        tables = conn.execute(text(
            "SELECT relname, pg_table_size(relid), pg_indexes_size(relid) FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() ORDER BY pg_total_relation_size(relid) DESC"
        )).all()  # fmt: skip
        indexes = conn.execute(text(
            "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE schemaname = current_schema() ORDER BY 2 DESC LIMIT 25"
        )).all()  # fmt: skip
    engine.dispose()
    print(f"\nstorage per event ({n:,} events): bytes per event")
    print(f"{'table':24} {'table':>8} {'indexes':>8}")
    for name, t, i in tables:
        if t + i > 1 << 20:
            print(f"{name:24} {t / n:>8.0f} {i / n:>8.0f}")
    print(f"{'all':24} {sum(t for _, t, _ in tables) / n:>8.0f} {sum(i for _, _, i in tables) / n:>8.0f}")
    print(f"\nlargest indexes: bytes per event\n{'index':40} {'bytes':>8}")
    for name, size in indexes:
        print(f"{name:40} {size / n:>8.0f}")


def _child(section: str, data: Path, kind: str) -> dict[str, float]:
    """One run in a fresh process, so nothing one engine cached or patched helps another."""
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", section, str(data), kind], capture_output=True, text=True
    )  # fmt: skip
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="simulator scale (1 ≈ 100,000 events)")
    ap.add_argument("--data", type=Path, help="a simulated dataset folder instead of bench/data's")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sections", default="capture,cli,writers")
    ap.add_argument("--db", help="database for queries and storage", default=None)
    ap.add_argument("--samples", type=int, default=30, help="calls per query timed")
    ap.add_argument("--without", help="queries: also time them downgraded to this revision (e.g. 0017)")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _section, data, kind = args.worker
        print(json.dumps(capture_worker(Path(data), kind)))
        return
    sections = args.sections.split(",")
    data = args.data if args.data or not {"capture", "cli", "writers"} & set(sections) else dataset(args.scale)
    if "capture" in sections:
        capture(data, args.runs)
    if "cli" in sections:
        cli(data, args.runs, (1,), ("sqlite", "pg-executemany", "postgres"), "cli")
    if "writers" in sections:
        cli(data, args.runs, (1, 2), ("sqlite", "postgres"), "writers")
    if "queries" in sections:
        queries(args.db or PG_URL, args.samples, args.without)
    if "storage" in sections:
        storage(args.db or PG_URL)


if __name__ == "__main__":
    main()
