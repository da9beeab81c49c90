"""A facility's status today and its history, as the dossier, the API and the CLI show it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from oretrail.rules.config import Config
from oretrail.rules.facility_status import status_on, timeline
from oretrail.storage.schema import facility_statuses
from oretrail.supervision.score import today


def status_history(conn: Connection, cfg: Config, facility: str) -> dict[str, Any]:
    rows = conn.execute(select(facility_statuses).where(facility_statuses.c.facility == facility))
    spans = timeline([(r.since, r.status, r.inspection_id) for r in rows], cfg)
    day = today(conn)
    return {
        "facility": facility,
        "status": status_on(spans, day).status,
        "history": [s.record() for s in spans],
    }
