"""POST /capture as capture jobs (202 + Location), GET /capture and /capture/{captureID}, and the capture of a
single event for POST /events.

Captured events take the one capture path there is (`feeds.BY_NAME["events"]`: intake, ledger, projections
and judging in one transaction), so an event sent here is stored, projected and judged exactly as if it came
through `oretrail load events` or POST /capture/events.

`GS1-Capture-Error-Behaviour`:
- `rollback` (default): every event is checked first and all refusals are reported, each naming its event
  and field; if there is any, nothing is stored.
- `proceed`: the refused events are reported and left out; the others are stored together.
An enterprise may capture only events at its own facilities (or at a port; `access/capture.py`): each event
it may not capture is a refusal of the job like any other (403, `epcisException:SecurityException`, naming
the event and the place), under the same behaviour. A job belongs to the caller who started it.
A job row is written before the 202 and updated when the job ends, so a job outlives the process; a job
that was running when the server stopped is reported as interrupted (its transaction never committed, so
nothing of it is stored, and sending the document again is safe: identical events are no-ops).
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, and_, or_, select, update

from oretrail.access.audit import Entry, append
from oretrail.access.caller import Caller
from oretrail.access.capture import CaptureDenied, event_denials
from oretrail.api.auth import Words, client_address, note
from oretrail.api.deps import lang
from oretrail.api.epcis.common import (
    EPCIS_CONTEXT,
    add_options,
    capture_limit,
    json_response,
    negotiate,
    now_text,
    problem_docs,
    utc_text,
    version_headers,
)
from oretrail.api.epcis.problems import (
    ALREADY_EXISTS,
    CAPTURE_LIMIT,
    IMPLEMENTATION,
    NO_SUCH_NAME,
    SECURITY,
    UNSUPPORTED_MEDIA,
    VALIDATION,
    EPCISProblem,
    problem,
    status_title,
)
from oretrail.api.epcis.query import (
    PAGING_PARAMETERS,
    TOKEN_NOT_OURS,
    TOKEN_NOT_VALID,
    decode_token,
    encode_token,
    per_page_of,
)
from oretrail.api.epcis.visibility import may_capture, may_read, owned
from oretrail.clock import utcnow
from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError
from oretrail.feeds import BY_NAME, read_events
from oretrail.i18n.message import Message, Said
from oretrail.intake.epcis import CapturedEvent, read_document
from oretrail.pipeline import ALREADY_STORED as STORED_OTHERWISE
from oretrail.pipeline import collector_paused, worded
from oretrail.storage.schema import capture_jobs

router = APIRouter(tags=["EPCIS capture"])

EPCIS_MEDIA = ("application/json", "application/ld+json")
BEHAVIOURS = ("rollback", "proceed")
ALREADY_STORED = frozenset({"unchanged"})
_EVENTS_PATH = {
    "EPCISDocument": ("epcisBody", "eventList"),
    "EPCISQueryDocument": ("epcisBody", "queryResults", "resultsBody", "eventList"),
}
_jobs_lock = threading.Lock()  # one capture job at a time per process: jobs land in the order they ran


SEND_JSON = Message("epcis.send_json", "send EPCIS JSON or JSON-LD ({media}), not {kind}")
TOO_LARGE = Message("epcis.title.too_large", "Capture payload too large")
BODY_TOO_LARGE = Message(
    "epcis.body_too_large", "the body is over the limit of {limit} bytes; split it into smaller documents"
)
TOO_MANY_EVENTS = Message(
    "epcis.too_many_events", "{events} events, more than GS1-EPCIS-Capture-Limit {limit}; split the document"
)
UNKNOWN_BEHAVIOUR = Message("epcis.title.behaviour", "Unknown capture error behaviour")
BEHAVIOUR_DETAIL = Message("epcis.behaviour", "GS1-Capture-Error-Behaviour must be rollback or proceed, not {given}")
NOT_JSON = Message("epcis.title.not_json", "Body is not JSON")
AT_LINE = Message("epcis.at_line", "line {line} column {column}: {error}")
MALFORMED = Message("epcis.malformed", "malformed JSON at line {line} column {column}: {error}")
NOT_DOCUMENT = Message("epcis.title.not_document", "Not an EPCIS document")
NOT_DOCUMENT_DETAIL = Message(
    "epcis.not_document", "the body must be an EPCISDocument or EPCISQueryDocument with an eventList"
)
JOB_NOT_FOUND = Message("epcis.title.job_not_found", "Capture job not found")
NO_JOB = Message("epcis.no_job", "no capture job {job}")
INTERRUPTED = Message("epcis.title.interrupted", "Capture interrupted")
INTERRUPTED_DETAIL = Message(
    "epcis.interrupted",
    "the server stopped before this job finished; nothing of it was stored; send the document again",
)
FAILED = Message("epcis.title.failed", "Capture failed")


async def read_json_body(request: Request) -> bytes:
    """The body of a capture request: JSON (415 otherwise), within the file-size limit (413 otherwise)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in EPCIS_MEDIA:
        raise EPCISProblem(
            415, UNSUPPORTED_MEDIA, status_title(415),
            SEND_JSON(media=", ".join(EPCIS_MEDIA), kind=kind or "no Content-Type"),
        )  # fmt: skip
    too_large = EPCISProblem(
        413, CAPTURE_LIMIT, TOO_LARGE, BODY_TOO_LARGE(limit=f"{MAX_DOCUMENT_BYTES:,}"),
        headers={"GS1-EPCIS-Capture-File-Size-Limit": str(MAX_DOCUMENT_BYTES)},
    )  # fmt: skip
    if int(request.headers.get("content-length") or 0) > MAX_DOCUMENT_BYTES:
        raise too_large
    data = await request.body()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise too_large
    return data


def events_of(doc: dict[str, Any]) -> list[Any] | None:
    """The eventList of an EPCISDocument or EPCISQueryDocument; None when there is none to read."""
    node: Any = doc
    for key in _EVENTS_PATH.get(doc.get("type"), ()):  # type: ignore[arg-type]
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, list) and doc.get("type") in _EVENTS_PATH else None


def with_events(doc: dict[str, Any], events: list[Any]) -> dict[str, Any]:
    """A copy of `doc` (header, context) carrying `events` instead of its own, as an EPCISDocument."""
    out = {k: v for k, v in doc.items() if k != "epcisBody"}
    out["type"] = "EPCISDocument"
    out["epcisBody"] = {"eventList": events}
    return out


EVENT_EXISTS = Message("epcis.title.event_exists", "Event already exists")
EVENT_REFUSED = Message("epcis.title.event_refused", "Event refused")
DOCUMENT_REFUSED = Message("epcis.title.document_refused", "Document refused")
NOT_THEIRS = Message("epcis.title.not_theirs", "Event refused: not the caller's to capture")
DENIED_EVENT = Message("epcis.denied_event", "{document}: event {index}{event_id:paren}: {reason}")
_SAID = "_said"  # a stored problem's words as messages, read again in each reader's language (`job_json`)


def _worded(body: dict[str, Any], title: Words, detail: Words) -> dict[str, Any]:
    """`body` keeping its title and detail as messages too, so that a job's errors, stored once, read in the
    language of whoever asks for the job."""
    body[_SAID] = {k: v.to_json() for k, v in (("title", _said(title)), ("detail", _said(detail))) if v is not None}
    return body


def _said(words: Words) -> Said | None:
    return Said(words.key) if isinstance(words, Message) else words if isinstance(words, Said) else None


def read_in(body: dict[str, Any], language: str) -> dict[str, Any]:
    """A stored problem in `language` (its words as messages dropped from what the client sees)."""
    out = {k: v for k, v in body.items() if k != _SAID}
    for key, said in (body.get(_SAID) or {}).items():
        out[key] = Said.from_json(said).render(language)
    return out


def _worded_as(body: dict[str, Any], key: str) -> Any:
    """A member of a problem made here, as the message it was made from when it is one."""
    said = (body.get(_SAID) or {}).get(key)
    return Said.from_json(said) if said is not None else body.get(key)


def event_problem(exc: IntakeError, index: int | None, event: Any) -> dict[str, Any]:
    """One refusal as the problem a capture job lists: which event (index and eventID), which field, why, and
    the refusal's stable `code` (its words read in the caller's language, the code and pointers do not)."""
    located = IntakeError(exc.document, index, exc.field, exc.said or exc.reason)
    event_id = event.get("eventID") if isinstance(event, dict) else None
    pointer = None
    if index is not None:
        pointer = f"/epcisBody/eventList/{index}" + ("/" + exc.field.replace(".", "/") if exc.field else "")
    title = EVENT_REFUSED if index is not None else DOCUMENT_REFUSED
    body = problem(400, VALIDATION, title, located.words())
    # Always present, null when they do not apply: a client reads them without guessing.
    body.update(eventIndex=index, eventID=event_id, field=exc.field, reason=exc.reason, code=exc.code, pointer=pointer)
    _worded(body, title, located.words())
    if exc.said is not None:
        body[_SAID]["reason"] = exc.said.to_json()
    return body


def _refusals(doc: dict[str, Any], events: list[Any], keep: list[int], name: str) -> dict[int, IntakeError]:
    """Intake's verdict on each kept event alone (schema, vocabulary, units, times): all refusals, not only
    the first, so a sender can fix a document in one round."""
    found: dict[int, IntakeError] = {}
    for i in keep:
        try:
            read_document(orjson.dumps(with_events(doc, [events[i]])), name)
        except IntakeError as exc:
            if exc.index is None:
                raise
            found[i] = exc
    return found


def denial_problem(denied: CaptureDenied, index: int, event: Any) -> dict[str, Any]:
    """An event the caller may not capture, as the problem a capture job lists (like `event_problem`)."""
    event_id = event.get("eventID") if isinstance(event, dict) else None
    detail = DENIED_EVENT(document=denied.document, index=index, event_id=event_id, reason=denied.said)
    body = problem(403, SECURITY, NOT_THEIRS, detail)
    pointer = f"/epcisBody/eventList/{index}" + (f"/{denied.field}" if denied.field else "")
    body.update(eventIndex=index, eventID=event_id, field=denied.field, reason=denied.reason, pointer=pointer)
    _worded(body, NOT_THEIRS, detail)
    if isinstance(denied.said, Said):
        body[_SAID]["reason"] = denied.said.to_json()
    return body


def _denials(
    engine: Engine, who: Caller | None, doc: dict[str, Any], events: list[Any], indices: list[int], name: str
) -> dict[int, dict[str, Any]]:
    """The events among `indices` (all readable) that `who` may not capture, by index; none for a server-side
    capture (no caller) or an unconstrained one. The events are read together, and one by one only if they
    cannot be (two of them share an eventID with different contents: intake refuses that later)."""
    if who is None or not indices:
        return {}
    found: list[tuple[int, CaptureDenied]] = []
    with engine.connect() as conn:
        try:
            data = orjson.dumps(with_events(doc, [events[i] for i in indices]))
            found = [(i, d) for d in event_denials(conn, who, data, name)
                     for i in (indices if d.index is None else [indices[d.index]])]  # fmt: skip
        except IntakeError:
            for i in indices:
                try:
                    found += [(i, d) for d in event_denials(conn, who, orjson.dumps(with_events(doc, [events[i]])),
                                                            name)]  # fmt: skip
                except IntakeError:
                    continue
    return {i: denial_problem(d, i, events[i]) for i, d in found}


def run_capture(
    engine: Engine,
    settings: Any,
    doc: dict[str, Any],
    name: str,
    behaviour: str,
    who: Caller | None = None,
    data: bytes | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Capture one document (`doc` as parsed, `data` its bytes as sent) under an error behaviour, for `who`
    (each event checked against what they may capture; None: the server itself); returns (problems, what was
    stored or None).

    The document is read once: a document with no refusal (the usual case) is stored from that reading.
    Only when events are refused is each one read alone (to report every refusal, not only the first) and
    the part that `proceed` keeps read again."""
    events = events_of(doc)
    assert events is not None
    keep = list(range(len(events)))
    errors: dict[int, IntakeError] = {}
    captured: list[CapturedEvent] | None = None
    try:
        captured = read_document(orjson.dumps(doc) if data is None else data, name)
    except IntakeError as exc:
        if exc.index is None:
            return [event_problem(exc, None, None)], None
        errors = _refusals(doc, events, keep, name)
        if not errors:  # only the document as a whole is refused (one eventID, two contents)
            errors[exc.index] = exc
    if captured is not None and who is not None:
        with engine.connect() as conn:
            denied = {i: denial_problem(d, i, events[i]) for d in event_denials(conn, who, captured, name)
                      for i in (keep if d.index is None else [d.index])}  # fmt: skip
    else:
        denied = _denials(engine, who, doc, events, [i for i in keep if i not in errors], name)
    while True:
        refused = {**{i: event_problem(e, i, events[i]) for i, e in errors.items()}, **denied}
        if refused and behaviour == "rollback":
            return [refused[i] for i in sorted(refused)], None
        keep = [i for i in keep if i not in refused]
        if not keep:
            return [refused[i] for i in sorted(refused)], None
        try:
            if captured is not None and not refused:  # the whole document, as read above
                report = read_events(engine, captured, name, settings)
            else:
                part = orjson.dumps(with_events(doc, [events[i] for i in keep]))
                report = BY_NAME["events"].read_bytes(engine, part, name, settings)
        except IntakeError as exc:  # judged only against what is stored (a rewrite), or between events
            if exc.index is None:
                return [event_problem(exc, None, None)], None
            errors[keep[exc.index]] = exc
            continue
        rows = report.rows or []
        for row in rows:  # positions in the document as sent, not in the part that was stored
            if row.get("index") is not None:
                row["index"] = keep[row["index"]]
        stored = {
            "counts": report.counts, "alerts_new": report.alerts_new, "withdrawn": report.withdrawn,
            "settled": report.settled, "outcomes": rows,
        }  # fmt: skip
        return [refused[i] for i in sorted(refused)], stored


def capture_single_event(request: Request, who: Caller, event: dict[str, Any]) -> dict[str, Any]:
    """POST /events: one event, captured now; its outcome row. Raises EPCISProblem (400 naming the field, 403
    when the caller may not capture it, 409 when the eventID is stored with other content)."""
    context = event.get("@context") or [EPCIS_CONTEXT]
    doc = {
        "@context": context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": now_text(),
        "epcisBody": {"eventList": [event]},
    }
    name = request.headers.get("x-document-name", "POST /events")
    with request.app.state.engine.connect() as conn:
        try:
            denied = event_denials(conn, who, orjson.dumps(doc), name)
        except IntakeError:  # the capture below refuses it, naming the field (400)
            denied = []
    if denied:
        body = denial_problem(denied[0], 0, event)
        note(request).reason = body["detail"]
        raise EPCISProblem(403, SECURITY, _worded_as(body, "title"), _worded_as(body, "detail"),
                           **{k: _worded_as(body, k) for k in ("eventID", "field", "reason", "pointer")})  # fmt: skip
    with _jobs_lock:
        try:
            report = BY_NAME["events"].read_bytes(request.app.state.engine, orjson.dumps(doc), name,
                                                  request.app.state.settings)  # fmt: skip
        except IntakeError as exc:
            body = event_problem(exc, exc.index, event)
            if exc.code == STORED_OTHERWISE.key:
                raise EPCISProblem(409, ALREADY_EXISTS, EVENT_EXISTS, _worded_as(body, "detail"),
                                   eventID=body.get("eventID")) from None  # fmt: skip
            raise EPCISProblem(400, VALIDATION, _worded_as(body, "title"), _worded_as(body, "detail"),
                               **{k: body[k] for k in ("eventIndex", "eventID", "field", "code", "pointer")}
                               ) from None  # fmt: skip
    _after_capture(request.app)
    return (worded(report.rows, lang(request)) or [{}])[0]


def _after_capture(app: Any) -> None:
    """Wake whatever follows the ledger for the binding (webhook subscriptions)."""
    wake = getattr(app.state, "epcis_wake", None)
    if wake is not None:
        wake()


# --- the job table -----------------------------------------------------------------------------------
def job_json(row: Any, language: str = "en") -> dict[str, Any]:
    """A job as the binding shows it, its errors in `language`."""
    out: dict[str, Any] = {
        "captureID": row.id,
        "createdAt": utc_text(row.created_at),
        "running": row.running,
        "success": row.success,
        "captureErrorBehaviour": row.error_behaviour,
        "errors": [read_in(e, language) for e in orjson.loads(row.errors)],
    }
    if row.finished_at is not None:
        out["finishedAt"] = utc_text(row.finished_at)
    out["feed"] = row.feed
    out["document"] = row.document
    out["owner"] = row.owner
    if row.report is not None:
        report = orjson.loads(row.report)
        out["report"] = {**report, "outcomes": worded(report.get("outcomes"), language)} if report else report
    return out


def new_job(engine: Engine, job_id: str, feed: str, document: str, behaviour: str, owner: str | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            capture_jobs.insert().values(
                id=job_id, feed=feed, document=document, created_at=utcnow(), running=True, success=True,
                error_behaviour=behaviour, errors="[]", owner=owner,
            )
        )  # fmt: skip


def finish_job(engine: Engine, job_id: str, errors: list[dict[str, Any]], report: dict[str, Any] | None) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(capture_jobs)
            .where(capture_jobs.c.id == job_id)
            .values(
                running=False, success=not errors, finished_at=utcnow(), errors=orjson.dumps(errors).decode(),
                report=None if report is None else orjson.dumps(report).decode(),
            )
        )  # fmt: skip


def mark_interrupted(engine: Engine) -> int:
    """Jobs left running by a server that stopped: their transaction never committed, so nothing is stored."""
    gone = _worded(problem(500, IMPLEMENTATION, INTERRUPTED, INTERRUPTED_DETAIL), INTERRUPTED, INTERRUPTED_DETAIL)
    with engine.begin() as conn:
        result = conn.execute(
            update(capture_jobs)
            .where(capture_jobs.c.running.is_(True))
            .values(running=False, success=False, finished_at=utcnow(), errors=orjson.dumps([gone]).decode())
        )
    return int(result.rowcount or 0)


def _job(
    app: Any, job_id: str, doc: dict[str, Any], data: bytes, name: str, behaviour: str, who: Caller, client: str
) -> None:
    engine: Engine = app.state.engine
    with _jobs_lock, collector_paused():
        try:
            errors, report = run_capture(engine, app.state.settings, doc, name, behaviour, who, data)
        except Exception as exc:  # the job must end whatever happens; the client reads why
            failed = problem(500, IMPLEMENTATION, FAILED, f"{type(exc).__name__}: {exc}")
            errors, report = [_worded(failed, FAILED, failed["detail"])], None
        finish_job(engine, job_id, errors, report)
    denied = [e for e in errors if e.get("status") == 403]
    if denied:  # the request's entry said "allowed" (202); what the job refused is written down too
        detail = f"capture job {job_id}: {len(denied)} event(s) refused; first: {denied[0]['detail']}"
        append(engine, Entry(who.user, who.role, "capture", "event", job_id, "denied", 403, client, detail[:2000]))
    if report is not None:
        _after_capture(app)


# --- routes ------------------------------------------------------------------------------------------
JOB_SCHEMA = {"type": "object", "required": ["captureID", "running", "success", "captureErrorBehaviour", "errors"]}


@router.post(
    "/capture",
    summary="Capture an EPCISDocument as a capture job",
    status_code=202,
    openapi_extra={
        "requestBody": {"required": True, "content": {m: {"schema": {"type": "object"}} for m in EPCIS_MEDIA}},
        "parameters": [
            {
                "name": "GS1-Capture-Error-Behaviour",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "enum": list(BEHAVIOURS), "default": "rollback"},
            },
        ],
    },
    responses={
        202: {
            "description": "Accepted; `Location` is the capture job, which the body shows as it started.",
            "content": {"application/json": {"schema": JOB_SCHEMA}},
        },
        **problem_docs(400, 406, 413, 415),
    },
    response_class=JSONResponse,
)
def post_capture(
    who: Annotated[Caller, Depends(may_capture)],
    request: Request,
    background: BackgroundTasks,
    data: Annotated[bytes, Depends(read_json_body)],
) -> JSONResponse:
    """The document is read before the 202 (400 when it is not an EPCISDocument or EPCISQueryDocument, 413
    above GS1-EPCIS-Capture-Limit events); each event is then judged by the job, which lists every refusal
    with its event and field. `X-Document-Name` names the document in the job and in refusals."""
    negotiate(request)
    behaviour = request.headers.get("gs1-capture-error-behaviour", "rollback").strip().lower()
    if behaviour not in BEHAVIOURS:
        raise EPCISProblem(400, VALIDATION, UNKNOWN_BEHAVIOUR, BEHAVIOUR_DETAIL(given=repr(behaviour)))
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise EPCISProblem(400, VALIDATION, NOT_JSON,
                           MALFORMED(line=exc.lineno, column=exc.colno, error=exc.msg)) from None  # fmt: skip
    events = events_of(doc) if isinstance(doc, dict) else None
    if events is None:
        raise EPCISProblem(400, VALIDATION, NOT_DOCUMENT, NOT_DOCUMENT_DETAIL)
    limit = capture_limit(request)
    if len(events) > limit:
        raise EPCISProblem(
            413, CAPTURE_LIMIT, TOO_LARGE, TOO_MANY_EVENTS(events=f"{len(events):,}", limit=f"{limit:,}"),
            headers={"GS1-EPCIS-Capture-Limit": str(limit)},
        )  # fmt: skip
    engine: Engine = request.app.state.engine
    job_id = uuid.uuid4().hex
    name = request.headers.get("x-document-name") or f"capture job {job_id}"
    new_job(engine, job_id, "events", name[:512], behaviour, who.user)
    note(request).object = job_id
    background.add_task(_job, request.app, job_id, doc, data, name, behaviour, who, client_address(request))
    with engine.connect() as conn:
        row = conn.execute(select(capture_jobs).where(capture_jobs.c.id == job_id)).one()
    headers = {**version_headers(), "Location": f"capture/{job_id}"}
    return JSONResponse(job_json(row, lang(request)), status_code=202, headers=headers)


@router.get(
    "/capture",
    summary="Capture jobs, newest first",
    openapi_extra={"parameters": PAGING_PARAMETERS},
    responses={
        200: {
            "description": "Capture jobs",
            "content": {"application/json": {"schema": {"type": "array", "items": JOB_SCHEMA}}},
        },
        **problem_docs(400, 406),
    },
    response_class=JSONResponse,
)
def list_jobs(who: Annotated[Caller, Depends(may_read)], request: Request) -> JSONResponse:
    """The caller's own jobs (the central office: everyone's)."""
    negotiate(request)
    per_page = per_page_of(request.query_params.get("perPage"))
    token = request.query_params.get("nextPageToken")
    q = select(capture_jobs).order_by(capture_jobs.c.created_at.desc(), capture_jobs.c.id.desc())
    if token:
        state = decode_token(token)
        try:
            at, last = datetime.fromisoformat(state["at"]), str(state["id"])
        except (KeyError, TypeError, ValueError):
            raise EPCISProblem(400, VALIDATION, TOKEN_NOT_VALID, TOKEN_NOT_OURS) from None
        c = capture_jobs.c
        q = q.where(or_(c.created_at < at, and_(c.created_at == at, c.id < last)))
    mine = owned(capture_jobs.c.owner, who)
    if mine is not None:
        q = q.where(mine)
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        rows = conn.execute(q.limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_token = encode_token({"at": rows[-1].created_at.isoformat(), "id": rows[-1].id}) if more else None
    return json_response([job_json(r, lang(request)) for r in rows], request, next_token)


@router.get(
    "/capture/{captureID}",
    summary="One capture job: running, success, errors per event, and what it stored",
    responses={
        200: {"description": "The job", "content": {"application/json": {"schema": JOB_SCHEMA}}},
        **problem_docs(404, 406),
    },
    response_class=JSONResponse,
)
def get_job(who: Annotated[Caller, Depends(may_read)], captureID: str, request: Request) -> JSONResponse:
    """One of the caller's jobs (the central office: anyone's); another's is not found, as a missing one."""
    negotiate(request)
    engine: Engine = request.app.state.engine
    q = select(capture_jobs).where(capture_jobs.c.id == captureID)
    mine = owned(capture_jobs.c.owner, who)
    with engine.connect() as conn:
        row = conn.execute(q if mine is None else q.where(mine)).first()
    if row is None:
        raise EPCISProblem(404, NO_SUCH_NAME, JOB_NOT_FOUND, NO_JOB(job=captureID))
    return json_response(job_json(row, lang(request)), request)


add_options(router, "/capture", "OPTIONS, GET, POST")
add_options(router, "/capture/{captureID}", "OPTIONS, GET")
