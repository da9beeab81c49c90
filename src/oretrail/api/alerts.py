"""Alerts for the officers who act on them: list, read, explain, and the workflow log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from oretrail.alerts.workflow import AlertState
from oretrail.api.deps import engine, lang, reader

router = APIRouter(prefix="/alerts", tags=["alerts"])


class ActionIn(BaseModel):
    action: Literal["assign", "investigate", "comment", "escalate", "hand_down", "share", "dismiss", "act"]
    actor: str = Field(min_length=1, description="The officer taking the action.")
    department: str | None = Field(None, description="share: the department given sight; assign: the unit.")
    province: str | None = Field(None, description="hand_down: the ISO 3166-2 province the centre gives it to.")
    note: str | None = Field(None, description="The reason (required to escalate, dismiss or act) or comment.")


class StateOut(BaseModel):
    id: str
    status: str = Field(description="new | assigned | investigating | actioned | dismissed")
    level: str = Field(description="province | central: where the alert is worked")
    handed_to: str | None
    assignee: str | None
    shared_with: list[str]
    escalations: int
    attachments: list[str] = Field(description="SHA-256 of each attached file (GET /attachments/{sha256})")
    acknowledged_at: datetime | None


def _state_out(st: AlertState) -> StateOut:
    return StateOut(
        id=st.alert_id,
        status=st.status,
        level=st.level,
        handed_to=st.handed_to,
        assignee=st.assignee,
        shared_with=st.shared_with,
        escalations=st.escalations,
        attachments=st.attachments,
        acknowledged_at=st.acknowledged_at,
    )


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
    return {**as_record(row, language), "state": _state_out(st).model_dump(mode="json")}


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
def act_on_alert(alert_id: str, body: ActionIn, eng: Annotated[Engine, Depends(engine)]) -> StateOut:
    from oretrail.alerts.workflow import WorkflowError, record_action

    try:
        with eng.begin() as conn:
            st = record_action(
                conn, alert_id, body.action, body.actor, department=body.department, province=body.province,
                note=body.note,
            )  # fmt: skip
    except WorkflowError as exc:
        raise HTTPException(404 if str(exc) == f"no alert {alert_id}" else 422, str(exc)) from None
    return _state_out(st)


@router.post(
    "/{alert_id}/attachments",
    summary="Attach a file (the request body, any media type); stored once by its SHA-256",
    status_code=201,
)
async def attach_to_alert(
    alert_id: str, request: Request, actor: str, eng: Annotated[Engine, Depends(engine)]
) -> StateOut:
    from oretrail.alerts.attachments import AttachmentError, store_attachment
    from oretrail.alerts.workflow import WorkflowError, record_action

    body = await request.body()
    try:
        with eng.begin() as conn:
            digest = store_attachment(conn, body, request.headers.get("content-type", ""))
            st = record_action(conn, alert_id, "attach", actor, attachment=digest)
    except AttachmentError as exc:
        raise HTTPException(413 if "at most" in str(exc) else 422, str(exc)) from None
    except WorkflowError as exc:
        raise HTTPException(404 if str(exc) == f"no alert {alert_id}" else 422, str(exc)) from None
    return _state_out(st)


attachments_router = APIRouter(prefix="/attachments", tags=["alerts"])


@attachments_router.get("/{sha256}", summary="An attached file, as it was attached", response_class=Response)
def get_attachment(sha256: str, conn: Annotated[Connection, Depends(reader)]) -> Response:
    from oretrail.alerts.attachments import read_attachment

    found = read_attachment(conn, sha256)
    if found is None:
        raise HTTPException(404, f"no attachment {sha256}")
    return Response(found[0], media_type=found[1])
