"""Page 2, the alert queue: filter, sort and page through the alerts the reader may see, open one to read its
evidence, explanation and trace, act on it within the platform's workflow (alerts/workflow.py), and attach
files to it and download them (alerts/attachments.py).

The queue is the officers' queue of the API (settled, standing alerts of the alert rules), narrowed by the
same predicate (`alerts_visible`); an action is the same `record_action` the API calls, with the signed-in
officer as its actor, refused the same way when the role may not act on that alert.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine, case, select

from oretrail.access.caller import Caller
from oretrail.access.scope import alerts_visible
from oretrail.alerts.routing import DEPARTMENTS_ALL
from oretrail.alerts.severity import LEVELS
from oretrail.alerts.store import message_of
from oretrail.alerts.workflow import ACTIONS, CLOSED, STATUSES, WorkflowError, note_text, record_action, state
from oretrail.api.deps import engine, reader
from oretrail.i18n.message import Message, said_of, text
from oretrail.registry.provinces import MINERAL_PROVINCES, _cn_subdivisions
from oretrail.rules.rule import Queue
from oretrail.rules.runner import RULES
from oretrail.storage.schema import alerts, lots
from oretrail.web.errors import BadInput, out_of_sight
from oretrail.web.forms import label, permitted, posted
from oretrail.web.paging import paginate
from oretrail.web.render import finish, language, may, page, redirect
from oretrail.web.session import PATH, page_caller, same_site

router = APIRouter(prefix=PATH, include_in_schema=False)

QUEUE_RULES = tuple(r.id for r in RULES if r.queue is Queue.ALERTS)
OFFICER_ACTIONS = tuple(a for a in ACTIONS if a != "attach")  # a file is attached by its own form
NO_ACTION = Message("web.refused.no_action", "action: {action:q} is not an action on an alert; one of {actions:list}")
_SEVERITY = case({level: i for i, level in enumerate(LEVELS)}, value=alerts.c.severity, else_=-1)
COLUMNS = {
    "raised": alerts.c.raised_at,
    "severity": _SEVERITY,
    "rule": alerts.c.rule,
    "province": alerts.c.jurisdiction,
    "status": alerts.c.status,
}


def _queue(who: Caller, params: dict[str, str]) -> Any:
    q = select(alerts).where(
        alerts.c.rule.in_(QUEUE_RULES),
        alerts.c.settled_at.is_not(None),
        alerts.c.withdrawn_at.is_(None),
        alerts_visible(who),
    )
    if params.get("rule"):
        rule = params["rule"]
        q = q.where((alerts.c.rule == rule) | alerts.c.rule.startswith(rule + "."))
    if params.get("severity") in LEVELS:
        q = q.where(alerts.c.severity == params["severity"])
    if params.get("province"):
        q = q.where(alerts.c.jurisdiction == params["province"])
    if params.get("department") in DEPARTMENTS_ALL:
        q = q.where(alerts.c.departments.contains(f'"{params["department"]}"'))
    if params.get("status") in STATUSES:
        q = q.where(alerts.c.status == params["status"])
    return q


def provinces() -> list[str]:
    """Mineral provinces first, then every other province of China, and the centre."""
    others = sorted(set(_cn_subdivisions()) - set(MINERAL_PROVINCES))
    return [*MINERAL_PROVINCES, *others]


@router.get("/alerts")
def queue(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "alert", request.url.query)
    params = dict(request.query_params)
    rows, paging = paginate(conn, _queue(who, params), params, COLUMNS, ("raised", "desc"), tiebreak=alerts.c.id)
    lang = language(request)
    items = [{"row": r, "message": message_of(r).render(lang)} for r in rows]
    return page(
        request, who, "alerts.html", title="web.nav.alerts", active="alerts", items=items, paging=paging,
        rules=sorted(QUEUE_RULES), levels=LEVELS, departments=DEPARTMENTS_ALL, statuses=STATUSES,
        provinces=["CN", *provinces()],
    )  # fmt: skip


def visible(conn: Connection, who: Caller, alert_id: str, action: str = "read") -> Any:
    """The alert row, when the reader may `action` it: the API's rule (a narrowed view is told "not yours"
    whether or not the alert exists, so ids cannot be probed)."""
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id, alerts_visible(who, action))).first()
    if row is not None:
        return row
    raise out_of_sight(who, action, "alert", alert_id)


def _detail(request: Request, who: Caller, conn: Connection, alert_id: str, *, status: int = 200,
            error: str | None = None) -> Response:  # fmt: skip
    from oretrail.alerts.explain import explain

    row = visible(conn, who, alert_id)
    lang = language(request)
    st = state(conn, alert_id)
    evidence: list[str] = orjson.loads(row.evidence)
    lot_ids = set(conn.execute(select(lots.c.lot_id).where(lots.c.lot_id.in_(evidence[:400]))).scalars())
    if row.subject_kind == "lot":
        lot_ids.add(row.subject_id)
    history = [
        {"action": a.action, "actor": a.actor, "at": a.at, "department": a.department, "province": a.province,
         "note": note_text(a.note, lang)}
        for a in st.history
    ]  # fmt: skip
    may_act = may(who, "act", "alert") and (
        conn.execute(select(alerts.c.id).where(alerts.c.id == alert_id, alerts_visible(who, "act"))).first() is not None
    )
    files = _attachments(conn, st.history)
    return page(
        request, who, "alert.html", status=status, files=files, title="web.alert.title", active="alerts", row=row,
        message=message_of(row).render(lang), departments_of=orjson.loads(row.departments), evidence=evidence,
        lot_ids=lot_ids, state=st, history=history, explanation=explain(conn, alert_id, lang), may_act=may_act,
        closed=st.status in CLOSED, actions=OFFICER_ACTIONS, all_departments=DEPARTMENTS_ALL,
        provinces=provinces(), error=error, done=request.query_params.get("done"),
    )  # fmt: skip


def _attachments(conn: Connection, history: list[Any]) -> list[dict[str, Any]]:
    """The files attached to the alert, as the workflow log holds them (who, when, the note given: the file's
    name from this page), with their media type and size."""
    from oretrail.storage.schema import attachments

    attached = [a for a in history if a.action == "attach" and a.attachment]
    if not attached:
        return []
    meta = {
        r.sha256: r
        for r in conn.execute(
            select(attachments.c.sha256, attachments.c.media_type, attachments.c.size).where(
                attachments.c.sha256.in_({a.attachment for a in attached})
            )
        )
    }
    return [{"sha256": a.attachment, "actor": a.actor, "at": a.at, "note": a.note, "media_type":
             meta[a.attachment].media_type if a.attachment in meta else "", "size":
             meta[a.attachment].size if a.attachment in meta else 0} for a in attached]  # fmt: skip


@router.get("/alerts/{alert_id}")
def alert_page(
    request: Request,
    alert_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "alert", alert_id)
    return _detail(request, who, conn, alert_id)


@router.post("/alerts/{alert_id}/act", dependencies=[Depends(same_site)])
async def act(
    request: Request,
    alert_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    form = await posted(request, who, "act", "alert", alert_id)
    action = form.text("action")
    form.audit.action = f"act.{action}"
    if action not in OFFICER_ACTIONS:
        raise BadInput(NO_ACTION(action=action, actions=list(OFFICER_ACTIONS)))
    try:
        with eng.begin() as conn:
            visible(conn, who, alert_id, "act")
            record_action(
                conn, alert_id, action, who.user, department=form.text("department") or None,
                province=form.text("province") or None, note=form.text("note") or None,
            )  # fmt: skip
    except WorkflowError as exc:
        form.audit.reason = str(exc)
        with eng.connect() as conn:
            return _detail(request, who, conn, alert_id, status=422, error=text(said_of(exc), language(request)))
    return redirect(request, f"{PATH}/alerts/{alert_id}?done={action}")


@router.post("/alerts/{alert_id}/attach", dependencies=[Depends(same_site)])
async def attach(
    request: Request,
    alert_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    """`POST /alerts/{id}/attachments` from a form: the same permission (act on this alert), the same store
    (once by SHA-256) and the same workflow entry; the file's name is the entry's note."""
    from oretrail.alerts.attachments import MAX_ATTACHMENT_BYTES, AttachmentError, store_attachment

    form = await posted(request, who, "act", "alert", alert_id, max_bytes=MAX_ATTACHMENT_BYTES)
    form.audit.action = "act.attach"
    upload = form.file("file", label("web.alert.file"))
    body = await upload.read()
    name = (upload.filename or "attachment")[:200]
    words = form.text("note")
    try:
        with eng.begin() as conn:
            visible(conn, who, alert_id, "act")
            digest = store_attachment(conn, body, upload.content_type or "")
            record_action(conn, alert_id, "attach", who.user, note=f"{name} · {words}" if words else name,
                          attachment=digest)  # fmt: skip
    except (AttachmentError, WorkflowError) as exc:
        form.audit.reason = str(exc)
        with eng.connect() as conn:
            return _detail(request, who, conn, alert_id, status=422, error=text(said_of(exc), language(request)))
    return redirect(request, f"{PATH}/alerts/{alert_id}?done=attach#files")


@router.get("/attachments/{sha256}")
def download(
    request: Request,
    sha256: str,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    """`GET /attachments/{sha256}`'s rule: readable by whoever may read an alert it is attached to. Always
    a download, never shown in the page's origin (an attached HTML file must not run as ours)."""
    from oretrail.alerts.attachments import read_attachment
    from oretrail.storage.schema import alert_actions

    permitted(request, who, "read", "alert", sha256)
    holders = select(alert_actions.c.alert_id).where(alert_actions.c.attachment == sha256)
    seen = conn.execute(select(alerts.c.id).where(alerts.c.id.in_(holders), alerts_visible(who)).limit(1)).first()
    found = read_attachment(conn, sha256) if seen is not None else None
    if found is None:
        raise out_of_sight(who, "read", "alert", sha256, thing="attachment")
    headers = {"Content-Disposition": f'attachment; filename="{sha256[:16]}"'}
    return finish(request, Response(found[0], media_type=found[1], headers=headers))
