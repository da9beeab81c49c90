"""HTTP API under load (issue 13): capture by HTTP against the CLI's rate in the same run, then trace and event
queries from a second process on loopback while capture goes on, with p50/p99.

    uv run python bench/api.py [--scale 0.1] [--rounds 3] [--readers 4] [--seconds 20]

A real server: uvicorn in its own process on a free loopback port, signed in with an API key of a central
account (the caller who may see everything, so the queries do the most work). The CLI rate is the events feed
loaded in this process into a second database: the same documents, the same machine, the same minute.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import central_key, dataset, free_port, median, percentile

READER = r"""
import json, random, sys, threading, time
import httpx
base, key = sys.argv[1], sys.argv[2]
seconds, threads, lots = float(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
out = {"trace": [], "events": [], "errors": 0}
lock = threading.Lock()
def work(seed):
    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers={"X-API-Key": key}, timeout=60) as c:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            kind = "trace" if rng.random() < 0.5 else "events"
            url = f"/lots/{rng.choice(lots)}/trace" if kind == "trace" else "/events?perPage=30"
            t = time.perf_counter(); r = c.get(url); dt = time.perf_counter() - t
            with lock:
                if r.status_code >= 400: out["errors"] += 1
                else: out[kind].append(dt)
ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
print(json.dumps(out))
"""


def _serve(db: str, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn; from oretrail.api.app import create_app; "
        f"uvicorn.run(create_app({db!r}), host='127.0.0.1', port={port}, log_level='warning')"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    for _ in range(1200):  # two minutes: a loaded machine is slow to import the app
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start")


def _http_round(data: Path, documents: list[Path], http_db: str, settings: Any) -> float:
    """Seconds from the first POST /capture to the last job finished, on a fresh server and database."""
    import httpx

    from oretrail.feeds import BY_NAME
    from oretrail.storage.engine import open_database

    BY_NAME["registry"].load(open_database(http_db), [data / "registry.jsonl"], settings, None)
    key = central_key(http_db, "bench.central")
    port = free_port()
    server = _serve(http_db, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=600) as client:
            started = time.perf_counter()
            jobs = []
            for path in documents:
                r = client.post("/capture", content=path.read_bytes(), headers={"Content-Type": "application/json"})
                assert r.status_code == 202, r.text
                jobs.append(r.headers["Location"])
            for job in jobs:
                while True:
                    state = client.get("/" + job.lstrip("/")).json()
                    if not state["running"]:
                        assert state["success"], state
                        break
                    time.sleep(0.05)
            return time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)


def _read_under_load(http_db: str, args: argparse.Namespace) -> dict[str, Any]:
    """Trace and event queries from a second process against a server on the captured database."""
    from sqlalchemy import select

    from oretrail.storage.engine import open_database
    from oretrail.storage.schema import lots

    with open_database(http_db).begin() as conn:
        from oretrail.access.keys import issue_key

        key = issue_key(conn, "bench.central", "bench reader").key
        lot_ids = list(conn.execute(select(lots.c.lot_id).limit(2000)).scalars())
    port = free_port()
    server = _serve(http_db, port)
    try:
        reader = subprocess.run(
            [sys.executable, "-c", READER, f"http://127.0.0.1:{port}", key, str(args.seconds), str(args.readers),
             json.dumps(random.Random(1).sample(lot_ids, min(200, len(lot_ids))))],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return dict(json.loads(reader.stdout))
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--readers", type=int, default=4, help="reader threads in the second process")
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the readers read")
    parser.add_argument("--rounds", type=int, default=3, help="capture rounds, CLI then HTTP; medians reported")
    args = parser.parse_args()

    from oretrail.feeds import BY_NAME
    from oretrail.rules.config import load_settings
    from oretrail.storage.engine import open_database

    data = dataset(args.scale)
    documents = sorted((data / "events").iterdir())
    total_events = sum(len(json.loads(p.read_bytes())["epcisBody"]["eventList"]) for p in documents)
    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    os.environ.setdefault("ORETRAIL_SIGNING_KEY", str(tmp / "signing.key"))
    settings = load_settings()

    cli_times, http_times = [], []
    read: dict[str, Any] = {}
    for n in range(args.rounds):  # CLI and HTTP alternate, so both see the same machine
        cli_engine = open_database(f"sqlite:///{tmp / f'cli{n}.db'}")
        BY_NAME["registry"].load(cli_engine, [data / "registry.jsonl"], settings, None)
        started = time.perf_counter()
        BY_NAME["events"].load(cli_engine, documents, settings, None)
        cli_times.append(time.perf_counter() - started)
        http_times.append(_http_round(data, documents, f"sqlite:///{tmp / f'http{n}.db'}", settings))
        if n == args.rounds - 1:
            read = _read_under_load(f"sqlite:///{tmp / f'http{n}.db'}", args)
    cli_s, http_s = median(cli_times), median(http_times)

    print(f"dataset: scale {args.scale}, {len(documents)} documents, {total_events:,} events")
    for label, took in (("CLI (in process)", cli_s), ("HTTP capture jobs", http_s)):
        print(f"capture, {label:18} {len(documents) / took:8.1f} documents/s  {total_events / took:9,.0f} events/s")
    print(
        f"HTTP / CLI rate: {cli_s / http_s:.2f} (medians of {args.rounds} rounds; per round "
        + ", ".join(f"{c / h:.2f}" for c, h in zip(cli_times, http_times, strict=True))
        + ")"
    )
    print(f"readers: {args.readers} threads in a second process for {args.seconds:g} s, errors {read['errors']}")
    for kind in ("trace", "events"):
        xs = read[kind]
        if xs:
            print(
                f"  {kind:7} {len(xs):6d} requests  {len(xs) / args.seconds:7.1f}/s  "
                f"p50 {median(xs) * 1000:7.1f} ms  p99 {percentile(xs, 99) * 1000:7.1f} ms"
            )


if __name__ == "__main__":
    main()
