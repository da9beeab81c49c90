"""A larger store for timing full scans: a loaded SQLite store copied N times over, every identifier renamed.

    python3 -m uv run python bench/scale_copy.py /work/data/scan-s10.db /work/data/scan-x10.db --copies 10

Simulating and capturing scale 100 (~10M events) takes hours on a small machine; this makes a store of the
same size in minutes, honestly labelled: copy k (1..N-1) of every projection the rules read gets every
identifier suffixed with `.c<k>` (events, lots, waybills, declarations, licences, enterprises, facilities,
ports, inspections, corrective actions, reviews: a country of N provinces like the simulated one, each with
its own ports), the ledger sequence numbers shifted by k * 10**8, times kept (the same period, N times the
activity); declarations and licences keep their ports' customs codes. Partner statistics (`mirror`) are
multiplied by N, since N times the exports are what partners then report. Not copied: the ledger itself,
the EPCIS query index and the alert tables (no rule reads them), so the copy is for timing scans, never for
`verify` or `rebuild`.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import time
from pathlib import Path

SHIFT = 10**8  # above any sequence number of the source

# table: (identifier columns renamed per copy, sequence columns shifted per copy)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "events": (
        (
            "event_id",
            "biz_location",
            "read_point",
            "waybill",
            "declaration_no",
            "source_party",
            "dest_party",
            "dest_location",
        ),
        ("seq", "original_seq"),
    ),
    "event_lots": (("lot_id", "event_id", "from_place", "from_owner", "to_place", "to_owner"), ("seq",)),
    "lots": (("lot_id", "created_event", "created_location"), ()),
    "genealogy": (("output_lot", "input_lot", "event_id"), ()),
    "shipments": (
        (
            "waybill",
            "origin",
            "dest_location",
            "dest_party",
            "dispatch_event",
            "receipt_event",
            "received_location",
        ),
        (),
    ),
    "positions": (("lot_id", "place", "owner"), ()),
    "exports": (("event_id", "lot_id", "declaration_no", "port"), ()),
    "declarations": (("declaration_no", "exporter", "licence_no"), ("seq",)),
    "customs_channels": (("declaration_no",), ()),
    "licences": (("licence_no", "exporter"), ("seq",)),
    "enterprises": (("party_id", "uscc"), ("seq",)),
    "facilities": (("location_id", "owner"), ("seq",)),
    "facility_statuses": (("facility", "inspection_id"), ()),
    "inspections": (("id", "enterprise", "facility"), ("seq",)),
    "corrective_actions": (("id", "inspection_id", "enterprise", "facility"), ("seq",)),
    "action_closures": (("action_id",), ("seq",)),
    "reviews": (("id", "enterprise"), ("seq",)),
    "monthly_reports": (("enterprise",), ("seq",)),
    "training_attendance": (("enterprise",), ()),
}


def renamed(column: str, suffix: str) -> str:
    """The identifier with the copy's suffix; NULL and '' (holder unknown) as they are. A suffix keeps every
    prefix-derived identifier consistent (a declaration's place `urn:oretrail:declaration:<no>`)."""
    return f"CASE WHEN {column} IS NULL OR {column} = '' THEN {column} ELSE {column} || '{suffix}' END"


def copy(source: Path, target: Path, copies: int) -> None:
    if target.exists():
        raise SystemExit(f"{target} exists: remove it first")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    src.backup(dst)  # a consistent copy even while the source is open elsewhere
    src.close()
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=OFF")
    dst.execute("PRAGMA cache_size=-1048576")
    dst.execute("ATTACH DATABASE ? AS o", (f"file:{source}?mode=ro",))
    for k in range(1, copies):
        started = time.perf_counter()
        suffix = f".c{k}"
        for table, (ids, seqs) in TABLES.items():
            columns = [r[1] for r in dst.execute(f"PRAGMA main.table_info({table})")]
            select = [renamed(c, suffix) if c in ids else f"{c} + {k * SHIFT}" if c in seqs else c for c in columns]
            dst.execute(f"INSERT INTO main.{table} ({', '.join(columns)}) SELECT {', '.join(select)} FROM o.{table}")
        dst.commit()
        print(f"copy {k}: {time.perf_counter() - started:.1f} s", flush=True)
    dst.execute("UPDATE mirror SET net_kg = net_kg * ?, value_usd = value_usd * ?", (copies, copies))
    dst.commit()
    dst.execute("DETACH DATABASE o")
    dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n = dst.execute("SELECT count(*) FROM events").fetchone()[0]
    dst.close()
    print(f"{target}: {n:,} events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    copy(args.source, args.target, args.copies)
    key = Path(f"{args.source}.signing.key")
    if key.exists():
        shutil.copy(key, f"{args.target}.signing.key")


if __name__ == "__main__":
    main()
