"""Capture throughput: simulated EPCIS documents into SQLite and PostgreSQL, against a plain executemany.

Each run captures the whole dataset into a fresh database with every layer of validation, RFC 8785
hashing, the hash chain, checkpoints and all chain projections on (early-warning rules off: bench/scan.py
measures those). Beside it, in the same run, the raw rate of inserting the same event bodies with a plain
`executemany` into a bare table shows what our work costs. Each run is a child process, so its peak RSS is
its own. Afterwards `oretrail trace` latency is sampled on the captured data.

    uv run python bench/capture.py --scale 10 --runs 3          # ≈ 1,000,000 events
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import dataset, fresh_database, median, percentile


def capture_run(data: Path, kind: str, trace_samples: int) -> dict[str, float]:
    """One run in this process: returns events/s, raw rows/s, peak RSS and (optionally) trace latencies."""
    import orjson
    from sqlalchemy import BigInteger, Column, MetaData, String, Table, Text, insert, select

    from oretrail.chain.trace import trace
    from oretrail.pipeline import Capture, document_paths, read_bounded
    from oretrail.registry.store import load_registry
    from oretrail.storage.schema import lots

    files = document_paths([data / "events"])
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as engine:
        load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry")
        cap = Capture(engine)
        n, t0 = 0, time.perf_counter()
        for report in cap.documents(files):
            n += report.events
            if report.errors:
                raise SystemExit(f"capture refused {report.errors[0]}")
        out["events"] = n
        out["capture_s"] = time.perf_counter() - t0

        # The baseline: the same event bodies, one executemany per document, into a bare table.
        raw = Table(
            "raw_events", MetaData(), Column("seq", BigInteger, primary_key=True),
            Column("event_id", String(512), unique=True), Column("body", Text),
        )  # fmt: skip
        raw.create(engine)
        seq, raw_s = 0, 0.0
        for f in files:  # streamed like capture; only the inserts are timed
            rows = []
            for e in orjson.loads(read_bounded(f))["epcisBody"]["eventList"]:
                seq += 1
                rows.append({"seq": seq, "event_id": f"e{seq}", "body": orjson.dumps(e).decode()})
            t0 = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(insert(raw), rows)
            raw_s += time.perf_counter() - t0
        out["raw_rows"] = seq
        out["raw_s"] = raw_s

        if trace_samples:
            with engine.connect() as conn:
                ids = list(conn.execute(select(lots.c.lot_id)).scalars())
                rng = random.Random(1)
                sample = rng.sample(ids, min(trace_samples, len(ids)))
                for direction in ("backward", "forward"):
                    lat = []
                    for lot in sample:
                        t0 = time.perf_counter()
                        trace(conn, lot, backward=direction == "backward")
                        lat.append((time.perf_counter() - t0) * 1000)
                    out[f"trace_{direction}_p50_ms"] = percentile(lat, 50)
                    out[f"trace_{direction}_p99_ms"] = percentile(lat, 99)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=10.0, help="simulator scale (1 ≈ 100,000 events)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--engines", default="sqlite,postgres")
    ap.add_argument("--trace-samples", type=int, default=1000)
    ap.add_argument("--worker", nargs=2, metavar=("KIND", "TRACE_SAMPLES"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    data = dataset(args.scale)
    if args.worker:
        print(json.dumps(capture_run(data, args.worker[0], int(args.worker[1]))))
        return

    results: dict[str, list[dict[str, float]]] = {}
    for kind in args.engines.split(","):
        for i in range(args.runs):
            samples = args.trace_samples if i == args.runs - 1 else 0
            proc = subprocess.run(
                [sys.executable, __file__, "--scale", str(args.scale), "--worker", kind, str(samples)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.setdefault(kind, []).append(r)
            rate, raw_rate = r["events"] / r["capture_s"], r["raw_rows"] / r["raw_s"]
            print(f"{kind} run {i + 1}: {rate:,.0f} events/s, raw {raw_rate:,.0f} rows/s, "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB", file=sys.stderr)  # fmt: skip

    print(f"\ncapture benchmark: scale {args.scale:g}, {args.runs} runs per engine (medians)")
    print(f"{'engine':10} {'events':>10} {'events/s':>10} {'raw rows/s':>11} {'ratio':>6} {'peak RSS MB':>12}")
    for kind, rs in results.items():
        ev = median([r["events"] / r["capture_s"] for r in rs])
        raw = median([r["raw_rows"] / r["raw_s"] for r in rs])
        rss = median([r["peak_rss_mb"] for r in rs])
        print(f"{kind:10} {rs[0]['events']:>10,.0f} {ev:>10,.0f} {raw:>11,.0f} {ev / raw:>6.3f} {rss:>12,.0f}")
        last = rs[-1]
        if "trace_backward_p99_ms" in last:
            print(f"{'':10} trace backward p50 {last['trace_backward_p50_ms']:.2f} ms, "
                  f"p99 {last['trace_backward_p99_ms']:.2f} ms; forward p50 {last['trace_forward_p50_ms']:.2f} ms, "
                  f"p99 {last['trace_forward_p99_ms']:.2f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
