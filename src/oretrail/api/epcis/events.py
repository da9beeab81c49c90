"""GET /events (the query language as URL parameters), GET /events/{eventID}, POST /events (one event,
captured synchronously), and the one routine every event list of the binding pages through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, Engine, select

from oretrail.access.caller import Caller
from oretrail.api.epcis import query as eq
from oretrail.api.epcis.capture import (
    ALREADY_STORED,
    AT_LINE,
    EPCIS_MEDIA,
    EVENT_EXISTS,
    NOT_JSON,
    capture_single_event,
    read_json_body,
)
from oretrail.api.epcis.common import (
    add_options,
    fresh_index,
    json_response,
    problem_docs,
    query_document,
    served,
    version_headers,
)
from oretrail.api.epcis.index import bodies
from oretrail.api.epcis.problems import ALREADY_EXISTS, NO_SUCH_NAME, VALIDATION, EPCISProblem
from oretrail.api.epcis.visibility import event_filter, may_capture, may_read
from oretrail.i18n.message import Message
from oretrail.storage.schema import epcis_events

STORED_ALREADY = Message("epcis.stored_already", "event {event_id} is stored already")
NOT_AN_EVENT = Message("epcis.title.not_an_event", "Not an event")
ONE_EVENT = Message("epcis.one_event", "the body must be one EPCIS event, a JSON object")
DOCUMENTS_ELSEWHERE = Message("epcis.documents_elsewhere", "send documents to POST /capture; /events takes one event")
EVENT_NOT_FOUND = Message("epcis.title.event_not_found", "Event not found")
NO_EVENT = Message("epcis.no_event", "no event with eventID {event_id}")

router = APIRouter(tags=["EPCIS events"])

_TIME = {"type": "string", "format": "date-time"}
_SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    **{name: _TIME for name in (*eq.TIME_BOUNDS, *eq.SENSOR_TIME_BOUNDS)},
    **{name: {"type": "number"} for name in eq.QUANTITY_OPS},
    "EXISTS_errorDeclaration": {"type": "boolean"},
    "EQ_booleanValue": {"type": "boolean"},
    "orderBy": {"type": "string", "enum": list(eq.ORDER_COLUMNS)},
    "orderDirection": {"type": "string", "enum": ["ASC", "DESC"]},
    "eventCountLimit": {"type": "integer", "minimum": 0},
    "maxEventCount": {"type": "integer", "minimum": 0},
}


def query_parameters(without: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The OpenAPI parameters of an event list: the binding's fixed-name query parameters and paging."""
    skip = set(without)
    out = list(eq.PAGING_PARAMETERS)
    for name in sorted(eq.PARAMETERS - skip):
        if name in eq.ARRAYS:
            schema: dict[str, Any] = {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}}
            if name == "EQ_action":
                schema["items"] = {"type": "string", "enum": ["ADD", "OBSERVE", "DELETE"]}
            out.append({"name": name, "in": "query", "required": False, "style": "pipeDelimited", "explode": False,
                        "schema": schema})  # fmt: skip
        else:
            out.append({"name": name, "in": "query", "required": False, "schema": _SCALAR_SCHEMAS[name]})
    return out


QUERY_DOCUMENT = {
    "description": "An EPCISQueryDocument with the page's events, each as captured plus its recordTime; a "
    '`Link: <...>; rel="next"` header while more pages follow.',
    "content": {"application/json": {"schema": {"type": "object", "required": ["@context", "type", "epcisBody"]}}},
}


def event_page(
    request: Request,
    engine: Engine,
    params: dict[str, Any],
    extra: Iterable[ColumnElement[bool]] = (),
    query_name: str = "SimpleEventQuery",
) -> JSONResponse:
    """One page of events for parsed query parameters (plus the route's own condition), as a query document."""
    parsed = eq.parse(params)
    per_page = eq.per_page_of(request.query_params.get("perPage"))
    token = request.query_params.get("nextPageToken")
    with engine.connect() as conn:
        page = eq.run(conn, parsed, event_filter(request), per_page, token, extra)
        events = [served(body, at) for _, body, at in bodies(conn, page.seqs)]
    return json_response(query_document(events, query_name), request, page.next_token)


def url_params(request: Request, ignore: Iterable[str] = ()) -> dict[str, Any]:
    return eq.from_url(request.query_params.multi_items(), ignore)


@router.get(
    "/events",
    summary="Query events (EPCIS query language as URL parameters)",
    openapi_extra={"parameters": query_parameters()},
    responses={200: QUERY_DOCUMENT, **problem_docs(400, 406, 413)},
    response_class=JSONResponse,
    dependencies=[Depends(may_read)],
)
def get_events(request: Request, engine: Annotated[Engine, Depends(fresh_index)]) -> JSONResponse:
    """Every stored event (the original of a corrected event and its errorDeclaration are both events),
    filtered by the binding's fixed-name parameters and EQ_bizTransaction_/EQ_source_/EQ_destination_<type>;
    in capture order unless `orderBy` says otherwise."""
    return event_page(request, engine, url_params(request))


@router.post(
    "/events",
    summary="Capture one event, synchronously",
    status_code=201,
    openapi_extra={
        "requestBody": {"required": True, "content": {m: {"schema": {"type": "object"}} for m in EPCIS_MEDIA}}
    },
    responses={
        201: {
            "description": "Captured; `Location` is the event's URL; the body is the event as stored.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        **problem_docs(400, 406, 409, 413, 415),
    },
    response_class=JSONResponse,
)
def post_event(
    who: Annotated[Caller, Depends(may_capture)], request: Request, data: Annotated[bytes, Depends(read_json_body)]
) -> JSONResponse:
    """The same intake, ledger and judging as POST /capture, for one event: 201 with the event as stored,
    409 when an event with this eventID is stored already, 400 naming the field an event breaks, 403 when
    the caller may not capture it (an enterprise: an event at a facility that is not its own)."""
    event = _one_event(data)
    outcome = capture_single_event(request, who, event)
    if outcome.get("outcome") in ALREADY_STORED:
        raise EPCISProblem(
            409, ALREADY_EXISTS, EVENT_EXISTS, STORED_ALREADY(event_id=outcome["event_id"]),
            eventID=outcome["event_id"],
        )  # fmt: skip
    event_id = outcome["event_id"]
    engine: Engine = request.app.state.engine
    fresh_index(request)
    with engine.connect() as conn:
        seq = conn.execute(
            select(epcis_events.c.seq).where(epcis_events.c.event_id == event_id).order_by(epcis_events.c.seq.desc())
        ).scalar()
        stored = [served(body, at) for _, body, at in bodies(conn, [seq])] if seq is not None else [event]
    headers = {**version_headers(), "Location": f"events/{quote(event_id, safe='')}"}
    return JSONResponse(stored[0], status_code=201, headers=headers)


def _one_event(data: bytes) -> dict[str, Any]:
    try:
        event = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        at = AT_LINE(line=exc.lineno, column=exc.colno, error=exc.msg)
        raise EPCISProblem(400, VALIDATION, NOT_JSON, at) from None
    if not isinstance(event, dict):
        raise EPCISProblem(400, VALIDATION, NOT_AN_EVENT, ONE_EVENT)
    if event.get("type") in ("EPCISDocument", "EPCISQueryDocument"):
        raise EPCISProblem(400, VALIDATION, NOT_AN_EVENT, DOCUMENTS_ELSEWHERE)
    return event


@router.get(
    "/events/{eventID:path}",
    summary="One event, with its errorDeclaration if it has one",
    responses={200: QUERY_DOCUMENT, **problem_docs(404, 406)},
    response_class=JSONResponse,
    dependencies=[Depends(may_read)],
)
def get_event(eventID: str, request: Request, engine: Annotated[Engine, Depends(fresh_index)]) -> JSONResponse:
    """An EPCISQueryDocument with every stored record of the event: the event and, if it was declared in error,
    the declaration (EPCIS 2.0 §7.4.1). An event the caller may not see is not found, as a missing one is: a
    404 either way, so eventIDs cannot be probed."""
    visible = event_filter(request)
    with engine.connect() as conn:
        q = select(epcis_events.c.seq).where(epcis_events.c.event_id == eventID).order_by(epcis_events.c.seq)
        if visible is not None:
            q = q.where(visible)
        seqs = list(conn.execute(q).scalars())
        events = [served(body, at) for _, body, at in bodies(conn, seqs)]
    if not events:
        raise EPCISProblem(404, NO_SUCH_NAME, EVENT_NOT_FOUND, NO_EVENT(event_id=eventID))
    return json_response(query_document(events), request)


add_options(router, "/events", "OPTIONS, GET, POST")
add_options(router, "/events/{eventID:path}", "OPTIONS, GET")
