"""Sustained load on a loopback server (issue 17 §5): capture without pause while trace, EPCIS event-query and
alert reads go on, on SQLite and on PostgreSQL; then nothing lost, nothing twice, the chain intact.

    uv run python bench/load.py [--seconds 300] [--engines sqlite,postgres] [--scale 1] [--readers 1]

Per engine: a fresh database (a SQLite file; on PostgreSQL a database of its own, `oretrail_load_<pid>`,
dropped afterwards), the registry loaded, a central API account (the caller who sees everything, so reads do
the most work). `oretrail serve` runs it in a subprocess; the load comes from a second process: one writer
posting the simulated EPCIS documents one after another to `POST /capture/events` (synchronous: the answer is
the acknowledgement, one outcome per event), and `--readers` threads for each of `GET /lots/{lot}/trace` (a lot
of a document already acknowledged), `GET /events?perPage=30` and `GET /alerts?limit=50`. A writer that runs
through the dataset starts again from its first document: those re-sends must be recognised as on record
(`unchanged`), never stored twice.

Afterwards, with the server stopped: every event acknowledged as new is one ledger record and one `events` row,
and no other is there; `oretrail verify` passes; `oretrail rebuild` succeeds and the projection tables it
rebuilds hold exactly the rows they held before (compared row by row, as sorted digests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

from common import PG_URL, central_key, dataset, free_port, median, percentile

DRIVER = r"""
import json, random, sys, threading, time
import httpx
base, key, seconds, readers, docs_file, out_file = sys.argv[1:7]
seconds, readers = float(seconds), int(readers)
docs = json.loads(open(docs_file).read())
lat = {"capture": [], "trace": [], "events": [], "alerts": []}
errors = {k: 0 for k in lat}
first_errors = []
acked_new, acked_seen, events_sent = [], set(), 0
lots, lock, laps = [], threading.Lock(), 0
end = time.perf_counter() + seconds
headers = {"X-API-Key": key}

def record(kind, dt, status, body):
    with lock:
        if status >= 400:
            errors[kind] += 1
            if len(first_errors) < 10:
                first_errors.append(f"{kind} {status} {body[:300]}")
        else:
            lat[kind].append(dt)

def writer():
    global laps, events_sent
    with httpx.Client(base_url=base, headers=headers, timeout=600) as c:
        i = 0
        while time.perf_counter() < end:
            path, doc_lots = docs[i % len(docs)]
            body = open(path, "rb").read()
            t = time.perf_counter()
            try:
                r = c.post("/capture/events", content=body,
                           headers={"Content-Type": "application/ld+json", "X-Document-Name": path.rsplit("/", 1)[-1]})
                status, text = r.status_code, r.text
            except httpx.HTTPError as exc:
                status, text = 599, repr(exc)
            record("capture", time.perf_counter() - t, status, text)
            if status < 400:
                outcomes = r.json()["outcomes"] or []
                with lock:
                    events_sent += len(outcomes)
                    for o in outcomes:
                        if o["outcome"] in ("stored", "off_profile", "correction"):
                            acked_new.append(o["event_id"])
                        acked_seen.add(o["event_id"])
                    if i < len(docs):
                        lots.extend(doc_lots)
            i += 1
            laps = i // len(docs)

def reader(kind, seed):
    rng = random.Random(seed)
    with httpx.Client(base_url=base, headers=headers, timeout=600) as c:
        while time.perf_counter() < end:
            if kind == "trace":
                with lock:
                    lot = rng.choice(lots) if lots else None
                if lot is None:
                    time.sleep(0.05); continue
                url = f"/lots/{lot}/trace?direction=" + rng.choice(["backward", "forward"])
            elif kind == "events":
                url = "/events?perPage=30"
            else:
                url = "/alerts?limit=50"
            t = time.perf_counter()
            try:
                r = c.get(url); status, text = r.status_code, r.text
            except httpx.HTTPError as exc:
                status, text = 599, repr(exc)
            record(kind, time.perf_counter() - t, status, text)

started = time.perf_counter()
ts = [threading.Thread(target=writer)]
ts += [threading.Thread(target=reader, args=(k, n)) for k in ("trace", "events", "alerts") for n in range(readers)]
[t.start() for t in ts]; [t.join() for t in ts]
took = time.perf_counter() - started
json.dump({"seconds": took, "lat": lat, "errors": errors, "first_errors": first_errors, "acked_new": acked_new,
           "acked_seen": len(acked_seen), "events_sent": events_sent, "laps": laps}, open(out_file, "w"))
"""


def _lots_of(path: Path) -> list[str]:
    doc = json.loads(path.read_bytes())
    found: set[str] = set()
    for ev in doc["epcisBody"]["eventList"]:  # lots the document creates: what a trace can start from
        made = ev.get("outputQuantityList") or (ev.get("quantityList") if ev.get("action") == "ADD" else None)
        found.update(q["epcClass"] for q in made or () if "epcClass" in q)
    return sorted(found)


ORETRAIL = str(Path(sys.executable).with_name("oretrail"))  # the project's console script, as an operator runs it


def _oretrail(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ORETRAIL, *args], env=env, capture_output=True, text=True, check=False)


def _serve(db: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    import socket

    proc = subprocess.Popen([ORETRAIL, "serve", "--db", db, "--port", str(port)],
                            env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)  # fmt: skip
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def _digests(db: str) -> dict[str, str]:
    """Per projection table that rebuild restores, a digest of its rows in sorted order."""
    from oretrail.chain.projector import PROJECTION_TABLES
    from oretrail.storage.schema import enterprises, facilities

    engine = create_engine(db)
    out = {}
    with engine.connect() as conn:
        for table in (*PROJECTION_TABLES, enterprises, facilities):
            rows = sorted(repr(tuple(row)) for row in conn.execute(select(table)))
            out[table.name] = f"{len(rows)}:{hashlib.sha256(chr(10).join(rows).encode()).hexdigest()[:16]}"
    engine.dispose()
    return out


def _counts(db: str) -> dict[str, int]:
    from oretrail.storage.schema import events, ledger

    engine = create_engine(db)
    with engine.connect() as conn:
        out = {
            "ledger_events": conn.execute(select(func.count()).where(ledger.c.kind == "event")).scalar_one(),
            "ledger_event_keys": conn.execute(
                select(func.count(func.distinct(ledger.c.key))).where(ledger.c.kind == "event")
            ).scalar_one(),
            "event_rows": conn.execute(select(func.count()).select_from(events)).scalar_one(),
        }
        ids = set(conn.execute(select(events.c.event_id)).scalars())
    engine.dispose()
    out["_ids"] = ids  # type: ignore[assignment]
    return out


def _database(kind: str, tmp: Path) -> tuple[str, str | None]:
    """(URL, PostgreSQL database to drop afterwards)."""
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'load.db'}", None
    name = f"oretrail_load_{os.getpid()}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + "/" + name, name


def _drop(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def run(kind: str, args: argparse.Namespace, data: Path, docs: list[tuple[str, list[str]]]) -> dict[str, Any]:
    from oretrail.feeds import BY_NAME
    from oretrail.rules.config import load_settings
    from oretrail.storage.engine import open_database

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-load-{kind}-"))
    db, pg_name = _database(kind, tmp)
    env = {**os.environ, "ORETRAIL_SIGNING_KEY": str(tmp / "signing.key"), "ORETRAIL_DB": db}
    os.environ["ORETRAIL_SIGNING_KEY"] = env["ORETRAIL_SIGNING_KEY"]
    try:
        engine = open_database(db)
        BY_NAME["registry"].load(engine, [data / "registry.jsonl"], load_settings(), None)
        engine.dispose()
        key = central_key(db, "load.central")
        port = free_port()
        server = _serve(db, port, env, tmp / "server.log")
        try:
            (tmp / "docs.json").write_text(json.dumps(docs))
            subprocess.run(
                [sys.executable, "-c", DRIVER, f"http://127.0.0.1:{port}", key, str(args.seconds), str(args.readers),
                 str(tmp / "docs.json"), str(tmp / "out.json")],
                check=True, timeout=args.seconds + 900,
            )  # fmt: skip
        finally:
            server.terminate()
            server.wait(timeout=60)
        result: dict[str, Any] = json.loads((tmp / "out.json").read_text())
        counts = _counts(db)
        ids = counts.pop("_ids")
        acked = result.pop("acked_new")
        result["acked_new"] = len(acked)
        result["acked_distinct"] = len(set(acked))
        # An acknowledged new event is one ledger record (a correction is a second record of its eventID) and
        # one `events` row per eventID; records past the acknowledged ones are duplicates, missing ones losses.
        result["lost"] = len(set(acked) - ids) + max(0, len(acked) - counts["ledger_events"])  # type: ignore[operator]
        result["stored_unacknowledged"] = len(ids - set(acked))  # type: ignore[operator]
        result["duplicated"] = max(0, counts["ledger_events"] - len(acked))
        result.update(counts)
        verify = _oretrail("verify", "--db", db, env=env)
        result["verify"] = (verify.returncode, (verify.stdout + verify.stderr).strip()[-300:])
        before = _digests(db)
        started = time.perf_counter()
        rebuild = _oretrail("rebuild", "--db", db, "--format", "json", env=env)
        result["rebuild_s"] = time.perf_counter() - started
        result["rebuild"] = (rebuild.returncode, (rebuild.stdout + rebuild.stderr).strip()[-300:])
        after = _digests(db)
        result["projections_differ"] = sorted(t for t in before if before[t] != after[t])
        result["projections"] = before
        verify2 = _oretrail("verify", "--db", db, env=env)
        result["verify_after_rebuild"] = verify2.returncode
        return result
    finally:
        if pg_name:
            _drop(pg_name)


def report(kind: str, r: dict[str, Any]) -> None:
    s = r["seconds"]
    print(f"\n{kind}: {s:.0f} s, {r['laps']} full passes over the dataset; errors {r['errors']}")
    for e in r["first_errors"]:
        print("  error:", e)
    print(f"  {'kind':8} {'requests':>9} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for k, xs in r["lat"].items():
        if xs:
            print(f"  {k:8} {len(xs):9d} {len(xs) / s:8.1f} {median(xs) * 1e3:8.1f} {percentile(xs, 99) * 1e3:8.1f}")
    print(f"  events in acknowledged answers {r['events_sent']:,}, acknowledged as new {r['acked_new']:,} "
          f"({r['acked_new'] / s:,.0f}/s), of {r['acked_distinct']:,} eventIDs (the rest corrections)")  # fmt: skip
    print(f"  ledger event records {r['ledger_events']:,} (distinct keys {r['ledger_event_keys']:,}), "
          f"events rows {r['event_rows']:,}; lost {r['lost']}, duplicated {r['duplicated']}, "
          f"stored without acknowledgement {r['stored_unacknowledged']}")  # fmt: skip
    print(f"  verify: exit {r['verify'][0]} ({r['verify'][1].splitlines()[-1] if r['verify'][1] else ''})")
    print(f"  rebuild: exit {r['rebuild'][0]} in {r['rebuild_s']:.1f} s; projections that differ after it: "
          f"{r['projections_differ'] or 'none'}; verify after rebuild: exit {r['verify_after_rebuild']}")  # fmt: skip
    print(f"  projections (rows:digest): {r['projections']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long the load runs (per engine)")
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--scale", type=float, default=1.0, help="simulated dataset the writer sends")
    parser.add_argument("--readers", type=int, default=1, help="reader threads per kind of read")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    data = dataset(args.scale)
    paths = sorted((data / "events").iterdir())
    docs = [(str(p), _lots_of(p)) for p in paths]
    print(f"dataset: scale {args.scale}, {len(docs)} documents; {args.seconds:g} s per engine, "
          f"{args.readers} reader thread(s) per kind")  # fmt: skip
    results = {}
    for kind in args.engines.split(","):
        results[kind] = run(kind, args, data, docs)
        report(kind, results[kind])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    bad = [k for k, r in results.items()
           if r["lost"] or r["duplicated"] or r["verify"][0] or r["rebuild"][0] or r["projections_differ"]
           or sum(r["errors"].values())]  # fmt: skip
    if bad:
        raise SystemExit(f"FAILED on {', '.join(bad)}")


if __name__ == "__main__":
    main()
