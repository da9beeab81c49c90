"""Supervision records and monthly reports into the ledger, then into their tables.

Both feeds are ledger records like every other (tamper-evident, replayed by rebuild): a review, an
inspection, a closure, a training session or a report is evidence an officer may have to show years later.
Re-sending the same record is a no-op; a changed record is a new version and replaces the row (a report's
first filing time is kept: a correction filed later does not make an on-time report late).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, select, tuple_

from oretrail.errors import TWICE, IntakeError
from oretrail.ledger.notary import Notary
from oretrail.ledger.store import LedgerWriter, Pending, Record
from oretrail.storage.schema import (
    action_closures,
    corrective_actions,
    facility_statuses,
    inspections,
    ledger,
    monthly_reports,
    reviews,
    training_attendance,
    trainings,
)
from oretrail.storage.upsert import upsert
from oretrail.supervision.records import (
    Closure,
    Inspection,
    Report,
    Review,
    SupervisionRecord,
    Training,
    ledger_key,
    parse_reports,
    parse_supervision,
)
from oretrail.supervision.review import score_review

SUPERVISION_KINDS = ("review", "inspection", "closure", "training")
REPORT_KIND = "report"


@dataclass(frozen=True, slots=True)
class LoadCounts:
    new: int = 0
    changed: int = 0
    unchanged: int = 0


_KEY_COLUMNS = {
    "review": reviews.c.id,
    "inspection": inspections.c.id,
    "closure": action_closures.c.action_id,
    "training": trainings.c.id,
}


def load_supervision(engine: Engine, lines: Iterable[bytes | str], name: str, action_days: int = 90) -> LoadCounts:
    """A corrective action without a deadline gets the default one (`action_days` after the inspection),
    written into the record the ledger keeps: the deadline is then evidence, not a setting read later."""
    parsed = parse_supervision(list(lines), name, action_days)
    items = []
    for rec, raw in parsed:
        if isinstance(rec, Inspection) and rec.actions:
            raw = {
                **raw,
                "actions": [
                    {**a, "due": act.due.isoformat()} for a, act in zip(raw["actions"], rec.actions, strict=True)
                ],
            }
        items.append((*ledger_key(rec), raw))
    return _load(engine, items, name, project_supervision)


def load_reports(engine: Engine, lines: Iterable[bytes | str], name: str) -> LoadCounts:
    parsed = parse_reports(list(lines), name)
    return _load(engine, [(REPORT_KIND, rep.key, raw) for rep, raw in parsed], name, project_reports)


def _latest(conn: Connection, writer: LedgerWriter, kind: str, keys: list[str]) -> dict[str, str]:
    if kind == REPORT_KIND:
        pairs = [tuple(k.rsplit(":", 1)) for k in keys]
        found: dict[str, str] = {}
        for i in range(0, len(pairs), 400):
            q = (
                select(monthly_reports.c.enterprise, monthly_reports.c.period, ledger.c.digest)
                .join(ledger, ledger.c.seq == monthly_reports.c.seq)
                .where(tuple_(monthly_reports.c.enterprise, monthly_reports.c.period).in_(pairs[i : i + 400]))
            )
            found.update((f"{e}:{p}", d) for e, p, d in conn.execute(q))
        return found
    return writer.latest_digests(_KEY_COLUMNS[kind], keys)


def _load(engine: Engine, items: list[tuple[str, str, dict[str, Any]]], name: str, project: Any) -> LoadCounts:
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for kind, key, raw in items:
        if (kind, key) in seen and seen[(kind, key)] != raw:
            raise IntakeError(name, None, "id", TWICE(kind=kind, key=key), unit="line")
        seen[(kind, key)] = raw
    new = changed = unchanged = 0
    with Notary.open(engine).transaction(engine) as conn:
        writer = LedgerWriter(conn)
        latest: dict[str, dict[str, str]] = {}
        for kind in {k for k, _ in seen}:
            latest[kind] = _latest(conn, writer, kind, [key for k, key in seen if k == kind])
        pending = []
        for (kind, key), raw in seen.items():
            p = Pending.of(kind, key, raw)
            old = latest[kind].get(key)
            if old == p.digest:
                unchanged += 1
                continue
            new, changed = (new + 1, changed) if old is None else (new, changed + 1)
            pending.append(p)
        project(conn, writer.append(pending))
    return LoadCounts(new, changed, unchanged)


def project_supervision(conn: Connection, records: Sequence[Record]) -> None:
    """Rows from ledger records of the supervision feed, newest version winning (ledger order)."""
    for rec in records:
        ((item, _),) = parse_supervision([rec.body], f"ledger record {rec.seq}")
        _project_one(conn, item, rec.seq, rec.json())


def _project_one(conn: Connection, item: SupervisionRecord, seq: int, raw: dict[str, Any]) -> None:
    if isinstance(item, Review):
        upsert(conn, reviews, [{
            "id": item.id, "enterprise": item.enterprise, "reviewer": item.reviewer, "date": item.date,
            "template_version": item.template, "elements": orjson.dumps(item.elements).decode(),
            "score": score_review(item.elements).score, "seq": seq,
        }])  # fmt: skip
    elif isinstance(item, Inspection):
        upsert(conn, inspections, [{
            "id": item.id, "enterprise": item.enterprise, "facility": item.facility, "province": item.province,
            "inspector": item.inspector, "date": item.date, "basis": item.basis, "plan": item.plan,
            "items": orjson.dumps(list(item.items)).decode(), "alerts": orjson.dumps(list(item.alerts)).decode(),
            "facility_status": item.facility_status, "seq": seq,
        }])  # fmt: skip
        conn.execute(delete(corrective_actions).where(corrective_actions.c.inspection_id == item.id))
        if item.actions:
            upsert(conn, corrective_actions, [{
                "id": a.id, "inspection_id": item.id, "enterprise": item.enterprise, "facility": item.facility,
                "item": a.item, "text": a.text, "opened_on": item.date, "due_on": a.due, "seq": seq,
            } for a in item.actions])  # fmt: skip
        conn.execute(delete(facility_statuses).where(facility_statuses.c.inspection_id == item.id))
        if item.facility_status and item.facility:
            upsert(conn, facility_statuses, [{"facility": item.facility, "since": item.date,
                                              "inspection_id": item.id, "status": item.facility_status}])  # fmt: skip
    elif isinstance(item, Closure):
        evidence = orjson.dumps(list(item.evidence)).decode()
        row = {"action_id": item.action, "closed_on": item.date, "by": item.by, "evidence": evidence, "seq": seq}
        upsert(conn, action_closures, [row])
    elif isinstance(item, Training):
        upsert(conn, trainings, [{
            "id": item.id, "date": item.date, "province": item.province, "topic": item.topic,
            "title": orjson.dumps(item.title).decode(), "guidance": orjson.dumps(list(item.guidance)).decode(),
            "seq": seq,
        }])  # fmt: skip
        conn.execute(delete(training_attendance).where(training_attendance.c.training_id == item.id))
        upsert(conn, training_attendance, [{"training_id": item.id, "enterprise": e, "attendees": n}
                                           for e, n in item.attendance])  # fmt: skip


def project_reports(conn: Connection, records: Sequence[Record]) -> None:
    """Report rows: the newest lines, the first filing time (a record without `filed_at` was filed when the
    ledger recorded it)."""
    for rec in records:
        ((rep, _),) = parse_reports([rec.body], f"ledger record {rec.seq}")
        _project_report(conn, rep, rec)


def _project_report(conn: Connection, rep: Report, rec: Record) -> None:
    filed = rep.filed_at or rec.recorded_at
    first = conn.execute(
        select(monthly_reports.c.filed_at).where(
            monthly_reports.c.enterprise == rep.enterprise, monthly_reports.c.period == rep.period
        )
    ).scalar()
    upsert(conn, monthly_reports, [{
        "enterprise": rep.enterprise, "period": rep.period, "filed_at": min(filed, first) if first else filed,
        "lines": orjson.dumps(list(rep.lines)).decode(), "seq": rec.seq,
    }])  # fmt: skip


def clear_supervision(conn: Connection) -> None:
    for table in (reviews, inspections, corrective_actions, action_closures, trainings, training_attendance,
                  facility_statuses):  # fmt: skip
        conn.execute(delete(table))


def clear_reports(conn: Connection) -> None:
    conn.execute(delete(monthly_reports))
