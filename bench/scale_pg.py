"""PostgreSQL at ten million events (issue 16): capture, the EPCIS index's catch-up, trace and the EPCIS query
on a large database, beside the same on the small database it was copied from.

    python3 -m uv run python bench/scale_pg.py --copies 130 --without 0017

1. `small` (database `<prefix>_small`): the registry and all but the last `--held` documents of scale 1
   captured (`Capture.documents`, rules off, as bench/capture.py), the EPCIS index caught up.
2. `big` (`<prefix>_big`): a copy of `small` (`CREATE DATABASE ... TEMPLATE`), then copied in place
   `--copies` times over by bench/scale_copy.py (every identifier renamed per copy: N countries like the
   simulated one over the same period), vacuumed and analysed.
3. capture: the held-back documents in `--slices` slices, each captured into both databases (which first
   alternates slice by slice, so a busy moment of the machine falls on both alike), then the EPCIS index
   caught up: events/s of each. The held-back documents continue the loaded ones (their lots, waybills and
   places are the originals'), so capture's look-ups probe the large indexes where a real load would.
   Capture changes both databases: a slice is captured once per build (the databases remember which).
4. hot reads: bench/scale_capture.py's `queries` on both (`--without 0017` also times big without
   migrations 0018-0021's indexes and then how long building them takes at that size); storage per event.

The databases are kept and reused by a later run (`--fresh` drops them first). At 10M events `big` takes
about 4.6 KB per event (46 GB at 10.1M events): check `df` first.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset, median

if TYPE_CHECKING:
    from sqlalchemy import Engine

SERVER = os.environ.get("ORETRAIL_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")


def _admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(sql))
    admin.dispose()


def _exists(name: str) -> bool:
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{SERVER}/postgres")
    with admin.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    admin.dispose()
    return found is not None


def _capture(engine: Engine, files: list[Path]) -> tuple[int, float, int, float]:
    """Events captured and its seconds; events indexed by the EPCIS index's catch-up after it and its seconds
    (fewer: the simulator re-sends some events, which capture acknowledges and the ledger holds once)."""
    from oretrail.api.epcis.index import catch_up
    from oretrail.pipeline import Capture

    cap = Capture(engine)  # signs with ORETRAIL_SIGNING_KEY's key, which the registry's load made
    n, t0 = 0, time.perf_counter()
    for report in cap.documents(files):
        n += report.events
        if report.errors:
            raise SystemExit(f"capture into {engine.url.database} refused {report.errors[0]}")
    captured = time.perf_counter() - t0
    t0 = time.perf_counter()
    indexed = catch_up(engine)
    caught = time.perf_counter() - t0
    return n, captured, indexed, caught


def build(prefix: str, copies: int, held: int) -> None:
    from sqlalchemy import text

    from oretrail.pipeline import document_paths
    from oretrail.registry.store import load_registry
    from oretrail.storage.engine import make_engine, migrate

    data = dataset(1.0)
    small, big = f"{prefix}_small", f"{prefix}_big"
    if not _exists(small):  # made under another name and renamed when whole: a failed build leaves no half
        _admin(f"DROP DATABASE IF EXISTS {small}_building")
        _admin(f"CREATE DATABASE {small}_building")
        engine = make_engine(f"{SERVER}/{small}_building")
        migrate(engine)
        load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry")
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_slices (slice int PRIMARY KEY, db text NOT NULL)"))
        n, seconds, _, caught = _capture(engine, document_paths([data / "events"])[:-held])
        engine.dispose()
        _admin(f"ALTER DATABASE {small}_building RENAME TO {small}")
        print(f"{small}: {n:,} events captured in {seconds:.0f} s, indexed in {caught:.0f} s", flush=True)
    if not _exists(big):
        t0 = time.perf_counter()
        _admin(f"DROP DATABASE IF EXISTS {big}_building")
        _admin(f"CREATE DATABASE {big}_building TEMPLATE {small}")
        subprocess.run(
            [sys.executable, str(Path(__file__).parent / "scale_copy.py"), "--pg", f"{SERVER}/{big}_building",
             "--copies", str(copies)],
            check=True,
        )  # fmt: skip
        _admin(f"ALTER DATABASE {big}_building RENAME TO {big}")
        print(f"{big}: made in {time.perf_counter() - t0:.0f} s", flush=True)


def capture(prefix: str, held: int, slices: int) -> None:
    from sqlalchemy import text

    from oretrail.pipeline import document_paths
    from oretrail.storage.engine import make_engine

    files = document_paths([dataset(1.0) / "events"])[-held:]
    parts = [files[i * len(files) // slices : (i + 1) * len(files) // slices] for i in range(slices)]  # in order
    rates: dict[str, list[tuple[float, float]]] = {"small": [], "big": []}
    for i, part in enumerate(parts):
        order = ("small", "big") if i % 2 == 0 else ("big", "small")
        for which in order:
            url = f"{SERVER}/{prefix}_{which}"
            engine = make_engine(url)
            with engine.connect() as conn:
                done = conn.execute(text("SELECT 1 FROM bench_slices WHERE slice = :i"), {"i": i}).first()
            if done:
                engine.dispose()
                print(f"slice {i} was captured into {which} by an earlier run: skipped", flush=True)
                continue
            n, seconds, indexed, caught = _capture(engine, part)
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_slices VALUES (:i, :d)"), {"i": i, "d": which})
            engine.dispose()
            rates[which].append((n / seconds, indexed / caught))
            print(f"  slice {i} into {which}: {n:,} events, {n / seconds:,.0f} events/s, "
                  f"catch-up {indexed / caught:,.0f} events/s", file=sys.stderr, flush=True)  # fmt: skip
    if not rates["small"] or not rates["big"]:
        return
    print(f"\ncapture (Capture.documents, rules off) of {held} held-back documents in {slices} slices: median")
    print(f"{'database':10} {'capture/s':>10} {'catch-up/s':>11} {'runs':>5}")
    for which, rs in rates.items():
        print(f"{which:10} {median([r[0] for r in rs]):>10,.0f} {median([r[1] for r in rs]):>11,.0f} {len(rs):>5}")
    ratio = median([r[0] for r in rates["big"]]) / median([r[0] for r in rates["small"]])
    print(f"big / small capture rate: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prefix", default="oretrail_scale")
    parser.add_argument("--copies", type=int, default=130)
    parser.add_argument("--held", type=int, default=30, help="documents of scale 1 held back for capture")
    parser.add_argument("--slices", type=int, default=3)
    parser.add_argument("--samples", type=int, default=21, help="calls per hot read")
    parser.add_argument("--without", help="also time big's reads downgraded to this revision (e.g. 0017)")
    parser.add_argument("--sections", default="build,capture,queries,storage")
    parser.add_argument("--fresh", action="store_true", help="drop both databases first")
    args = parser.parse_args()
    key = Path(os.environ.get("ORETRAIL_BENCH_KEY", str(Path(dataset(1.0)) / "scale_pg.signing.key")))
    os.environ["ORETRAIL_SIGNING_KEY"] = str(key)  # the registry's load and every capture sign with it
    if args.fresh:
        for which in ("big", "small"):
            _admin(f"DROP DATABASE IF EXISTS {args.prefix}_{which}")
        key.unlink(missing_ok=True)
    sections = args.sections.split(",")
    if "build" in sections:
        build(args.prefix, args.copies, args.held)
    if "capture" in sections:
        capture(args.prefix, args.held, args.slices)
    from scale_capture import queries, storage

    if "queries" in sections:
        queries(f"{SERVER}/{args.prefix}_small", args.samples, None)
        queries(f"{SERVER}/{args.prefix}_big", args.samples, args.without)
    if "storage" in sections:
        storage(f"{SERVER}/{args.prefix}_big")


if __name__ == "__main__":
    main()
