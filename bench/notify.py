"""Notification benchmark: what the outbox costs the transaction that settles alerts, and how fast the
publisher empties it into JetStream and into a webhook receiver on loopback.

1. Settling N alerts (each named to two departments: 2N outbox rows) in one transaction, with the outbox and
   with its write switched off, alternating, median of `--repeat`: microseconds per alert and the ratio.
2. `Publisher.run()` (--once) of those 2N rows into a stream of its own on the NATS server (deleted after):
   messages per second, median of `--repeat` runs, each from position 0 into a fresh stream.
3. The same rows to one webhook subscription served by a local HTTP server: messages per second.

    uv run python bench/notify.py [--alerts 2000] [--repeat 3] [--nats nats://127.0.0.1:4222] [--db URL]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
from sqlalchemy import Engine, delete

from oretrail.alerts import store
from oretrail.notify import outbox, webhooks
from oretrail.notify.jetstream import connect
from oretrail.notify.publisher import Publisher
from oretrail.registry.store import load_registry
from oretrail.rules.base import Finding
from oretrail.rules.config import Settings, load_settings
from oretrail.storage import schema as s
from oretrail.storage.engine import make_engine, migrate

PARTY = "urn:oretrail:party:uscc:91360700MA35F0AX28"
REGISTRY = orjson.dumps(
    {"kind": "enterprise", "id": PARTY, "uscc": "91360700MA35F0AX28", "name": "Ganzhou Example Rare Metals",
     "province": "CN-JX", "stages": ["mining"], "registered": "2018-04-02"}
).decode()  # fmt: skip


def findings(n: int, tag: str) -> list[Finding]:
    return [
        Finding("licence.missing", "declaration", f"{tag}{i:07d}", "no licence", (), {}, party=PARTY) for i in range(n)
    ]


def reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in (s.alert_actions, s.alerts, s.outbox, s.cursors, s.webhooks):
            conn.execute(delete(table))


def settle_once(engine: Engine, settings: Settings, n: int, with_outbox: bool) -> float:
    """Seconds to record and settle `n` alerts in one transaction (the capture-time shape of judge)."""
    reset(engine)
    original = outbox.alerts_settled
    if not with_outbox:
        store.outbox.alerts_settled = lambda conn, records: []  # type: ignore[assignment]
    try:
        started = time.perf_counter()
        with engine.begin() as conn:
            store.record_findings(conn, findings(n, uuid.uuid4().hex[:6]), settings)
            store.settle_due(conn, datetime(2025, 7, 1))
        return time.perf_counter() - started
    finally:
        store.outbox.alerts_settled = original  # type: ignore[assignment]


@contextmanager
def receiver() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


async def drop_stream(url: str, name: str) -> None:
    nc = await connect(url)
    try:
        await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--alerts", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--nats", default="nats://127.0.0.1:4222")
    ap.add_argument("--db", help="database URL (default: a SQLite file in a temp folder)")
    args = ap.parse_args()
    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(args.db or f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(engine)
        load_registry(engine, [REGISTRY], "registry.jsonl")
        n = args.alerts

        on, off = [], []
        for _ in range(args.repeat):
            off.append(settle_once(engine, settings, n, with_outbox=False))
            on.append(settle_once(engine, settings, n, with_outbox=True))
        t_on, t_off = statistics.median(on), statistics.median(off)
        print(f"engine {engine.dialect.name}; {n} alerts settled in one transaction, {2 * n} outbox rows")
        print(f"  record + settle without outbox  {t_off * 1e6 / n:8.1f} µs/alert")
        print(f"  record + settle with outbox     {t_on * 1e6 / n:8.1f} µs/alert   ratio {t_on / t_off:.2f}")

        rows = 2 * n
        nats_times = []
        for _ in range(args.repeat):
            tag = uuid.uuid4().hex[:8]
            pub = Publisher(engine, args.nats, f"BENCH_{tag.upper()}", f"bench_{tag}.", webhooks=False)
            with engine.begin() as conn:
                conn.execute(delete(s.cursors))
            try:
                nats_times.append(timed(lambda pub=pub: asyncio.run(pub.run())))  # type: ignore[misc]
                assert pub.outcome.complete, pub.outcome
            finally:
                asyncio.run(drop_stream(args.nats, f"BENCH_{tag.upper()}"))
        print(f"  publish to JetStream (--once)   {rows / statistics.median(nats_times):8.0f} messages/s")

        hook_times = []
        with receiver() as url:
            for _ in range(args.repeat):
                with engine.begin() as conn:
                    conn.execute(delete(s.webhooks))
                    webhooks.subscribe(conn, url, from_start=True)
                pub = Publisher(engine, None)
                hook_times.append(timed(lambda pub=pub: asyncio.run(pub.run())))  # type: ignore[misc]
                assert pub.outcome.complete, pub.outcome
        print(f"  deliver to one webhook (--once) {rows / statistics.median(hook_times):8.0f} messages/s")
        engine.dispose()


if __name__ == "__main__":
    main()
