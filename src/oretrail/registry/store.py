"""Registry intake: every enterprise and facility record goes through the ledger, then into the registry tables.

Re-importing the same file changes nothing; a changed record becomes a new ledger version and replaces
the registry row, so history stays in the ledger while the tables show the present.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, Engine

from oretrail.errors import TWICE, IntakeError
from oretrail.ledger.notary import Notary
from oretrail.ledger.store import LedgerWriter, Pending, Record
from oretrail.registry.records import Enterprise, Facility, parse_registry
from oretrail.storage.schema import enterprises, facilities
from oretrail.storage.upsert import upsert


@dataclass(frozen=True, slots=True)
class LoadCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0


def _key(rec: Enterprise | Facility) -> tuple[str, str]:
    return ("enterprise", rec.party_id) if isinstance(rec, Enterprise) else ("facility", rec.location_id)


def load_registry(engine: Engine, lines: Iterable[bytes | str], name: str, notary: Notary | None = None) -> LoadCounts:
    """Validate the whole file first; then one transaction for all of it, sealed (ledger/notary.py)."""
    raw = [ln for ln in lines]
    parsed = parse_registry(raw, name)
    bodies = [orjson.loads(ln) for ln in raw if ln.strip()]
    assert len(bodies) == len(parsed), "the registry was read as it was parsed, line for line"
    line_of = [n for n, ln in enumerate(raw, 1) if ln.strip()]
    seen: dict[tuple[str, str], int] = {}
    for i, rec in enumerate(parsed):
        k = _key(rec)
        if k in seen and bodies[seen[k]] != bodies[i]:
            raise IntakeError(name, line_of[i], "id", TWICE(kind=k[0], key=k[1]), unit="line")
        seen[k] = i
    new = changed = unchanged = 0
    with (notary or Notary.open(engine)).transaction(engine) as conn:
        writer = LedgerWriter(conn)
        pending: list[Pending] = []
        latest = {
            kind: writer.latest_digests(column, [k for (kd, k) in seen if kd == kind])
            for kind, column in (("enterprise", enterprises.c.party_id), ("facility", facilities.c.location_id))
        }
        for (kind, key), i in seen.items():
            p = Pending.of(kind, key, bodies[i])
            old = latest[kind].get(key)
            if old == p.digest:
                unchanged += 1
                continue
            new, changed = (new + 1, changed) if old is None else (new, changed + 1)
            pending.append(p)
        project_registry(conn, writer.append(pending))
    return LoadCounts(new, changed, unchanged)


def project_registry(conn: Connection, records: Sequence[Record]) -> None:
    """Registry rows from ledger records (newest version wins, since records come in ledger order)."""
    ents: dict[str, dict[str, object]] = {}
    facs: dict[str, dict[str, object]] = {}
    for rec in records:
        (item,) = parse_registry([rec.body], f"ledger record {rec.seq}")
        if isinstance(item, Enterprise):
            ents[item.party_id] = {
                "party_id": item.party_id,
                "uscc": item.uscc,
                "name": item.name,
                "province": item.province,
                "stages": orjson.dumps(list(item.stages)).decode(),
                "registered": item.registered,
                "seq": rec.seq,
            }
        else:
            facs[item.location_id] = {
                "location_id": item.location_id,
                "owner": item.owner,
                "type": item.type,
                "province": item.province,
                "capacity_kg_per_year": item.capacity_kg_per_year,
                "seq": rec.seq,
            }
    upsert(conn, enterprises, list(ents.values()))
    upsert(conn, facilities, list(facs.values()))
