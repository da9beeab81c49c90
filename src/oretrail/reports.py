"""Read-only overviews an officer asks for first: what is on record, stage by stage."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from oretrail.i18n.message import Message
from oretrail.ids import STAGES
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


# What each summary row counts, in the reader's words (the rows keep the English as their key).
SUMMARY_WORDS = {
    what: Message(f"summary.{what.replace(' ', '_').replace('(', '').replace(')', '')}", what)
    for what in (
        "ledger records", "enterprises", "facilities", "licences", "customs declarations", "events (live)",
        "events retracted by correction", "lots", "shipments", "shipments in transit", "tonnes mined",
        "tonnes exported",
    )
}  # fmt: skip
STAGE_EVENTS = Message("summary.stage_events", "  {stage:stage} events")


def summary_words(what: str, lang: str) -> str:
    """A summary row's label in `lang`."""
    found = SUMMARY_WORDS.get(what)
    if found is not None:
        return found.render(lang)
    stage = what.strip().removesuffix(" events")
    return STAGE_EVENTS.render(lang, stage=stage) if stage in STAGES else what


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
    by_stage: dict[str, int] = dict(
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


SEVERITY_WEIGHT = {"low": 1, "medium": 3, "high": 9, "critical": 27}


def alert_breakdown(conn: Connection, by: str) -> list[dict[str, Any]]:
    """Open alerts counted by rule, jurisdiction or department (an alert counts once per department)."""
    from oretrail.alerts.workflow import withdrawn_ids
    from oretrail.storage.schema import alerts

    hidden = withdrawn_ids(conn)
    if by == "department":
        counts: dict[str, int] = {}
        for aid, deps in conn.execute(select(alerts.c.id, alerts.c.departments)):
            if aid in hidden:
                continue
            for d in orjson.loads(deps):
                counts[d] = counts.get(d, 0) + 1
        return [{"department": d, "alerts": n} for d, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
    col = {"rule": alerts.c.rule, "province": alerts.c.jurisdiction}[by]
    counts = {}
    for aid, key in conn.execute(select(alerts.c.id, col)):
        if aid not in hidden:
            counts[key] = counts.get(key, 0) + 1
    return [{by: k, "alerts": n} for k, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]


def enterprise_risk(conn: Connection, limit: int = 10) -> list[dict[str, Any]]:
    """Enterprises ranked by the severity-weighted standing alerts that concern them (1, 3, 9, 27 for low …
    critical)."""
    from oretrail.alerts.workflow import withdrawn_ids
    from oretrail.storage.schema import alerts

    hidden = withdrawn_ids(conn)
    score: dict[str, dict[str, Any]] = {}
    for aid, party, sev, rule in conn.execute(select(alerts.c.id, alerts.c.party, alerts.c.severity, alerts.c.rule)):
        if not party or aid in hidden:
            continue
        s = score.setdefault(party, {"score": 0, "alerts": 0, "rules": set()})
        s["score"] += SEVERITY_WEIGHT.get(sev, 1)
        s["alerts"] += 1
        s["rules"].add(rule)
    names = dict(conn.execute(select(enterprises.c.party_id, enterprises.c.name)).all())
    provinces = dict(conn.execute(select(enterprises.c.party_id, enterprises.c.province)).all())
    ranked = sorted(score.items(), key=lambda kv: (-kv[1]["score"], kv[0]))[:limit]
    return [
        {
            "enterprise": names.get(p, f"{p} (not in the registry)"),
            "province": provinces.get(p, "?"),
            "risk_score": s["score"],
            "alerts": s["alerts"],
            "rules": ", ".join(sorted(s["rules"])),
        }
        for p, s in ranked
    ]
