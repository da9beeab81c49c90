"""Named queries (POST/GET/DELETE /queries), their results (GET /queries/{name}/events, or a websocket on
the same URL for streaming), and their webhook subscriptions.

A named query is stored as the JSON object of its parameters and compiled by the same parser as GET
/events, so it is checked when it is created (a query that could not run is refused then, not at the first
delivery).

Named queries and subscriptions belong to the caller who made them: a caller lists, reads, runs, subscribes
to and deletes their own (the central office: everyone's); another's is not found, as a missing one is.
Whatever a query returns is filtered by what its reader (or a subscription's owner) may see. Query names are
one namespace, so a name taken by someone else is still refused (409)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from oretrail.access.audit import Entry, append
from oretrail.access.caller import Caller
from oretrail.access.permissions import denial
from oretrail.api.auth import Problem, authenticate, client_address
from oretrail.api.deps import lang
from oretrail.api.epcis import query as eq
from oretrail.api.epcis.capture import AT_LINE, NOT_JSON
from oretrail.api.epcis.common import (
    add_options,
    fresh_index,
    json_response,
    negotiate,
    problem_docs,
    utc_text,
    version_headers,
)
from oretrail.api.epcis.events import QUERY_DOCUMENT, event_page
from oretrail.api.epcis.index import catch_up, naive_utc
from oretrail.api.epcis.problems import (
    ALREADY_EXISTS,
    FORBIDDEN,
    NO_SUCH_NAME,
    SECURITY,
    SUBSCRIPTION_CONTROLS,
    VALIDATION,
    EPCISProblem,
    problem_response,
    status_title,
)
from oretrail.api.epcis.subscriptions import (
    SCHEDULE_FIELDS,
    next_batch,
    parse_schedule_field,
    position_at,
    schedule_matches,
)
from oretrail.api.epcis.visibility import may_read, owned
from oretrail.clock import utcnow
from oretrail.i18n.message import Message, text
from oretrail.storage.schema import epcis_queries, epcis_subscriptions

router = APIRouter(tags=["EPCIS queries"])  # every route takes may_read (the websocket signs in itself)

NOT_A = Message("epcis.title.not_a", "Not a {what}")
MUST_BE = Message("epcis.must_be", "the body must be a {what}, a JSON object")
SEND_JSON = Message("epcis.send_body_json", "send the body as application/json")
NAMED = Message("epcis.named", "{name}: {reason}")
QUERY_NOT_FOUND = Message("epcis.title.query_not_found", "Query not found")
NO_QUERY = Message("epcis.no_query", "no named query {name}")
QUERY_NOT_VALID = Message("epcis.title.query_not_valid", "Query not valid")
NAME_SHAPE = Message("epcis.name_shape", "name: a non-empty string of at most 256 characters")
QUERY_SHAPE = Message("epcis.query_shape", "query: an object of EPCIS query parameters")
QUERY_EXISTS = Message("epcis.title.query_exists", "Query already exists")
QUERY_EXISTS_DETAIL = Message("epcis.query_exists", "a query named {name} exists")
SUBSCRIPTION_NOT_VALID = Message("epcis.title.subscription_not_valid", "Subscription not valid")
STREAM_OR_SCHEDULE = Message(
    "epcis.stream_or_schedule", 'give either "stream": true or a "schedule" object, not both and not neither'
)
SCHEDULE_NOT_VALID = Message("epcis.title.schedule_not_valid", "Schedule not valid")
SCHEDULE_SHAPE = Message("epcis.schedule_shape", "schedule: an object of {fields}")
DEST_SHAPE = Message("epcis.dest_shape", "dest: an http(s) URL to POST to")
TOKEN_SHAPE = Message("epcis.token_shape", "signatureToken: a string")
REPORT_IF_EMPTY_SHAPE = Message("epcis.report_if_empty_shape", "reportIfEmpty: true or false")
INITIAL_SHAPE = Message("epcis.initial_shape", "initialRecordTime: a date-time such as 2025-06-03T10:00:00Z")
SUBSCRIPTION_NOT_FOUND = Message("epcis.title.subscription_not_found", "Subscription not found")
NO_SUBSCRIPTION = Message("epcis.no_subscription", "no subscription {id} of query {query}")

QUERY_SCHEMA = {"type": "object", "required": ["name", "query"],
                "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 256},
                               "query": {"type": "object"}}}  # fmt: skip
SUBSCRIPTION_SCHEMA = {"type": "object", "required": ["subscriptionID", "dest", "createdAt"]}
WEBSOCKET_PARAMS = frozenset({"stream", "reportIfEmpty", "initialRecordTime", *SCHEDULE_FIELDS})
STREAM_POLL = 0.5  # seconds between looks at the ledger for a websocket subscriber


def _json_body(data: bytes, what: str) -> dict[str, Any]:
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        at = AT_LINE(line=exc.lineno, column=exc.colno, error=exc.msg)
        raise EPCISProblem(400, VALIDATION, NOT_JSON, at) from None
    if not isinstance(body, dict):
        raise EPCISProblem(400, VALIDATION, NOT_A(what=what), MUST_BE(what=what))
    return body


async def _json(request: Request) -> bytes:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in ("application/json", "application/ld+json"):
        from oretrail.api.epcis.problems import UNSUPPORTED_MEDIA

        raise EPCISProblem(415, UNSUPPORTED_MEDIA, status_title(415), SEND_JSON)
    return await request.body()


def _stored_query(engine: Engine, name: str, who: Caller) -> dict[str, Any]:
    q = select(epcis_queries.c.query).where(epcis_queries.c.name == name)
    mine = owned(epcis_queries.c.owner, who)
    with engine.connect() as conn:
        raw = conn.execute(q if mine is None else q.where(mine)).scalar()
    if raw is None:
        raise EPCISProblem(404, NO_SUCH_NAME, QUERY_NOT_FOUND, NO_QUERY(name=repr(name)))
    return orjson.loads(raw)  # type: ignore[no-any-return]


@router.post(
    "/queries",
    summary="Create a named query",
    status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": QUERY_SCHEMA}}}},
    responses={201: {"description": "Created; `Location` is the query's URL"}, **problem_docs(400, 406, 409, 415)},
    response_class=Response,
)
def create_query(
    who: Annotated[Caller, Depends(may_read)], request: Request, data: Annotated[bytes, Depends(_json)]
) -> Response:
    negotiate(request)
    body = _json_body(data, "query definition")
    name, query = body.get("name"), body.get("query")
    if not isinstance(name, str) or not name.strip() or len(name) > 256:
        raise EPCISProblem(400, VALIDATION, QUERY_NOT_VALID, NAME_SHAPE)
    if not isinstance(query, dict):
        raise EPCISProblem(400, VALIDATION, QUERY_NOT_VALID, QUERY_SHAPE)
    eq.parse(query)  # refuses a query that could not run, naming the parameter
    engine: Engine = request.app.state.engine
    try:
        with engine.begin() as conn:
            conn.execute(epcis_queries.insert().values(name=name, query=orjson.dumps(query).decode(),
                                                       created_at=utcnow(), owner=who.user))  # fmt: skip
    except IntegrityError:
        raise EPCISProblem(409, ALREADY_EXISTS, QUERY_EXISTS, QUERY_EXISTS_DETAIL(name=repr(name))) from None
    return Response(status_code=201, headers={**version_headers(), "Location": f"queries/{quote(name, safe='')}"})


@router.get(
    "/queries",
    summary="Named queries",
    openapi_extra={"parameters": eq.PAGING_PARAMETERS},
    responses={
        200: {
            "description": "Queries",
            "content": {"application/json": {"schema": {"type": "array", "items": QUERY_SCHEMA}}},
        },
        **problem_docs(400, 406),
    },
    response_class=JSONResponse,
)
def list_queries(who: Annotated[Caller, Depends(may_read)], request: Request) -> JSONResponse:
    negotiate(request)
    per_page = eq.per_page_of(request.query_params.get("perPage"))
    token = request.query_params.get("nextPageToken")
    after = eq.decode_token(token).get("after") if token else None
    q = select(epcis_queries.c.name, epcis_queries.c.query).order_by(epcis_queries.c.name)
    if after is not None:
        q = q.where(epcis_queries.c.name > str(after))
    mine = owned(epcis_queries.c.owner, who)
    if mine is not None:
        q = q.where(mine)
    engine: Engine = request.app.state.engine
    with engine.connect() as conn:
        rows = conn.execute(q.limit(per_page + 1)).all()
    more = len(rows) > per_page
    rows = rows[:per_page]
    items = [{"name": n, "query": orjson.loads(raw)} for n, raw in rows]
    return json_response(items, request, eq.encode_token({"after": rows[-1][0]}) if more else None)


@router.get(
    "/queries/{queryName}",
    summary="A named query's definition",
    responses={
        200: {"description": "The query", "content": {"application/json": {"schema": QUERY_SCHEMA}}},
        **problem_docs(404, 406),
    },
    response_class=JSONResponse,
)
def get_query(who: Annotated[Caller, Depends(may_read)], queryName: str, request: Request) -> JSONResponse:
    negotiate(request)
    return json_response({"name": queryName, "query": _stored_query(request.app.state.engine, queryName, who)},
                         request)  # fmt: skip


@router.delete(
    "/queries/{queryName}",
    summary="Delete a named query and its subscriptions",
    status_code=204,
    responses={204: {"description": "Deleted"}, **problem_docs(404, 406)},
    response_class=Response,
)
def delete_query(who: Annotated[Caller, Depends(may_read)], queryName: str, request: Request) -> Response:
    negotiate(request)
    engine: Engine = request.app.state.engine
    mine = owned(epcis_queries.c.owner, who)
    with engine.begin() as conn:
        q = delete(epcis_queries).where(epcis_queries.c.name == queryName)
        gone = conn.execute(q if mine is None else q.where(mine)).rowcount
        conn.execute(delete(epcis_subscriptions).where(epcis_subscriptions.c.query_name == queryName))
    if not gone:
        raise EPCISProblem(404, NO_SUCH_NAME, QUERY_NOT_FOUND, NO_QUERY(name=repr(queryName)))
    return Response(status_code=204, headers=version_headers())


@router.get(
    "/queries/{queryName}/events",
    summary="A named query's events (a websocket on the same URL streams them)",
    openapi_extra={"parameters": eq.PAGING_PARAMETERS},
    responses={200: QUERY_DOCUMENT, **problem_docs(400, 404, 406, 413)},
    response_class=JSONResponse,
)
def query_events(
    who: Annotated[Caller, Depends(may_read)],
    queryName: str,
    request: Request,
    engine: Annotated[Engine, Depends(fresh_index)],
) -> JSONResponse:
    return event_page(request, engine, _stored_query(engine, queryName, who), query_name=queryName)


# --- webhook subscriptions --------------------------------------------------------------------------------
def subscription_json(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subscriptionID": row.id,
        "queryName": row.query_name,
        "dest": row.dest,
        "createdAt": utc_text(row.created_at),
        "reportIfEmpty": row.report_if_empty,
    }
    if row.stream:
        out["stream"] = True
    else:
        out["schedule"] = orjson.loads(row.schedule or "{}")
    for key, value in (("initialRecordTime", row.initial_record_time), ("lastNotifiedAt", row.last_notified_at)):
        if value is not None:
            out[key] = utc_text(value)
    if row.last_error:
        out["lastError"] = row.last_error
    out["owner"] = row.owner
    return out


def _controls(body: dict[str, Any]) -> tuple[bool, dict[str, str] | None]:
    """`stream: true` or a `schedule`, exactly one (the binding: otherwise the server would not know when)."""
    stream, schedule = body.get("stream"), body.get("schedule")
    bad = EPCISProblem(400, SUBSCRIPTION_CONTROLS, SUBSCRIPTION_NOT_VALID, STREAM_OR_SCHEDULE)
    if (stream is True) == (schedule is not None) or stream not in (None, True, False):
        raise bad
    if schedule is None:
        return True, None
    if not isinstance(schedule, dict) or not schedule or set(schedule) - set(SCHEDULE_FIELDS):
        raise EPCISProblem(400, SUBSCRIPTION_CONTROLS, SCHEDULE_NOT_VALID,
                           SCHEDULE_SHAPE(fields=", ".join(SCHEDULE_FIELDS)))  # fmt: skip
    for key, spec in schedule.items():
        try:
            parse_schedule_field(key, str(spec))
        except ValueError as exc:
            raise EPCISProblem(400, SUBSCRIPTION_CONTROLS, SCHEDULE_NOT_VALID,
                               NAMED(name=f"schedule.{key}", reason=str(exc))) from None  # fmt: skip
    return False, {k: str(v) for k, v in schedule.items()}


@router.post(
    "/queries/{queryName}/subscriptions",
    summary="Subscribe a webhook to a named query",
    status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["dest"],
        "properties": {"dest": {"type": "string", "format": "uri"}, "signatureToken": {"type": "string"},
                       "stream": {"type": "boolean"}, "schedule": {"type": "object"},
                       "reportIfEmpty": {"type": "boolean"}, "initialRecordTime": {"type": "string",
                                                                                    "format": "date-time"}}}}}}},
    responses={201: {"description": "Subscribed; `Location` is the subscription",
                     "content": {"application/json": {"schema": SUBSCRIPTION_SCHEMA}}},
               **problem_docs(400, 404, 406, 415)},
    response_class=JSONResponse,
)  # fmt: skip
def subscribe(
    who: Annotated[Caller, Depends(may_read)],
    queryName: str,
    request: Request,
    data: Annotated[bytes, Depends(_json)],
) -> JSONResponse:
    """Events are POSTed to `dest` as EPCISQueryDocuments, signed with `signatureToken` (GS1-Signature:
    hex HMAC-SHA256 of the body); `initialRecordTime` (default now) is where the subscription starts. The
    subscription is the caller's: it delivers only what they may see, at the time of each delivery."""
    negotiate(request)
    engine: Engine = request.app.state.engine
    _stored_query(engine, queryName, who)
    body = _json_body(data, "subscription")
    dest = body.get("dest")
    if not isinstance(dest, str) or not dest.startswith(("http://", "https://")):
        raise EPCISProblem(400, SUBSCRIPTION_CONTROLS, SUBSCRIPTION_NOT_VALID, DEST_SHAPE)
    secret = body.get("signatureToken")
    if secret is not None and not isinstance(secret, str):
        raise EPCISProblem(400, SUBSCRIPTION_CONTROLS, SUBSCRIPTION_NOT_VALID, TOKEN_SHAPE)
    stream, schedule = _controls(body)
    report_if_empty = body.get("reportIfEmpty", False)
    if not isinstance(report_if_empty, bool):
        raise EPCISProblem(400, SUBSCRIPTION_CONTROLS, SUBSCRIPTION_NOT_VALID, REPORT_IF_EMPTY_SHAPE)
    initial = None
    if body.get("initialRecordTime") is not None:
        try:
            initial = naive_utc(str(body["initialRecordTime"]))
        except ValueError:
            raise EPCISProblem(400, SUBSCRIPTION_CONTROLS, SUBSCRIPTION_NOT_VALID, INITIAL_SHAPE) from None
    sub_id = str(uuid.uuid4())
    with engine.begin() as conn:
        conn.execute(epcis_subscriptions.insert().values(
            id=sub_id, query_name=queryName, dest=dest, secret=secret, stream=stream,
            schedule=None if schedule is None else orjson.dumps(schedule).decode(), report_if_empty=report_if_empty,
            initial_record_time=initial, position=position_at(conn, initial), created_at=utcnow(), owner=who.user,
        ))  # fmt: skip
        row = conn.execute(select(epcis_subscriptions).where(epcis_subscriptions.c.id == sub_id)).one()
    wake = getattr(request.app.state, "epcis_wake", None)
    if wake is not None:
        wake()
    headers = {**version_headers(), "Location": f"subscriptions/{sub_id}"}
    return JSONResponse(subscription_json(row), status_code=201, headers=headers)


@router.get(
    "/queries/{queryName}/subscriptions",
    summary="A named query's subscriptions",
    responses={
        200: {
            "description": "Subscriptions",
            "content": {"application/json": {"schema": {"type": "array", "items": SUBSCRIPTION_SCHEMA}}},
        },
        **problem_docs(404, 406),
    },
    response_class=JSONResponse,
)
def list_subscriptions(who: Annotated[Caller, Depends(may_read)], queryName: str, request: Request) -> JSONResponse:
    negotiate(request)
    engine: Engine = request.app.state.engine
    _stored_query(engine, queryName, who)
    q = select(epcis_subscriptions).where(epcis_subscriptions.c.query_name == queryName)
    mine = owned(epcis_subscriptions.c.owner, who)
    with engine.connect() as conn:
        rows = conn.execute((q if mine is None else q.where(mine)).order_by(epcis_subscriptions.c.created_at)).all()
    return json_response([subscription_json(r) for r in rows], request)


def _subscription(engine: Engine, query_name: str, sub_id: str, who: Caller) -> Any:
    q = select(epcis_subscriptions).where(
        epcis_subscriptions.c.id == sub_id, epcis_subscriptions.c.query_name == query_name
    )
    mine = owned(epcis_subscriptions.c.owner, who)
    with engine.connect() as conn:
        row = conn.execute(q if mine is None else q.where(mine)).first()
    if row is None:
        raise EPCISProblem(404, NO_SUCH_NAME, SUBSCRIPTION_NOT_FOUND,
                           NO_SUBSCRIPTION(id=sub_id, query=repr(query_name)))  # fmt: skip
    return row


@router.get(
    "/queries/{queryName}/subscriptions/{subscriptionID}",
    summary="One subscription, with when its receiver last acknowledged",
    responses={
        200: {"description": "The subscription", "content": {"application/json": {"schema": SUBSCRIPTION_SCHEMA}}},
        **problem_docs(404, 406),
    },
    response_class=JSONResponse,
)
def get_subscription(
    who: Annotated[Caller, Depends(may_read)], queryName: str, subscriptionID: str, request: Request
) -> JSONResponse:
    negotiate(request)
    row = _subscription(request.app.state.engine, queryName, subscriptionID, who)
    return json_response(subscription_json(row), request)


@router.delete(
    "/queries/{queryName}/subscriptions/{subscriptionID}",
    summary="Unsubscribe",
    status_code=204,
    responses={204: {"description": "Unsubscribed"}, **problem_docs(404, 406)},
    response_class=Response,
)
def unsubscribe(
    who: Annotated[Caller, Depends(may_read)], queryName: str, subscriptionID: str, request: Request
) -> Response:
    negotiate(request)
    engine: Engine = request.app.state.engine
    _subscription(engine, queryName, subscriptionID, who)
    with engine.begin() as conn:
        conn.execute(delete(epcis_subscriptions).where(epcis_subscriptions.c.id == subscriptionID))
    return Response(status_code=204, headers=version_headers())


# --- websocket streaming -----------------------------------------------------------------------------------
@router.websocket("/queries/{queryName}/events")
async def stream_events(websocket: WebSocket, queryName: str) -> None:
    """`?stream=true` sends each new matching event as it is captured; a schedule (`second`, `minute`, ...)
    sends what is new at those times (`reportIfEmpty=true`: an empty document too). Each message is an
    EPCISQueryDocument. `initialRecordTime` (default now) is where the stream starts. The handshake signs in
    as any request does (its headers); the stream carries what the caller may see, read again at every
    message, and the handshake is audited."""
    engine: Engine = websocket.app.state.engine
    params = websocket.query_params
    try:
        who = _websocket_caller(websocket, queryName)
        query = _stored_query(engine, queryName, who)
        stream, schedule = _controls(_websocket_controls(params))
        initial = naive_utc(params["initialRecordTime"]) if params.get("initialRecordTime") else None
    except (EPCISProblem, ValueError) as exc:
        problem = exc if isinstance(exc, EPCISProblem) else EPCISProblem(
            400, SUBSCRIPTION_CONTROLS, SUBSCRIPTION_NOT_VALID, NAMED(name="initialRecordTime", reason=str(exc))
        )  # fmt: skip
        if problem.status not in (401, 403):  # those were audited by _websocket_caller
            caller = getattr(websocket.state, "caller", None)
            await asyncio.to_thread(_audit, websocket, caller, queryName, problem.status, text(problem.detail or ""))
        await _deny(websocket, problem)
        return
    report_if_empty = params.get("reportIfEmpty", "false").lower() == "true"
    await asyncio.to_thread(_audit, websocket, who, queryName, 101, "")
    await websocket.accept()
    with engine.connect() as conn:
        position = position_at(conn, initial)
    sub = _Cursor(f"ws-{uuid.uuid4()}", queryName, position, who.user)
    fired = None
    try:
        while True:
            now = utcnow().replace(microsecond=0)
            due = stream or (schedule is not None and fired != now and schedule_matches(schedule, now))
            if due:
                fired = now
                await asyncio.to_thread(catch_up, engine)
                batch = await asyncio.to_thread(_next, engine, sub, query)
                if batch.seqs or (not stream and report_if_empty):
                    await websocket.send_text(orjson.dumps(batch.document).decode())
                    sub.position = batch.position
            await asyncio.sleep(STREAM_POLL)
    except WebSocketDisconnect:
        return


def _websocket_caller(websocket: WebSocket, query_name: str) -> Caller:
    """The caller of a websocket handshake, who must be able to read events; a refusal is audited here
    and raised as the binding's SecurityException (401 with the challenge, or 403 saying why)."""
    try:
        who = authenticate(websocket)
    except Problem as exc:
        _audit(websocket, None, query_name, exc.status_code, str(exc.detail))
        type_ = SECURITY if exc.status_code in (401, 403) else VALIDATION
        raise EPCISProblem(exc.status_code, type_, exc.title, exc.said, dict(exc.headers or {})) from None
    websocket.state.caller = who
    reason = denial(who, "read", "event")
    if reason:
        _audit(websocket, who, query_name, 403, str(reason))
        raise EPCISProblem(403, SECURITY, FORBIDDEN, reason)
    return who


def _audit(websocket: WebSocket, who: Caller | None, query_name: str, status: int, reason: str) -> None:
    """One audit entry per websocket handshake (the audit middleware sees only HTTP requests)."""
    outcome = "allowed" if status < 400 else {401: "unauthenticated", 403: "denied"}.get(status, "refused")
    detail = f"WEBSOCKET {websocket.url.path}" + (f": {reason}" if reason else "")
    entry = Entry(who.user if who else None, who.role if who else None, "read", "event", query_name, outcome,
                  status, client_address(websocket), detail[:2000])  # fmt: skip
    append(websocket.app.state.engine, entry)


async def _deny(websocket: WebSocket, problem: EPCISProblem) -> None:
    """Refuse the handshake with the problem as an HTTP answer (404 for an unknown query, 400 for bad
    controls) where the server can send one; otherwise close with a policy violation."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = problem.body(lang(websocket))
        await websocket.send_denial_response(problem_response(problem.status, body, problem.headers))
    else:
        await websocket.close(code=1008, reason=text(problem.detail or problem.title)[:120])


class _Cursor:
    def __init__(self, id_: str, query_name: str, position: int, owner: str) -> None:
        self.id = id_
        self.query_name = query_name
        self.position = position
        self.owner = owner


def _next(engine: Engine, sub: _Cursor, query: dict[str, Any]) -> Any:
    with engine.connect() as conn:
        return next_batch(conn, sub, query)


def _websocket_controls(params: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if "stream" in params:
        body["stream"] = params["stream"].lower() == "true"
    schedule = {k: params[k] for k in SCHEDULE_FIELDS if k in params}
    if schedule:
        body["schedule"] = schedule
    return body


add_options(router, "/queries", "OPTIONS, GET, POST")
add_options(router, "/queries/{queryName}", "OPTIONS, GET, DELETE")
add_options(router, "/queries/{queryName}/events", "OPTIONS, GET")
add_options(router, "/queries/{queryName}/subscriptions", "OPTIONS, GET, POST")
add_options(router, "/queries/{queryName}/subscriptions/{subscriptionID}", "OPTIONS, GET, DELETE")
