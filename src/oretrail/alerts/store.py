"""Turning findings into alerts (SPEC.md §4): deterministic ids, stored once, never duplicated.

An alert's id is a hash of rule, subject and finding key, so the same finding found by a capture-time run, a
rescan, or a second server is the same alert: storing is "insert unless present", and whatever else changes
later (more evidence, a new figure) does not raise the alert again. Officers work from the first raise; the
current figures are always one `explain` away.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from oretrail.alerts.routing import departments, jurisdictions
from oretrail.alerts.severity import LEVELS, severity, value_at_stake
from oretrail.alerts.workflow import REINSTATE, WITHDRAW, system_entries, withdrawn_ids
from oretrail.ledger.store import utcnow
from oretrail.registry.records import party_of_location
from oretrail.rules.base import Catalogue, Finding
from oretrail.rules.config import Config, load_config
from oretrail.rules.runner import default_catalogue, run_rules
from oretrail.rules.scope import Scope
from oretrail.storage.schema import alerts

_CHUNK = 400


def alert_id(rule: str, subject_kind: str, subject_id: str, key: str = "") -> str:
    return hashlib.sha256("\x1f".join((rule, subject_kind, subject_id, key)).encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    new: list[str]  # ids of alerts raised by this call, in finding order
    existing: list[str]  # ids of findings that were already alerts


def record_findings(
    conn: Connection,
    findings: Sequence[Finding],
    *,
    catalogue: Catalogue | None = None,
    config: Config | None = None,
    raised_at: datetime | None = None,
) -> Recorded:
    """Store findings as alerts in the caller's transaction; returns which were new."""
    if not findings:
        return Recorded([], [])
    cat, cfg = catalogue or default_catalogue(), config or load_config()
    ids = [alert_id(*f.ident) for f in findings]
    present: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        present.update(conn.execute(select(alerts.c.id).where(alerts.c.id.in_(ids[i : i + _CHUNK]))).scalars())
    fresh = [(i, f) for i, f in zip(ids, findings, strict=True) if i not in present]
    fresh = list({i: (i, f) for i, f in fresh}.values())
    if fresh:
        places = jurisdictions(conn, [f for _, f in fresh])
        now = raised_at or utcnow()
        rows = [
            {
                "id": i,
                "rule": f.rule,
                "severity": severity(f, cat, cfg),
                "raised_at": now,
                "subject_kind": f.subject_kind,
                "subject_id": f.subject_id,
                "jurisdiction": place,
                "party": f.party or party_of_location(f.location or ""),
                "departments": orjson.dumps(list(departments(f.rule))).decode(),
                "evidence": orjson.dumps(list(f.evidence)).decode(),
                "message": f.message,
                "details": orjson.dumps(
                    {**f.details, "key": f.key, "stake_g": f.stake_g, "value_at_stake_usd": value_at_stake(f, cat)},
                    option=orjson.OPT_SORT_KEYS,
                ).decode(),
            }
            for (i, f), place in zip(fresh, places, strict=True)
        ]
        ins = pg_insert(alerts) if conn.dialect.name == "postgresql" else sqlite_insert(alerts)
        # A concurrent scan may have raised the same alert since we looked: the first one stands.
        conn.execute(ins.on_conflict_do_nothing(index_elements=[alerts.c.id]), rows)
    return Recorded(new=[i for i, _ in fresh], existing=[i for i in ids if i in present])


def raise_alerts(
    conn: Connection,
    scope: Scope | None = None,
    *,
    config: Config | None = None,
    catalogue: Catalogue | None = None,
) -> Recorded:
    """Run the rules (everything, or what a batch touched) and store what they find: the capture pipeline's
    single call after projecting a batch, in the same transaction."""
    cat, cfg = catalogue or default_catalogue(), config or load_config()
    return record_findings(conn, run_rules(conn, scope, cfg, catalogue=cat), catalogue=cat, config=cfg)


def as_record(row: Any) -> dict[str, Any]:
    """The SPEC.md §4 alert record, exactly those keys in that order."""
    return {
        "id": row.id,
        "rule": row.rule,
        "severity": row.severity,
        "raised_at": row.raised_at.isoformat(timespec="seconds") + "Z",
        "subject": {"kind": row.subject_kind, "id": row.subject_id},
        "jurisdiction": row.jurisdiction,
        "departments": orjson.loads(row.departments),
        "evidence": orjson.loads(row.evidence),
        "message": row.message,
    }


def query_alerts(
    conn: Connection,
    *,
    rule: str | None = None,
    province: str | None = None,
    department: str | None = None,
    severity_at_least: str | None = None,
    include_withdrawn: bool = False,
) -> Iterator[dict[str, Any]]:
    """Standing alerts as SPEC records, newest first; `rule` matches the id and its finer sub-rules.

    Withdrawn alerts (their finding no longer holds after a correction) are left out unless asked for."""
    hidden = set() if include_withdrawn else withdrawn_ids(conn)
    q = select(alerts).order_by(alerts.c.raised_at.desc(), alerts.c.id)
    if rule:
        q = q.where((alerts.c.rule == rule) | alerts.c.rule.startswith(rule + "."))
    if province:
        q = q.where(alerts.c.jurisdiction == province)
    if department:
        q = q.where(alerts.c.departments.contains(f'"{department}"'))
    if severity_at_least:
        q = q.where(alerts.c.severity.in_(LEVELS[LEVELS.index(severity_at_least) :]))
    for row in conn.execute(q):
        if row.id not in hidden:
            yield as_record(row)


def reconcile(conn: Connection, current: Iterable[str], judged: Iterable[str], reason: str) -> tuple[int, int]:
    """After a run: alerts it judged but no longer finds are withdrawn; withdrawn ones it finds again are
    reinstated. Returns (withdrawn, reinstated). Both are system entries in the append-only workflow log."""
    now_found = set(current)
    already = withdrawn_ids(conn)
    gone = set(judged) - now_found - already
    back = now_found & already
    system_entries(conn, gone, WITHDRAW, reason)
    system_entries(conn, back, REINSTATE, "found again by a later run")
    return len(gone), len(back)


def ids_of_rules(conn: Connection, rules: Iterable[str]) -> list[str]:
    chosen = list(rules)
    return list(conn.execute(select(alerts.c.id).where(alerts.c.rule.in_(chosen))).scalars()) if chosen else []


def ids_citing(conn: Connection, evidence: Iterable[str]) -> set[str]:
    """Alerts whose evidence names any of these records (event ids, declaration numbers, …)."""
    found: set[str] = set()
    for ref in sorted(set(evidence)):
        needle = orjson.dumps(ref).decode()
        found.update(conn.execute(select(alerts.c.id).where(alerts.c.evidence.contains(needle))).scalars())
    return found


def get_alert(conn: Connection, alert: str) -> Any:
    return conn.execute(select(alerts).where(alerts.c.id == alert)).first()
