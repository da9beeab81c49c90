"""Alerts for the officers who act on them: list, read, explain, and the workflow log."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from oretrail.api.deps import engine, lang, reader

router = APIRouter(prefix="/alerts", tags=["alerts"])


class ActionIn(BaseModel):
    action: Literal["assign", "escalate", "share", "dismiss", "act", "note"]
    actor: str = Field(min_length=1, description="The officer taking the action.")
    department: str | None = None
    note: str | None = None


@router.get("", summary="Alerts as SPEC.md §4 records, newest first")
def list_alerts(
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    rule: str | None = None,
    province: str | None = None,
    department: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    from oretrail.alerts.store import query_alerts

    out = []
    for i, rec in enumerate(query_alerts(conn, rule=rule, province=province, department=department, lang=language)):
        if i >= limit:
            break
        out.append(rec)
    return out


@router.get("/{alert_id}", summary="One alert with its workflow state")
def get_alert(
    alert_id: str, conn: Annotated[Connection, Depends(reader)], language: Annotated[str, Depends(lang)]
) -> dict[str, Any]:
    from oretrail.alerts.store import as_record
    from oretrail.alerts.store import get_alert as fetch
    from oretrail.alerts.workflow import state

    row = fetch(conn, alert_id)
    if row is None:
        raise HTTPException(404, f"no alert {alert_id}")
    st = state(conn, alert_id)
    return {
        **as_record(row, language),
        "state": {"status": st.status, "assignee": st.assignee, "shared_with": st.shared_with,
                  "escalations": st.escalations},
    }  # fmt: skip


@router.get("/{alert_id}/explain", summary="The evidence chain in plain words")
def explain_alert(
    alert_id: str, conn: Annotated[Connection, Depends(reader)], language: Annotated[str, Depends(lang)]
) -> dict[str, str]:
    from oretrail.alerts.explain import explain

    try:
        return {"id": alert_id, "explanation": explain(conn, alert_id, language)}
    except KeyError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{alert_id}/actions", summary="Record an officer's decision (append-only)")
def act_on_alert(alert_id: str, body: ActionIn, eng: Annotated[Engine, Depends(engine)]) -> dict[str, Any]:
    from oretrail.alerts.workflow import WorkflowError, record_action

    try:
        with eng.begin() as conn:
            st = record_action(conn, alert_id, body.action, body.actor, department=body.department, note=body.note)
    except WorkflowError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": alert_id, "status": st.status, "assignee": st.assignee, "shared_with": st.shared_with}
