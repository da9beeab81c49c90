"""Alerts for the officers who act on them: list, read, explain, and the workflow log.

Each caller sees the alerts the permission table gives them (access/scope.py `alerts_visible`): the list is
filtered in the query, a read of one outside it is 403. Actions are recorded with the signed-in caller as
the actor.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, Engine, select

from oretrail.access.caller import Caller
from oretrail.access.scope import alerts_visible, unconstrained
from oretrail.api.auth import note, permit, refuse
from oretrail.api.deps import engine, reader
from oretrail.storage.schema import alerts

router = APIRouter(prefix="/alerts", tags=["alerts"])


class ActionIn(BaseModel):
    """The officer taking the action is the signed-in caller; there is no actor field to fill in."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["assign", "escalate", "share", "dismiss", "act", "note"]
    department: str | None = None
    note: str | None = None


def visible_alert(request: Request, conn: Connection, who: Caller, alert_id: str, action: str = "read") -> None:
    """404 when the alert does not exist for a caller who may see every alert; 403 when it is not among the
    alerts the caller may `action` (whether or not it exists, for a caller whose view is narrowed)."""
    kind_wide = unconstrained(who, action, "alert")
    q = select(alerts.c.id).where(alerts.c.id == alert_id, alerts_visible(who, action))
    if conn.execute(q).first() is not None:
        return
    if kind_wide:
        raise HTTPException(404, f"no alert {alert_id}")
    raise refuse(request, f"alert {alert_id} is not among the alerts {who.user} may {action} ({who.describe()})")


@router.get("", summary="Alerts as SPEC.md §4 records, newest first: those the caller may see")
def list_alerts(
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
    rule: str | None = None,
    province: str | None = None,
    department: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    from oretrail.alerts.store import query_alerts

    return list(
        query_alerts(
            conn, rule=rule, province=province, department=department, visible=alerts_visible(who), limit=limit
        )
    )


@router.get("/{alert_id}", summary="One alert with its workflow state")
def get_alert(
    request: Request,
    alert_id: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
) -> dict[str, Any]:
    from oretrail.alerts.store import as_record
    from oretrail.alerts.store import get_alert as fetch
    from oretrail.alerts.workflow import state

    visible_alert(request, conn, who, alert_id)
    row = fetch(conn, alert_id)
    st = state(conn, alert_id)
    return {
        **as_record(row),
        "state": {"status": st.status, "assignee": st.assignee, "shared_with": st.shared_with,
                  "escalations": st.escalations},
    }  # fmt: skip


@router.get("/{alert_id}/explain", summary="The evidence chain in plain words")
def explain_alert(
    request: Request,
    alert_id: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
) -> dict[str, str]:
    from oretrail.alerts.explain import explain

    visible_alert(request, conn, who, alert_id)
    try:
        return {"id": alert_id, "explanation": explain(conn, alert_id)}
    except KeyError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{alert_id}/actions", summary="Record the caller's decision on an alert (append-only)")
def act_on_alert(
    request: Request,
    alert_id: str,
    body: ActionIn,
    eng: Annotated[Engine, Depends(engine)],
    who: Annotated[Caller, Depends(permit("act", "alert"))],
) -> dict[str, Any]:
    from oretrail.alerts.workflow import WorkflowError, record_action

    note(request).action = f"act.{body.action}"
    try:
        with eng.begin() as conn:
            visible_alert(request, conn, who, alert_id, "act")
            st = record_action(conn, alert_id, body.action, who.user, department=body.department, note=body.note)
    except WorkflowError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": alert_id, "status": st.status, "assignee": st.assignee, "shared_with": st.shared_with}
