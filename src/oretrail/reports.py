"""Read-only overviews an officer asks for first: what is on record, stage by stage."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from oretrail.chain.model import STAGES
from oretrail.storage.schema import (
    declarations,
    enterprises,
    events,
    exports,
    facilities,
    ledger,
    licences,
    lots,
    shipments,
)


def _count(conn: Connection, table: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def summary_rows(conn: Connection) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"what": "ledger records", "count": _count(conn, ledger)},
        {"what": "enterprises", "count": _count(conn, enterprises)},
        {"what": "facilities", "count": _count(conn, facilities)},
        {"what": "licences", "count": _count(conn, licences)},
        {"what": "customs declarations", "count": _count(conn, declarations)},
        {"what": "events (live)", "count": _count(conn, events, events.c.retracted.is_(False))},
        {"what": "events retracted by correction", "count": _count(conn, events, events.c.retracted.is_(True))},
    ]
    by_stage = dict(
        conn.execute(
            select(events.c.stage, func.count()).where(events.c.retracted.is_(False)).group_by(events.c.stage)
        ).all()
    )
    rows += [{"what": f"  {stage} events", "count": int(by_stage.get(stage, 0))} for stage in STAGES]
    mined = select(func.coalesce(func.sum(lots.c.mass_g), 0)).where(lots.c.created_stage == "mining")
    exported = select(func.coalesce(func.sum(exports.c.grams), 0))
    rows += [
        {"what": "lots", "count": _count(conn, lots)},
        {"what": "shipments", "count": _count(conn, shipments)},
        {"what": "shipments in transit", "count": _count(conn, shipments, shipments.c.received_at.is_(None))},
        {"what": "tonnes mined", "count": round(int(conn.execute(mined).scalar_one()) / 1e6, 3)},
        {"what": "tonnes exported", "count": round(int(conn.execute(exported).scalar_one()) / 1e6, 3)},
    ]
    return rows
