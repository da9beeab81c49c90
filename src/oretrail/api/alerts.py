"""Alerts for the officers who act on them: list, read, explain, and the workflow log.

Each caller sees the alerts the permission table gives them (access/scope.py `alerts_visible`): the list is
filtered in the query, a read of one outside it is 403. Actions are recorded with the signed-in caller as
the actor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, select

from oretrail.access.caller import Caller
from oretrail.access.scope import alerts_visible
from oretrail.alerts.workflow import AlertState
from oretrail.api.auth import note, out_of_sight, permit, unseen
from oretrail.api.deps import engine, lang, reader
from oretrail.i18n.message import said_of
from oretrail.storage.schema import alerts

router = APIRouter(prefix="/alerts", tags=["alerts"])


class ActionIn(BaseModel):
    """The officer taking the action is the signed-in caller; there is no actor field to fill in."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["assign", "investigate", "comment", "escalate", "hand_down", "share", "dismiss", "act"]
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


def visible_alert(request: Request, conn: Connection, who: Caller, alert_id: str, action: str = "read") -> None:
    """404 when the alert does not exist for a caller who may see every alert; 403 when it is not among the
    alerts the caller may `action` (whether or not it exists, for a caller whose view is narrowed)."""
    q = select(alerts.c.id).where(alerts.c.id == alert_id, alerts_visible(who, action))
    if conn.execute(q).first() is None:
        raise out_of_sight(request, who, action, "alert", *unseen(who, action, "alert", alert_id))


@router.get("", summary="Alerts as SPEC.md §4 records, newest first: those the caller may see")
def list_alerts(
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
    language: Annotated[str, Depends(lang)],
    rule: str | None = None,
    province: str | None = None,
    department: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    from oretrail.alerts.store import query_alerts

    return list(
        query_alerts(
            conn, rule=rule, province=province, department=department, visible=alerts_visible(who), limit=limit,
            lang=language,
        )
    )  # fmt: skip


@router.get("/{alert_id}", summary="One alert with its workflow state")
def get_alert(
    request: Request,
    alert_id: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
    language: Annotated[str, Depends(lang)],
) -> dict[str, Any]:
    from oretrail.alerts.store import as_record
    from oretrail.alerts.store import get_alert as fetch
    from oretrail.alerts.workflow import state

    visible_alert(request, conn, who, alert_id)
    row = fetch(conn, alert_id)
    return {**as_record(row, language), "state": _state_out(state(conn, alert_id)).model_dump(mode="json")}


@router.get("/{alert_id}/explain", summary="The evidence chain in plain words")
def explain_alert(
    request: Request,
    alert_id: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
    language: Annotated[str, Depends(lang)],
) -> dict[str, str]:
    from oretrail.alerts.explain import explain

    visible_alert(request, conn, who, alert_id)
    try:
        return {"id": alert_id, "explanation": explain(conn, alert_id, language)}
    except KeyError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{alert_id}/actions", summary="Record the caller's decision on an alert (append-only)")
def act_on_alert(
    request: Request,
    alert_id: str,
    body: ActionIn,
    eng: Annotated[Engine, Depends(engine)],
    who: Annotated[Caller, Depends(permit("act", "alert"))],
) -> StateOut:
    from oretrail.alerts.workflow import WorkflowError, record_action

    note(request).action = f"act.{body.action}"
    try:
        with eng.begin() as conn:
            visible_alert(request, conn, who, alert_id, "act")
            st = record_action(
                conn, alert_id, body.action, who.user, department=body.department, province=body.province,
                note=body.note,
            )  # fmt: skip
    except WorkflowError as exc:
        raise HTTPException(422, said_of(exc)) from None  # type: ignore[arg-type]  # read when answered
    return _state_out(st)


@router.post(
    "/{alert_id}/attachments",
    summary="Attach a file (the request body, any media type); stored once by its SHA-256",
    status_code=201,
)
async def attach_to_alert(
    request: Request,
    alert_id: str,
    eng: Annotated[Engine, Depends(engine)],
    who: Annotated[Caller, Depends(permit("act", "alert"))],
) -> StateOut:
    from oretrail.alerts.attachments import AttachmentError, store_attachment
    from oretrail.alerts.workflow import WorkflowError, record_action

    note(request).action = "act.attach"
    body = await request.body()
    try:
        with eng.begin() as conn:
            visible_alert(request, conn, who, alert_id, "act")
            digest = store_attachment(conn, body, request.headers.get("content-type", ""))
            st = record_action(conn, alert_id, "attach", who.user, attachment=digest)
    except AttachmentError as exc:
        raise HTTPException(413 if exc.too_large else 422, said_of(exc)) from None  # type: ignore[arg-type]
    except WorkflowError as exc:
        raise HTTPException(422, said_of(exc)) from None  # type: ignore[arg-type]
    return _state_out(st)


attachments_router = APIRouter(prefix="/attachments", tags=["alerts"])


@attachments_router.get("/{sha256}", summary="An attached file, as it was attached", response_class=Response)
def get_attachment(
    request: Request,
    sha256: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "alert"))],
) -> Response:
    """Readable by whoever may read an alert it is attached to."""
    from oretrail.alerts.attachments import read_attachment
    from oretrail.storage.schema import alert_actions

    holders = select(alert_actions.c.alert_id).where(alert_actions.c.attachment == sha256)
    seen = conn.execute(select(alerts.c.id).where(alerts.c.id.in_(holders), alerts_visible(who)).limit(1)).first()
    found = read_attachment(conn, sha256) if seen is not None else None
    if found is None:
        raise out_of_sight(request, who, "read", "alert", *unseen(who, "read", "attachment", sha256))
    return Response(found[0], media_type=found[1])
