"""Rule-engine benchmark: full scan and capture-time overhead over synthetic projections of N events.

The projection tables are filled directly (the projector's output shape, docs/projections.md), 12 events per
supply chain: 4 tungsten ore lots mined, 2 shipments mine → smelter (shipping + receiving), ore →
concentrate and concentrate → APT at the smelter, a sale, an export under a declaration citing a licence.
One chain in a hundred carries a planted violation (a ghost input, an overdue or diverted shipment, an
unlicensed declaration, an unregistered buyer), so the rules return findings as they would on real data.
Prints, per size, the full-scan time (median of `--repeat`), seconds per million events, per-rule times, and
the median time of a capture-time run for one chain's batch; then the growth of the scan time against n and
n log n.

    uv run python bench/scan.py [--sizes 100000 1000000] [--repeat 3] [--db-dir /tmp]
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert

from oretrail.catalogue import load_catalogue
from oretrail.rules.config import load_config
from oretrail.rules.runner import run_rules
from oretrail.rules.scope import Scope
from oretrail.storage import schema as s
from oretrail.storage.engine import make_engine, migrate

EVENTS_PER_CHAIN = 12
T0 = datetime(2025, 1, 1)
USCC = "91360700MA35F0AX28"
PARTY = f"urn:oretrail:party:uscc:{USCC}"
BUYER = "urn:oretrail:party:uscc:91110000100000000X"
MINE = f"urn:oretrail:loc:{USCC}:mine-"
SMELTER = f"urn:oretrail:loc:{USCC}:smelter-"
PORT = "urn:oretrail:port:CNSHA"


def chain(i: int) -> dict[str, list[dict[str, Any]]]:
    """The rows one supply chain leaves in the projections; `i % 100` picks the planted violation."""
    rows: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("events", "lots", "event_lots", "movements", "genealogy", "shipments", "exports")
    }
    t = T0 + timedelta(minutes=i)
    mine, smelter = f"{MINE}{i % 50}", f"{SMELTER}{i % 20}"
    violation = i % 100

    def event(eid: str, stage: str, etype: str = "ObjectEvent", **kw: Any) -> None:
        row = dict.fromkeys(("action", "biz_step", "biz_location", "read_point", "waybill", "declaration_no",
                             "source_party", "dest_party", "dest_location"))  # fmt: skip
        row["biz_location"] = kw.pop("loc", None)
        row.update(kw)
        rows["events"].append(
            {"event_id": eid, "seq": len(rows["events"]), "event_type": etype, "stage": stage, "event_time": t,
             "retracted": False, **row}
        )  # fmt: skip

    def el(eid: str, lot: str, role: str, g: int) -> None:
        rows["event_lots"].append({"event_id": eid, "lot_id": lot, "role": role, "grams": g, "event_time": t})

    def mv(eid: str, lot: str, place: str, g: int) -> None:
        rows["movements"].append(
            {"event_id": eid, "lot_id": lot, "place": place, "owner": PARTY, "delta_g": g, "event_time": t}
        )

    def lot(lid: str, material: str, element: str, g: int, grade: float, eid: str, stage: str, loc: str) -> None:
        rows["lots"].append(
            {"lot_id": lid, "material": material, "element": element, "grade": grade, "mass_g": g,
             "element_mg": round(g * 1000 * grade), "created_event": eid, "created_stage": stage,
             "created_location": loc, "created_at": t}
        )  # fmt: skip

    ores = [f"urn:oretrail:lot:{USCC}:ore-{i}-{k}" for k in range(4)]
    for k, ore in enumerate(ores):
        eid = f"urn:uuid:{i}-mine-{k}"
        event(eid, "mining", action="ADD", biz_step="commissioning", loc=mine)
        if not (violation == 1 and k == 0):  # planted: an ore lot no mining event created
            lot(ore, "w.ore", "W", 10_000_000, 0.008, eid, "mining", mine)
        el(eid, ore, "created", 10_000_000)
        mv(eid, ore, mine, 10_000_000)
    for k in range(2):
        wb = f"urn:oretrail:waybill:{i}-{k}"
        ship, recv = f"urn:uuid:{i}-ship-{k}", f"urn:uuid:{i}-recv-{k}"
        sent = t
        got = t + timedelta(days=20 if violation == 2 and k == 0 else 2)  # planted: overdue
        where = f"{SMELTER}99" if violation == 3 and k == 0 else smelter  # planted: diverted
        event(ship, "transportation", biz_step="shipping", loc=mine, waybill=wb, dest_location=smelter)
        event(recv, "transportation", biz_step="receiving", loc=where, waybill=wb)
        rows["shipments"].append(
            {"waybill": wb, "origin": mine, "dest_location": smelter, "dest_party": PARTY, "dispatch_event": ship,
             "dispatched_at": sent, "grams": 20_000_000, "receipt_event": recv, "received_at": got,
             "received_location": where}
        )  # fmt: skip
        for ore in ores[2 * k : 2 * k + 2]:
            el(ship, ore, "shipped", 10_000_000)
            el(recv, ore, "received", 10_000_000)
            mv(ship, ore, mine, -10_000_000)
            mv(ship, ore, wb, 10_000_000)
            mv(recv, ore, wb, -10_000_000)
            mv(recv, ore, where, 10_000_000)
    conc, apt = f"urn:oretrail:lot:{USCC}:conc-{i}", f"urn:oretrail:lot:{USCC}:apt-{i}"
    t1, t2 = f"urn:uuid:{i}-conc", f"urn:uuid:{i}-apt"
    event(t1, "smelting", "TransformationEvent", loc=smelter)
    for ore in ores:
        el(t1, ore, "input", 10_000_000)
        mv(t1, ore, smelter, -10_000_000)
        rows["genealogy"].append({"event_id": t1, "input_lot": ore, "output_lot": conc})
    lot(conc, "w.concentrate", "W", 560_000, 0.5, t1, "smelting", smelter)
    el(t1, conc, "output", 560_000)
    mv(t1, conc, smelter, 560_000)
    event(t2, "processing", "TransformationEvent", loc=smelter)
    el(t2, conc, "input", 560_000)
    mv(t2, conc, smelter, -560_000)
    rows["genealogy"].append({"event_id": t2, "input_lot": conc, "output_lot": apt})
    lot(apt, "w.apt", "W", 390_000, 0.7, t2, "processing", smelter)
    el(t2, apt, "output", 390_000)
    mv(t2, apt, smelter, 390_000)
    sale, exp = f"urn:uuid:{i}-sale", f"urn:uuid:{i}-export"
    buyer = f"urn:oretrail:party:uscc:9144030000000{i:05d}" if violation == 5 else BUYER  # planted: unregistered
    event(sale, "sales", "TransactionEvent", loc=smelter, source_party=PARTY, dest_party=buyer)
    el(sale, apt, "sold", 390_000)
    mv(sale, apt, smelter, -390_000)
    mv(sale, apt, smelter, 390_000)
    decl = f"{5301_2025_0_000000000 + i:018d}"
    event(exp, "export", loc=PORT, declaration_no=decl)
    el(exp, apt, "exported", 390_000)
    mv(exp, apt, smelter, -390_000)
    mv(exp, apt, f"urn:oretrail:declaration:{decl}", 390_000)
    rows["exports"].append(
        {"event_id": exp, "lot_id": apt, "declaration_no": decl, "port": PORT, "grams": 390_000, "event_time": t}
    )
    held: dict[tuple[str, str, str], int] = {}
    for mrow in rows["movements"]:
        k = (mrow["lot_id"], mrow["place"], mrow["owner"])
        held[k] = held.get(k, 0) + mrow["delta_g"]
    rows["positions"] = [
        {"lot_id": lot_id, "place": place, "owner": owner, "grams": grams}
        for (lot_id, place, owner), grams in held.items()
        if grams
    ]
    return rows


def declarations_and_licences(chains: int) -> Iterator[tuple[Any, dict[str, Any]]]:
    for i in range(chains):
        lic = f"EL2025JX{i // 10:06d}"
        if i % 10 == 0:
            yield s.licences, {
                "licence_no": lic, "exporter": PARTY, "material": "w.apt", "hs_code": "2841801000",
                "quantity_g": 10 * 390_000, "destination": "DE", "consignee": "Example GmbH", "end_user": None,
                "end_use": None, "port": None, "valid_from": date(2025, 1, 1), "valid_to": date(2026, 12, 31),
                "status": "approved", "seq": i,
            }  # fmt: skip
        yield s.declarations, {
            "declaration_no": f"{5301_2025_0_000000000 + i:018d}", "date": date(2025, 6, 1), "exporter": PARTY,
            "hs_code": "2841801000", "description": "APT", "net_g": 390_000, "value_usd": 390 * 40.0,
            "destination": "DE", "consignee": "Example GmbH", "port": "CNSHA",
            "licence_no": None if i % 100 == 4 else lic, "seq": i,
        }  # fmt: skip


def fill(conn: Connection, events: int) -> int:
    chains = events // EVENTS_PER_CHAIN
    tables = {name: getattr(s, name) for name in chain(0)}
    buf: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    for i in range(chains):
        for name, rows in chain(i).items():
            buf[name].extend(rows)
        if i % 2000 == 1999 or i == chains - 1:
            for name, rows in buf.items():
                if rows:
                    conn.execute(insert(tables[name]), rows)
            buf = {name: [] for name in tables}
    trade: dict[Any, list[dict[str, Any]]] = {}
    for table, row in declarations_and_licences(chains):
        trade.setdefault(table, []).append(row)
    for table, rows in trade.items():
        conn.execute(insert(table), rows)
    conn.execute(
        insert(s.enterprises),
        [
            {"party_id": p, "uscc": p.rsplit(":", 1)[1], "name": "W Co", "province": "CN-JX", "stages": "[]", "seq": 0}
            for p in (PARTY, BUYER)
        ],
    )
    return chains


def build(path: Path, events: int) -> tuple[Engine, int]:
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    with engine.begin() as conn:  # indexes declared in schema.py that a migration may not carry yet
        for table in s.metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)
    with engine.begin() as conn:
        chains = fill(conn, events)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return engine, chains


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db-dir", type=Path, default=None)
    args = ap.parse_args()
    cat, cfg = load_catalogue(), load_config()
    scans: dict[int, float] = {}
    with tempfile.TemporaryDirectory(dir=args.db_dir) as tmp:
        for n in args.sizes:
            t = time.perf_counter()
            engine, chains = build(Path(tmp) / f"scan-{n}.db", n)
            print(f"\n{n:,} events ({chains:,} chains): filled in {time.perf_counter() - t:.1f} s")
            runs: list[float] = []
            per_rule: dict[str, list[float]] = {}
            found = 0
            for _ in range(args.repeat):

                def mark(rule: str, _count: int, seconds: float, into: dict[str, list[float]] = per_rule) -> None:
                    into.setdefault(rule, []).append(seconds)

                start = time.perf_counter()
                with engine.connect() as conn:
                    found = len(run_rules(conn, catalogue=cat, config=cfg, on_rule=mark))
                runs.append(time.perf_counter() - start)
            scans[n] = statistics.median(runs)
            per_million = scans[n] / n * 1e6
            print(f"  full scan: {scans[n]:.2f} s (median of {args.repeat}), {per_million:.1f} s per million events")
            print(f"  findings: {found:,}")
            for rule, times in per_rule.items():
                print(f"    {rule:28s} {statistics.median(times):7.3f} s")
            batch = []
            scoped_rule: dict[str, list[float]] = {}
            for i in (chains // 3, chains // 2, chains - 7):
                scope = Scope(
                    event_ids=frozenset({f"urn:uuid:{i}-mine-0", f"urn:uuid:{i}-conc", f"urn:uuid:{i}-export"}),
                    lot_ids=frozenset({f"urn:oretrail:lot:{USCC}:ore-{i}-0"}),
                    declaration_nos=frozenset({f"{5301_2025_0_000000000 + i:018d}"}),
                )

                def smark(rule: str, _count: int, seconds: float, into: dict[str, list[float]] = scoped_rule) -> None:
                    into.setdefault(rule, []).append(seconds)

                start = time.perf_counter()
                with engine.begin() as conn:
                    run_rules(conn, scope, catalogue=cat, config=cfg, on_rule=smark)
                batch.append(time.perf_counter() - start)
            print(f"  capture-time run for one chain's batch: {statistics.median(batch) * 1000:.0f} ms median")
            slowest = sorted(scoped_rule.items(), key=lambda kv: -statistics.median(kv[1]))[:4]
            print("    slowest there: " + ", ".join(f"{r} {statistics.median(t) * 1000:.0f} ms" for r, t in slowest))
            engine.dispose()
    sizes = sorted(scans)
    for a, b in itertools.pairwise(sizes):
        ratio = scans[b] / scans[a]
        nlogn = (b * math.log(b)) / (a * math.log(a))
        print(f"\ngrowth {a:,} → {b:,}: time ×{ratio:.2f}; n ×{b / a:.1f}, n log n ×{nlogn:.2f}")


if __name__ == "__main__":
    main()
