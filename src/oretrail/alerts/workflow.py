"""What officers did about an alert: an append-only decision log, and the current state read from it.

Nothing is overwritten, so who decided what, and when, can always be shown to a reviewer; the state is a fold
over the log. The alerts table keeps that fold in a few columns (`status`, `level`, `handed_to`,
`shared_with`, `acknowledged_at`, `withdrawn_at`), written with each entry, so queues and access filters are
one indexed query; `state()` recomputes it from the log and tests hold the two equal.

The lifecycle (issue 13 §4): new → assigned → investigating → actioned | dismissed (a reason required).
Sharing is horizontal and vertical: `share` gives another department sight of the alert; `escalate` lifts a
provincial alert to the centre (the coordination office), `hand_down` gives a central one to a province. An
alert nobody has acknowledged by its severity's deadline escalates by itself (`escalate_overdue`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from oretrail.alerts.routing import DEPARTMENTS_ALL, NATIONAL
from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.notify import outbox
from oretrail.storage.schema import alert_actions, alerts

STATUSES = ("new", "assigned", "investigating", "actioned", "dismissed")
CLOSED = ("actioned", "dismissed")
LEVELS = ("province", "central")
# Officers' actions; `comment` and `attach` may follow a closed alert, nothing else may.
ACTIONS = ("assign", "investigate", "comment", "attach", "escalate", "hand_down", "share", "dismiss", "act")
AFTER_CLOSE = ("comment", "attach")
NEEDS_REASON = ("dismiss", "act", "escalate")  # what a reviewer will ask "why?" about
# Decisions other offices must hear of at once: published through the outbox (notify/outbox.py), in the
# transaction that records them.
NOTIFIED = ("escalate", "hand_down", "share")
# The platform's own entries: a finding that no longer holds once its evidence was corrected is withdrawn,
# and reinstated if it comes back; a provisional alert's window closed and the finding still holds (settle);
# an alert nobody acknowledged in time goes up by itself (escalate, by SYSTEM_ACTOR).
SYSTEM_ACTOR = "oretrail"
WITHDRAW, REINSTATE, SETTLE = "withdraw", "reinstate", "settle"

# How long a settled alert may wait for an officer's first action before it goes to the centre by itself.
# An operating policy, not law: the Export Control Law asks for prompt action without a figure. Critical
# findings (ten times the statutory line, rules/defaults.toml [severity]) reach the centre within a working
# half-day; a medium one waits three days, a working week covers a low one. An operator changes them here.
ACK_DEADLINES = {
    "critical": timedelta(hours=4),
    "high": timedelta(hours=24),
    "medium": timedelta(days=3),
    "low": timedelta(days=7),
}

OVERDUE = Message(
    "workflow.overdue",
    "escalated by itself: nobody acknowledged this {severity:term} alert within {hours:g} hours of it settling",
)
SETTLED = Message(
    "workflow.settled", "settled as of {when:minute} UTC: the evidence that could clear it had its chance to arrive"
)


UNKNOWN_ACTION = Message("workflow.error.unknown_action", "unknown action {action!r}; one of {allowed}")
NO_ACTOR = Message("workflow.error.no_actor", "an action needs the officer who took it")
NO_ALERT = Message("workflow.error.no_alert", "no alert {alert}")
SHARE_NEEDS = Message("workflow.error.share_needs", "share needs a department, one of {allowed}")
ASSIGN_NEEDS = Message("workflow.error.assign_needs", "assign needs the assignee (note) or the department")
HAND_DOWN_NEEDS = Message(
    "workflow.error.hand_down_needs", "hand_down needs the province (an ISO 3166-2 code of China such as CN-JX)"
)
ATTACH_NEEDS = Message("workflow.error.attach_needs", "attach needs the attachment's content hash (store it first)")
NEEDS_NOTE = Message("workflow.error.needs_note", "{action:term} needs a note giving the reason, for the review record")
CLOSED_ALERT = Message(
    "workflow.error.closed", "alert {alert} is {status:term}; only a comment or an attachment can follow"
)
AT_CENTRE_ALREADY = Message("workflow.error.at_centre", "alert {alert} is already with the centre")
NOT_AT_CENTRE = Message(
    "workflow.error.not_at_centre", "alert {alert} is worked in its province; only the centre hands alerts down"
)


class WorkflowError(ValueError):
    """A decision the workflow does not allow, raised with its message (`said_of` reads it in either language)."""

    def __init__(self, said: Said) -> None:
        super().__init__(said)


@dataclass
class Action:
    action: str
    actor: str
    at: datetime
    department: str | None = None
    province: str | None = None
    note: str | None = None
    attachment: str | None = None


@dataclass
class AlertState:
    alert_id: str
    status: str = "new"
    level: str = "province"  # where it is worked: in its province, or at the centre
    handed_to: str | None = None  # a province the centre handed it down to
    assignee: str | None = None
    escalations: int = 0
    shared_with: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # content hashes (alerts/attachments.py)
    acknowledged_at: datetime | None = None  # the first officer's action
    withdrawn: bool = False  # the finding no longer holds (its evidence was corrected); see `reconcile`
    settled: bool = False  # out of its settling window and in the officers' queue
    history: list[Action] = field(default_factory=list)


def record_action(
    conn: Connection,
    alert_id: str,
    action: str,
    actor: str,
    *,
    department: str | None = None,
    province: str | None = None,
    note: str | None = None,
    attachment: str | None = None,
    at: datetime | None = None,
) -> AlertState:
    """Append an officer's decision in the caller's transaction and return the state that follows."""
    from oretrail.registry.provinces import is_cn_province

    if action not in ACTIONS:
        raise WorkflowError(UNKNOWN_ACTION(action=action, allowed=", ".join(ACTIONS)))
    if not actor.strip() or actor == SYSTEM_ACTOR:
        raise WorkflowError(NO_ACTOR())
    row = conn.execute(select(alerts.c.id, alerts.c.jurisdiction).where(alerts.c.id == alert_id)).first()
    if row is None:
        raise WorkflowError(NO_ALERT(alert=alert_id))
    if action == "share" and department not in DEPARTMENTS_ALL:
        raise WorkflowError(SHARE_NEEDS(allowed=", ".join(DEPARTMENTS_ALL)))
    if action == "assign" and not (note or department):
        raise WorkflowError(ASSIGN_NEEDS())
    if action == "hand_down" and not (province and is_cn_province(province)):
        raise WorkflowError(HAND_DOWN_NEEDS())
    if action == "attach" and not attachment:
        raise WorkflowError(ATTACH_NEEDS())
    if action in NEEDS_REASON and not (note or "").strip():
        raise WorkflowError(NEEDS_NOTE(action=action))
    current = state(conn, alert_id)
    if current.status in CLOSED and action not in AFTER_CLOSE:
        raise WorkflowError(CLOSED_ALERT(alert=alert_id, status=current.status))
    if action == "escalate" and current.level == "central":
        raise WorkflowError(AT_CENTRE_ALREADY(alert=alert_id))
    if action == "hand_down" and current.level != "central":
        raise WorkflowError(NOT_AT_CENTRE(alert=alert_id))
    when = at or utcnow()
    _append(conn, [{"alert_id": alert_id, "action": action, "actor": actor, "department": department,
                    "province": province, "note": note, "attachment": attachment, "at": when}])  # fmt: skip
    st = state(conn, alert_id)
    _fold(conn, st)
    if action in NOTIFIED:
        _notify(conn, alert_id, {"action": action, "actor": actor, "department": department, "province": province,
                                 "note": note, "at": when})  # fmt: skip
    return st


def _notify(conn: Connection, alert_id: str, action: dict[str, Any]) -> None:
    """The decision goes to the outbox in the transaction that records it (docs/notifications.md)."""
    from oretrail.alerts.store import as_record  # the store imports this module for its log entries

    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one()
    outbox.alert_action(conn, as_record(row), {**action, "at": action["at"].isoformat(timespec="seconds") + "Z"})


def _append(conn: Connection, rows: list[dict[str, object]]) -> None:
    if rows:
        conn.execute(insert(alert_actions), rows)


def _fold(conn: Connection, st: AlertState) -> None:
    conn.execute(
        update(alerts)
        .where(alerts.c.id == st.alert_id)
        .values(
            status=st.status,
            level=st.level,
            handed_to=st.handed_to,
            shared_with=orjson.dumps(st.shared_with).decode(),
            acknowledged_at=st.acknowledged_at,
        )
    )


def initial_level(jurisdiction: str) -> str:
    """An alert with no province of its own (an unregistered party, a partner's statistics) starts at the
    centre; every other starts in its province."""
    return "central" if jurisdiction == NATIONAL else "province"


def state(conn: Connection, alert_id: str) -> AlertState:
    jurisdiction = conn.execute(select(alerts.c.jurisdiction).where(alerts.c.id == alert_id)).scalar()
    st = AlertState(alert_id, level=initial_level(jurisdiction or NATIONAL))
    rows = conn.execute(select(alert_actions).where(alert_actions.c.alert_id == alert_id).order_by(alert_actions.c.id))
    for r in rows:
        st.history.append(Action(r.action, r.actor, r.at, r.department, r.province, r.note, r.attachment))
        if r.actor != SYSTEM_ACTOR and st.acknowledged_at is None:
            st.acknowledged_at = r.at
        if r.action == "assign":
            st.assignee = r.note or r.department
            if st.status == "new":
                st.status = "assigned"
        elif r.action == "investigate":
            st.status = "investigating"
        elif r.action == "escalate":
            st.escalations += 1
            st.level, st.handed_to = "central", None
        elif r.action == "hand_down":
            st.level, st.handed_to = "province", r.province
        elif r.action == "share" and r.department not in st.shared_with:
            st.shared_with.append(r.department)
        elif r.action == "attach" and r.attachment:
            st.attachments.append(r.attachment)
        elif r.action == "dismiss":
            st.status = "dismissed"
        elif r.action == "act":
            st.status = "actioned"
        elif r.action == WITHDRAW:
            st.withdrawn = True
        elif r.action == REINSTATE:
            st.withdrawn = False
        elif r.action == SETTLE:
            st.settled = True
    return st


def withdrawn_ids(conn: Connection, among: Iterable[str] | None = None) -> set[str]:
    """Alerts whose newest system entry is a withdrawal (the finding no longer holds): the alerts table keeps
    that fold in `withdrawn_at`, written with each entry."""
    q = select(alerts.c.id).where(alerts.c.withdrawn_at.is_not(None))
    if among is None:
        return set(conn.execute(q).scalars())
    wanted = sorted(set(among))
    found: set[str] = set()
    for i in range(0, len(wanted), 400):
        found.update(conn.execute(q.where(alerts.c.id.in_(wanted[i : i + 400]))).scalars())
    return found


def note_text(note: str | None, lang: str = "en") -> str | None:
    """An entry's note as words: the platform's own notes are message keys (stored as JSON), officers' are
    their own words."""
    if note and note.startswith('{"$said":'):
        return Said.from_json(orjson.loads(note)["$said"]).render(lang)
    return note


def system_entries(conn: Connection, alert_ids: Iterable[str], action: str, note: Said) -> None:
    said = orjson.dumps({"$said": note.to_json()}).decode()
    rows: list[dict[str, object]] = [
        {"alert_id": a, "action": action, "actor": SYSTEM_ACTOR, "department": None, "province": None,
         "note": said, "attachment": None, "at": utcnow()}
        for a in sorted(set(alert_ids))
    ]  # fmt: skip
    if not rows:
        return
    _append(conn, rows)
    ids = [str(r["alert_id"]) for r in rows]
    if action in (WITHDRAW, REINSTATE):
        stamp = rows[0]["at"] if action == WITHDRAW else None
        for i in range(0, len(ids), 400):
            conn.execute(update(alerts).where(alerts.c.id.in_(ids[i : i + 400])).values(withdrawn_at=stamp))
    elif action == "escalate":
        for i in range(0, len(ids), 400):
            conn.execute(update(alerts).where(alerts.c.id.in_(ids[i : i + 400])).values(level="central"))


def escalate_overdue(conn: Connection, now: datetime) -> list[str]:
    """Settled, standing alerts in a province that no officer acknowledged within their severity's deadline go
    to the centre by themselves, once (a later hand-down is an officer's decision and stands)."""
    a = alerts.c
    rows = conn.execute(
        select(a.id, a.severity, a.settled_at).where(
            a.settled_at.is_not(None),
            a.withdrawn_at.is_(None),
            a.acknowledged_at.is_(None),
            a.level == "province",
            a.status == "new",
        )
    ).all()
    due: dict[str, list[str]] = {}
    for r in rows:
        limit = ACK_DEADLINES.get(r.severity, ACK_DEADLINES["low"])
        if r.settled_at + limit <= now:
            due.setdefault(r.severity, []).append(r.id)
    already = {
        i
        for (i,) in conn.execute(
            select(alert_actions.c.alert_id).where(
                alert_actions.c.action == "escalate", alert_actions.c.actor == SYSTEM_ACTOR
            )
        )
    }
    out: list[str] = []
    for severity, ids in sorted(due.items()):
        fresh = [i for i in ids if i not in already]
        hours = ACK_DEADLINES.get(severity, ACK_DEADLINES["low"]).total_seconds() / 3600
        system_entries(conn, fresh, "escalate", OVERDUE(severity=severity, hours=hours))
        for alert_id in fresh:
            _notify(conn, alert_id, {"action": "escalate", "actor": SYSTEM_ACTOR, "department": None,
                                     "province": None, "note": OVERDUE.render("en", severity=severity, hours=hours),
                                     "at": now})  # fmt: skip
        out += fresh
    return sorted(out)
