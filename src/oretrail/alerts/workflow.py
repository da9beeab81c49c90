"""What officers did about an alert: an append-only log, and the current state read from it.

Nothing is overwritten, so who decided what, and when, can always be shown to a reviewer; the state is a fold
over the log. A closed alert (dismissed or acted on) takes notes only, so its outcome cannot be blurred
afterwards; reopening is an escalation, which is itself on record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, insert, select

from oretrail.alerts.routing import DEPARTMENTS_ALL
from oretrail.ledger.store import utcnow
from oretrail.storage.schema import alert_actions, alerts

ACTIONS = ("assign", "escalate", "share", "dismiss", "act", "note")
CLOSING = ("dismiss", "act")


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
    conn.execute(
        insert(alert_actions).values(
            alert_id=alert_id, action=action, actor=actor, department=department, note=note, at=at or utcnow()
        )
    )
    return state(conn, alert_id)


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
    return st
