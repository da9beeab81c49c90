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
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from oretrail.alerts.routing import departments, jurisdictions
from oretrail.alerts.severity import LEVELS, severity, value_at_stake
from oretrail.alerts.workflow import (
    REINSTATE,
    SETTLE,
    SETTLED,
    WITHDRAW,
    initial_level,
    system_entries,
    withdrawn_ids,
)
from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.ids import party_of_location
from oretrail.notify import outbox
from oretrail.rules.base import Finding
from oretrail.rules.config import Config, Settings
from oretrail.rules.rule import Queue, Settling
from oretrail.rules.runner import RULES, rule_of
from oretrail.rules.scope import scope_ids
from oretrail.storage.schema import alerts, declarations, events

_CHUNK = 400


def alert_id(rule: str, subject_kind: str, subject_id: str, key: str = "") -> str:
    return hashlib.sha256("\x1f".join((rule, subject_kind, subject_id, key)).encode()).hexdigest()


@dataclass(frozen=True)
class Recorded:
    new: list[str]  # ids of alerts raised by this call, in finding order
    existing: list[str]  # ids of findings that were already alerts


def record_findings(
    conn: Connection, findings: Sequence[Finding], settings: Settings, *, raised_at: datetime | None = None
) -> Recorded:
    """Store findings as alerts in the caller's transaction; returns which were new.

    A new alert is provisional until its `settles_at`; a provisional one found again on newer evidence waits
    for that evidence's window too (a draw reported later moves the deadline of the missing addition)."""
    if not findings:
        return Recorded([], [])
    cat, cfg = settings.catalogue, settings.config
    ids = [alert_id(*f.ident) for f in findings]
    present: dict[str, tuple[datetime | None, bool]] = {}  # id -> (settles_at, provisional)
    for i in range(0, len(ids), _CHUNK):
        q = select(alerts.c.id, alerts.c.settles_at, alerts.c.settled_at).where(alerts.c.id.in_(ids[i : i + _CHUNK]))
        present.update((r.id, (r.settles_at, r.settled_at is None)) for r in conn.execute(q))
    fresh = list({i: f for i, f in zip(ids, findings, strict=True) if i not in present}.items())
    waiting = {i: f for i, f in zip(ids, findings, strict=True) if i in present and present[i][1]}
    due = settle_times(conn, [f for _, f in fresh] + list(waiting.values()), cfg)
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
                "message_key": f.message.key,
                "message_params": orjson.dumps(
                    f.message.to_json()["params"], option=orjson.OPT_SORT_KEYS, default=_plain
                ).decode(),
                "details": orjson.dumps(
                    {**f.details, "key": f.key, "stake_g": f.stake_g, "value_at_stake_usd": value_at_stake(f, cat)},
                    option=orjson.OPT_SORT_KEYS,
                ).decode(),
                "settles_at": when,
                "settled_at": None,
                "withdrawn_at": None,
                "status": "new",
                "level": initial_level(place),
                "shared_with": "[]",
            }
            for (i, f), place, when in zip(fresh, places, due[: len(fresh)], strict=True)
        ]
        ins = pg_insert(alerts) if conn.dialect.name == "postgresql" else sqlite_insert(alerts)
        # A concurrent scan may have raised the same alert since we looked: the first one stands.
        conn.execute(ins.on_conflict_do_nothing(index_elements=[alerts.c.id]), rows)
    later = []
    for aid, when in zip(waiting, due[len(fresh) :], strict=True):
        before = present[aid][0]
        if when is not None and (before is None or when > before):
            later.append({"aid": aid, "when": when})
    if later:
        conn.execute(update(alerts).where(alerts.c.id == bindparam("aid")).values(settles_at=bindparam("when")), later)
    return Recorded(new=[i for i, _ in fresh], existing=[i for i in ids if i in present])


def _plain(value: Any) -> Any:
    """PostgreSQL hands sums back as Decimal: store them as the numbers they are."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not a message parameter")


def settle_times(conn: Connection, findings: Sequence[Finding], cfg: Config) -> list[datetime | None]:
    """When each finding settles, by its rule's policy (rules/rule.py `Settling`), from its anchor: the
    finding's own, or else the latest time among the events and declarations it cites. None: at once."""
    cited = sorted({e for f in findings if f.anchor is None for e in f.evidence})
    times: dict[str, datetime] = {}
    for i in range(0, len(cited), _CHUNK):
        chunk = cited[i : i + _CHUNK]
        times.update(
            conn.execute(select(events.c.event_id, events.c.event_time).where(events.c.event_id.in_(chunk))).all()
        )
        q = select(declarations.c.declaration_no, declarations.c.date).where(declarations.c.declaration_no.in_(chunk))
        times.update((no, datetime.combine(day, time())) for no, day in conn.execute(q))
    out: list[datetime | None] = []
    for f in findings:
        declared = rule_of(f.rule)
        policy = declared.settling if declared is not None else Settling.IMMEDIATE
        anchor = f.anchor or max((times[e] for e in f.evidence if e in times), default=None)
        if policy is Settling.IMMEDIATE or anchor is None:
            out.append(None)
        elif policy is Settling.FEED:
            out.append(anchor + timedelta(days=cfg.feed_days))
        else:
            out.append(month_end(anchor) + timedelta(days=cfg.report_deadline_days))
    return out


def month_end(moment: datetime) -> datetime:
    """The first instant after the month of `moment`."""
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)


def settle_due(conn: Connection, now: datetime) -> int:
    """Provisional, standing alerts whose window has passed by `now` settle: from then on they are in the
    officers' queue, and those of the alerts queue are notified through the outbox in this same transaction
    (leads are not: they have not yet shown their precision). Returns how many settled."""
    due = alerts.c.settled_at.is_(None), alerts.c.withdrawn_at.is_(None)
    ids = list(
        conn.execute(
            select(alerts.c.id).where(*due, alerts.c.settles_at.is_(None) | (alerts.c.settles_at <= now))
        ).scalars()
    )
    for i in range(0, len(ids), _CHUNK):
        conn.execute(update(alerts).where(alerts.c.id.in_(ids[i : i + _CHUNK])).values(settled_at=now))
    system_entries(conn, ids, SETTLE, SETTLED(when=now.isoformat()))
    _notify_settled(conn, ids)
    return len(ids)


def _notify_settled(conn: Connection, ids: Sequence[str]) -> None:
    """The alerts that now show in the officers' queue (`query_alerts`' default) go to the outbox, their
    record in English for the systems that read it (an officer's view renders it in their language)."""
    queued = [r.id for r in RULES if r.queue is Queue.ALERTS]
    for i in range(0, len(ids), _CHUNK):
        q = select(alerts).where(alerts.c.id.in_(ids[i : i + _CHUNK]), alerts.c.rule.in_(queued))
        outbox.alerts_settled(conn, [as_record(r) for r in conn.execute(q.order_by(alerts.c.id))])


LEGACY = Message("alert.legacy", "{text}")  # alerts raised before messages had keys (migration 0008)


def message_of(row: Any) -> Said:
    return Said.from_json({"key": row.message_key, "params": orjson.loads(row.message_params)})


def as_record(row: Any, lang: str = "en") -> dict[str, Any]:
    """The SPEC.md §4 alert record, exactly those keys in that order; the message in the reader's language."""
    return {
        "id": row.id,
        "rule": row.rule,
        "severity": row.severity,
        "raised_at": row.raised_at.isoformat(timespec="seconds") + "Z",
        "subject": {"kind": row.subject_kind, "id": row.subject_id},
        "jurisdiction": row.jurisdiction,
        "departments": orjson.loads(row.departments),
        "evidence": orjson.loads(row.evidence),
        "message": message_of(row).render(lang),
    }


def query_alerts(
    conn: Connection,
    *,
    rule: str | None = None,
    province: str | None = None,
    department: str | None = None,
    severity_at_least: str | None = None,
    include_withdrawn: bool = False,
    include_provisional: bool = False,
    queue: Queue = Queue.ALERTS,
    lang: str = "en",
    visible: ColumnElement[bool] | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Alerts as SPEC records, newest first; `rule` matches the id and its finer sub-rules.

    By default an officer's queue: settled and standing. Provisional alerts (evidence that could clear them
    may still arrive) and withdrawn ones (their finding no longer holds) are left out unless asked for; leads
    (statistical signals not yet proven on outside data) are a queue of their own. `visible` narrows to what
    a caller may see (access/scope.py `alerts_visible`), in the query, so `limit` counts only those."""
    q = select(alerts).order_by(alerts.c.raised_at.desc(), alerts.c.id)
    q = q.where(alerts.c.rule.in_([r.id for r in RULES if r.queue is queue]))
    if not include_withdrawn:
        q = q.where(alerts.c.withdrawn_at.is_(None))
    if not include_provisional:
        q = q.where(alerts.c.settled_at.is_not(None))
    if rule:
        q = q.where((alerts.c.rule == rule) | alerts.c.rule.startswith(rule + "."))
    if province:
        q = q.where(alerts.c.jurisdiction == province)
    if department:
        q = q.where(alerts.c.departments.contains(f'"{department}"'))
    if severity_at_least:
        q = q.where(alerts.c.severity.in_(LEVELS[LEVELS.index(severity_at_least) :]))
    if visible is not None:
        q = q.where(visible)
    if limit is not None:
        q = q.limit(limit)
    for row in conn.execute(q):
        yield as_record(row, lang)


FOUND_AGAIN = Message("workflow.reinstated", "found again by a later run")


def reconcile(conn: Connection, current: Iterable[str], judged: Iterable[str], reason: Said) -> tuple[int, int]:
    """After a run: alerts it judged but no longer finds are withdrawn; withdrawn ones it finds again are
    reinstated. Returns (withdrawn, reinstated). Both are system entries in the append-only workflow log."""
    now_found = set(current)
    judged = set(judged)
    already = withdrawn_ids(conn, judged | now_found)
    gone = judged - now_found - already
    back = now_found & already
    system_entries(conn, gone, WITHDRAW, reason)
    system_entries(conn, back, REINSTATE, FOUND_AGAIN())
    return len(gone), len(back)


def ids_of_rules(conn: Connection, rules: Iterable[str], *, scoped: bool = False) -> list[str]:
    """Alerts of these rules; `scoped`: only those whose subjects are in the scope table a scoped run just
    filled (rules/scope.py), i.e. exactly the alerts that run judged."""
    chosen = [r for r in RULES if r.id in set(rules)]
    out: list[str] = []
    for r in chosen:
        q = select(alerts.c.id).where(alerts.c.rule == r.id)
        if scoped:
            q = q.where(alerts.c.subject_id.in_(scope_ids(r.scope_kind)))
        out.extend(conn.execute(q).scalars())
    return out


def get_alert(conn: Connection, alert: str) -> Any:
    return conn.execute(select(alerts).where(alerts.c.id == alert)).first()
