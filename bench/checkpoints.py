"""What copying checkpoints out of the database costs at capture (issue 17 §2).

Every commit of a capture is sealed (a signed checkpoint row and an outbox message, in its transaction);
with the checkpoint file on, each commit is then followed by a catch-up of the file under an exclusive lock
(no fsync: the database is the durable side, and the next catch-up rewrites lines a crash lost).
The dataset is captured into a fresh database in both modes, alternately, `--runs` times, with
one commit per document (`--group 1`, what HTTP capture does) of `--split` events each (default 10: many
small commits, the worst case for a cost per commit), or the dataset's own documents in the loader's groups
(`--split 0 --group 20000`). Reported: median events/s of each mode and the
ratio file/database, measured in the same run.

    uv run python bench/checkpoints.py --scale 0.05 --runs 5 --split 10 --limit 3000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import dataset, fresh_database, median


def split_documents(data: Path, size: int, limit: int) -> list[tuple[bytes, str]]:
    """The dataset's events re-cut into documents of `size` events (the first `limit` events), as small
    senders and HTTP clients send them: many commits, each sealed."""
    import orjson

    from oretrail.pipeline import document_paths

    out: list[tuple[bytes, str]] = []
    taken = 0
    for path in document_paths([data / "events"]):
        doc = orjson.loads(path.read_bytes())
        events = doc["epcisBody"]["eventList"]
        for i in range(0, len(events), size):
            part = {**doc, "epcisBody": {**doc["epcisBody"], "eventList": events[i : i + size]}}
            out.append((orjson.dumps(part), f"{path.name}#{i}"))
            taken += len(events[i : i + size])
            if taken >= limit:
                return out
    return out


def capture_run(data: Path, kind: str, with_file: bool, group: int, size: int, limit: int) -> tuple[float, int]:
    """Events/s of one capture of the dataset's documents, and the number of lines the file got."""
    from oretrail.ledger.keys import create_key
    from oretrail.ledger.notary import Notary
    from oretrail.pipeline import Capture, document_paths
    from oretrail.registry.store import load_registry

    files: list[Any] = split_documents(data, size, limit) if size else list(document_paths([data / "events"]))
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as engine:
        witness = Path(tmp) / "checkpoints.jsonl" if with_file else None
        notary = Notary(create_key(Path(tmp) / "k.key"), Path(tmp) / "k.key", witness)
        load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry", notary=notary)
        cap = Capture(engine, notary=notary)
        n, t0 = 0, time.perf_counter()
        for report in cap.documents(files, group_events=group):
            n += report.events
        rate = n / (time.perf_counter() - t0)
        lines = len(witness.read_bytes().splitlines()) if witness else 0
    return rate, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1, help="simulator scale (1 ≈ 100,000 events)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--group", type=int, default=1, help="events per commit (1: one commit per document)")
    ap.add_argument("--split", type=int, default=10, help="events per document (0: the dataset's documents)")
    ap.add_argument("--limit", type=int, default=3000, help="with --split: events captured per run")
    args = ap.parse_args()
    data = dataset(args.scale)
    for kind in args.engines.split(","):
        rates: dict[bool, list[float]] = {False: [], True: []}
        lines = 0
        for _ in range(args.runs):
            for with_file in (False, True):  # alternated, so drift on a shared machine hits both alike
                rate, got = capture_run(data, kind, with_file, args.group, args.split, args.limit)
                rates[with_file].append(rate)
                lines = max(lines, got)
        db, file = median(rates[False]), median(rates[True])
        print(
            f"{kind}: {args.split or 'dataset'}-event documents, group {args.group}: "
            f"checkpoints in the database only {db:,.0f} events/s, "
            f"with the checkpoint file {file:,.0f} events/s (ratio {file / db:.3f}; {lines:,} lines written; "
            f"runs {[round(r) for r in rates[False]]} / {[round(r) for r in rates[True]]})"
        )


if __name__ == "__main__":
    main()
