"""What officers did about an alert: an append-only log, and the current state read from it.

Nothing is overwritten, so who decided what, and when, can always be shown to a reviewer; the state is a fold
over the log. A closed alert (dismissed or acted on) takes notes only, so its outcome cannot be blurred
afterwards; reopening is an escalation, which is itself on record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from oretrail.alerts.routing import DEPARTMENTS_ALL
from oretrail.clock import utcnow
from oretrail.notify import outbox
from oretrail.storage.schema import alert_actions, alerts

ACTIONS = ("assign", "escalate", "share", "dismiss", "act", "note")
CLOSING = ("dismiss", "act")
# Decisions other offices must hear of at once: published through the outbox (notify/outbox.py).
NOTIFIED = ("escalate", "share")
# The platform's own entries: a finding that no longer holds once its evidence was corrected is withdrawn,
# and reinstated if it comes back. Officers' decisions stay untouched either way.
SYSTEM_ACTOR = "oretrail"
WITHDRAW, REINSTATE = "withdraw", "reinstate"
# A provisional alert's evidence window closed and the finding still holds: from here it is in the officers'
# queue (docs/rules.md §Settling).
SETTLE = "settle"


class WorkflowError(ValueError):
    pass


@dataclass
class Action:
    action: str
    actor: str
    at: datetime
    department: str | None = None
    note: str | None = None


@dataclass
class AlertState:
    alert_id: str
    status: str = "open"  # open | assigned | escalated | dismissed | acted
    assignee: str | None = None
    escalations: int = 0
    shared_with: list[str] = field(default_factory=list)
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
    note: str | None = None,
    at: datetime | None = None,
) -> AlertState:
    if action not in ACTIONS:
        raise WorkflowError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if not actor.strip():
        raise WorkflowError("an action needs the officer who took it")
    if conn.execute(select(alerts.c.id).where(alerts.c.id == alert_id)).first() is None:
        raise WorkflowError(f"no alert {alert_id}")
    if action == "share" and department not in DEPARTMENTS_ALL:
        raise WorkflowError(f"share needs a department, one of {', '.join(DEPARTMENTS_ALL)}")
    if action == "assign" and not (note or department):
        raise WorkflowError("assign needs the assignee (note) or the department")
    current = state(conn, alert_id)
    if current.status in ("dismissed", "acted") and action not in ("note", "escalate"):
        raise WorkflowError(f"alert {alert_id} is {current.status}; only a note or an escalation can follow")
    if action in ("dismiss", "act") and not note:
        raise WorkflowError(f"{action} needs a note giving the reason, for the review record")
    when = at or utcnow()
    conn.execute(
        insert(alert_actions).values(
            alert_id=alert_id, action=action, actor=actor, department=department, note=note, at=when
        )
    )
    if action in NOTIFIED:
        _notify(conn, alert_id, {"action": action, "actor": actor, "department": department, "note": note, "at": when})
    return state(conn, alert_id)


def _notify(conn: Connection, alert_id: str, action: dict[str, Any]) -> None:
    """The decision goes to the outbox in the transaction that records it (docs/notifications.md)."""
    # Imported here: the store imports this module for its log entries.
    from oretrail.alerts.store import as_record

    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).one()
    outbox.alert_action(conn, as_record(row), {**action, "at": action["at"].isoformat(timespec="seconds") + "Z"})


def state(conn: Connection, alert_id: str) -> AlertState:
    st = AlertState(alert_id)
    rows = conn.execute(select(alert_actions).where(alert_actions.c.alert_id == alert_id).order_by(alert_actions.c.id))
    for r in rows:
        st.history.append(Action(r.action, r.actor, r.at, r.department, r.note))
        if r.action == "assign":
            st.assignee = r.note or r.department
            if st.status == "open":
                st.status = "assigned"
        elif r.action == "escalate":
            st.escalations += 1
            st.status = "escalated"
        elif r.action == "share" and r.department not in st.shared_with:
            st.shared_with.append(r.department)
        elif r.action == "dismiss":
            st.status = "dismissed"
        elif r.action == "act":
            st.status = "acted"
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


def system_entries(conn: Connection, alert_ids: Iterable[str], action: str, note: str) -> None:
    rows = [
        {"alert_id": a, "action": action, "actor": SYSTEM_ACTOR, "department": None, "note": note, "at": utcnow()}
        for a in sorted(set(alert_ids))
    ]
    if rows:
        conn.execute(insert(alert_actions), rows)
        if action not in (WITHDRAW, REINSTATE):
            return
        stamp = rows[0]["at"] if action == WITHDRAW else None
        ids = [r["alert_id"] for r in rows]
        for i in range(0, len(ids), 400):
            conn.execute(update(alerts).where(alerts.c.id.in_(ids[i : i + 400])).values(withdrawn_at=stamp))
