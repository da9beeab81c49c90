"""A larger store for timing full scans: a loaded SQLite store copied N times over, every identifier renamed.

    python3 -m uv run python bench/scale_copy.py /work/data/scan-s10.db /work/data/scan-x10.db --copies 10
    python3 -m uv run python bench/scale_copy.py --pg postgresql+psycopg://postgres@127.0.0.1/big --copies 130

Simulating and capturing scale 100 (~10M events) takes hours on a small machine; this makes a store of the
same size in minutes, honestly labelled: copy k (1..N-1) of every projection the rules read gets every
identifier suffixed with `.c<k>` (events, lots, waybills, declarations, licences, enterprises, facilities,
ports, inspections, corrective actions, reviews: a country of N provinces like the simulated one, each with
its own ports), the ledger sequence numbers shifted by k * 10**8, times kept (the same period, N times the
activity); declarations and licences keep their ports' customs codes. Partner statistics (`mirror`) are
multiplied by N, since N times the exports are what partners then report. Not copied: the ledger itself,
the EPCIS query index and the alert tables (no rule reads them), so the copy is for timing scans, never for
`verify` or `rebuild`.

`--pg URL` copies a loaded PostgreSQL database in place, for timing capture, trace and the EPCIS query at
that size (bench/scale_pg.py): the same tables, and also the ledger (keys renamed, bodies and hashes as
they are: never `verify`) and the EPCIS query index (its identifiers renamed), whose catch-up cursor is
then moved to the new head so that only what is captured afterwards is indexed. A record captured into the
copy gets the next sequence number after the last copy's and chains from its hash. Enterprises keep their
USCC there (PostgreSQL holds it to its 18 characters; nothing that is timed reads it).
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


# PostgreSQL only: what the reads at scale need besides the projections (the SQLite copy is for scans).
INDEXED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ledger": (("key",), ("seq",)),
    "epcis_events": (("event_id", "read_point", "biz_location", "transformation_id"), ("seq",)),
    "epcis_values": ((), ("seq",)),  # `value` renamed where it names an EPC, a class (a lot) or an event
}
NAMED_VALUES = ("epc", "parent", "input_epc", "output_epc", "class", "input_class", "output_class", "corrective")


def insert_copy(table: str, ids: tuple[str, ...], seqs: tuple[str, ...], k: int, source: str, target: str) -> str:
    """The statement that writes copy k of `table` from schema `source` into `target`, its columns as the
    platform declares them (storage/schema.py, which the migrations are tested to match)."""
    from oretrail.storage.schema import metadata

    suffix = f".c{k}"
    named = ", ".join(f"'{kind}'" for kind in NAMED_VALUES)
    columns = list(metadata.tables[table].columns.keys())
    select = [
        f"CASE WHEN kind IN ({named}) THEN value || '{suffix}' ELSE value END"
        if (table, c) == ("epcis_values", "value")
        else renamed(c, suffix) if c in ids
        else f"{c} + {k * SHIFT}" if c in seqs
        else c
        for c in columns
    ]  # fmt: skip
    return f"INSERT INTO {target}.{table} ({', '.join(columns)}) SELECT {', '.join(select)} FROM {source}.{table}"


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
        for table, (ids, seqs) in TABLES.items():
            dst.execute(insert_copy(table, ids, seqs, k, "o", "main"))
        dst.commit()
        print(f"copy {k}: {time.perf_counter() - started:.1f} s", flush=True)
    dst.execute("UPDATE mirror SET net_kg = net_kg * ?, value_usd = value_usd * ?", (copies, copies))
    dst.commit()
    dst.execute("DETACH DATABASE o")
    dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    n = dst.execute("SELECT count(*) FROM events").fetchone()[0]
    dst.close()
    print(f"{target}: {n:,} events")


def copy_pg(url: str, copies: int) -> None:
    """Copies 1..N-1 of every table in `TABLES` and `INDEXED`, in place, each copy its own transaction."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    tables = {**TABLES, **INDEXED}
    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM ledger WHERE seq >= :s"), {"s": SHIFT}).scalar_one():
            raise SystemExit(f"{url} holds copies already: copy a freshly loaded database")
        conn.execute(text("DROP SCHEMA IF EXISTS copy_source CASCADE"))
        conn.execute(text("CREATE SCHEMA copy_source"))
        for table in tables:
            conn.execute(text(f"CREATE TABLE copy_source.{table} AS TABLE public.{table}"))
    for k in range(1, copies):
        started = time.perf_counter()
        with engine.begin() as conn:
            for table, (ids, seqs) in tables.items():
                suffixed = tuple(c for c in ids if c != "uscc")  # 18 characters in PostgreSQL: no room for more
                conn.execute(text(insert_copy(table, suffixed, seqs, k, "copy_source", "public")))
        print(f"copy {k}: {time.perf_counter() - started:.1f} s", flush=True)
    with engine.begin() as conn:
        conn.execute(text("UPDATE mirror SET net_kg = net_kg * :n, value_usd = value_usd * :n"), {"n": copies})
        conn.execute(
            text("UPDATE cursors SET seq = (SELECT max(seq) FROM ledger WHERE kind = 'event') WHERE name = :c"),
            {"c": "epcis_index"},
        )
        conn.execute(text("DROP SCHEMA copy_source CASCADE"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        n = conn.execute(text("SELECT count(*) FROM events")).scalar_one()
    engine.dispose()
    print(f"{url}: {n:,} events")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, nargs="?")
    parser.add_argument("target", type=Path, nargs="?")
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--pg", help="a loaded PostgreSQL database, copied in place")
    args = parser.parse_args()
    if args.pg:
        copy_pg(args.pg, args.copies)
        return
    if not (args.source and args.target):
        parser.error("source and target are needed (or --pg URL)")
    copy(args.source, args.target, args.copies)
    key = Path(f"{args.source}.signing.key")
    if key.exists():
        shutil.copy(key, f"{args.target}.signing.key")


if __name__ == "__main__":
    main()
