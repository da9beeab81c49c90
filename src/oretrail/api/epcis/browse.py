"""The binding's top-level resources: GET / and the browse lists (/eventTypes, /epcs, /bizSteps,
/bizLocations, /readPoints, /dispositions), each value's sub-resources and its /events.

A value's /events is the query language with the value as one more filter, so every parameter of GET /events
works there too. The lists name what stored events carry (and, for the CBV vocabularies, every standard term),
as far as the caller may see events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, Engine, select

from oretrail.api.epcis.common import (
    add_options,
    collection,
    fresh_index,
    json_response,
    negotiate,
    problem_docs,
)
from oretrail.api.epcis.events import QUERY_DOCUMENT, event_page, query_parameters, url_params
from oretrail.api.epcis.index import folded
from oretrail.api.epcis.problems import NO_SUCH_NAME, EPCISProblem
from oretrail.api.epcis.query import EPC_KINDS, EVENT_TYPES, decode_token, encode_token, has_value, per_page_of
from oretrail.api.epcis.visibility import event_filter, may_read
from oretrail.i18n.message import Message
from oretrail.intake import vocabulary as voc
from oretrail.storage.schema import epcis_events as ev
from oretrail.storage.schema import epcis_values as vals

router = APIRouter(tags=["EPCIS top-level resources"], dependencies=[Depends(may_read)])

TOP_LEVEL = ("events", "eventTypes", "epcs", "bizSteps", "bizLocations", "readPoints", "dispositions", "capture",
             "queries")  # fmt: skip
COLLECTION = {"type": "object", "required": ["@context", "type", "member"]}


NO_SUCH_TYPE = Message("epcis.title.no_such_type", "No such event type")
NOT_A_TYPE = Message("epcis.not_a_type", "{value} is neither an EPCIS event type nor an extension type URI")


def _collection_doc(what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {"application/json": {"schema": COLLECTION}}},
            **problem_docs(400, 406)}  # fmt: skip


@router.get("/", summary="The top-level resources of this EPCIS repository", responses=_collection_doc("Resources"),
            response_class=JSONResponse)  # fmt: skip
def top_level(request: Request) -> JSONResponse:
    negotiate(request)
    return json_response(collection(TOP_LEVEL), request)


def _page_of_values(
    request: Request, engine: Engine, stored: Callable[[ColumnElement[bool] | None], Any], standard: frozenset[str]
) -> JSONResponse:
    """A paged, sorted list of distinct values: those visible events carry, plus a vocabulary's standard terms."""
    per_page = per_page_of(request.query_params.get("perPage"))
    token = request.query_params.get("nextPageToken")
    after = decode_token(token).get("after") if token else None
    with engine.connect() as conn:
        values = {v for v in conn.execute(stored(event_filter(request))).scalars() if v is not None}
    ordered = sorted(values | standard)
    if after is not None:
        ordered = [v for v in ordered if v > str(after)]
    page, more = ordered[:per_page], len(ordered) > per_page
    return json_response(collection(page), request, encode_token({"after": page[-1]}) if more else None)


def _column_values(column: Any) -> Callable[[ColumnElement[bool] | None], Any]:
    def stored(visible: ColumnElement[bool] | None) -> Any:
        q = select(column).distinct().where(column.is_not(None))
        return q if visible is None else q.where(visible)

    return stored


def _epc_values(visible: ColumnElement[bool] | None) -> Any:
    q = select(vals.c.value).distinct().where(vals.c.kind.in_(EPC_KINDS))
    if visible is not None:
        q = q.where(vals.c.seq.in_(select(ev.c.seq).where(visible)))
    return q


PAGED = {"parameters": [
    {"name": "perPage", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
    {"name": "nextPageToken", "in": "query", "required": False, "schema": {"type": "string"}},
]}  # fmt: skip

# resource → (path parameter, stored values, standard terms, the condition of a value's /events,
#             the GET /events parameter that the resource makes redundant)
_RESOURCES: dict[str, tuple[str, Callable[..., Any], frozenset[str], Callable[[str], ColumnElement[bool]], str]] = {
    "eventTypes": ("eventType", _column_values(ev.c.event_type), frozenset(EVENT_TYPES),
                   lambda v: ev.c.event_type == v, "eventType"),
    "epcs": ("epc", _epc_values, frozenset(), lambda v: has_value(EPC_KINDS, vals.c.value == v), "MATCH_anyEPC"),
    "bizSteps": ("bizStep", _column_values(ev.c.biz_step), voc.BIZ_STEPS,
                 lambda v: ev.c.biz_step == folded(voc.BIZ_STEP, v), "EQ_bizStep"),
    "bizLocations": ("bizLocation", _column_values(ev.c.biz_location), frozenset(),
                     lambda v: ev.c.biz_location == v, "EQ_bizLocation"),
    "readPoints": ("readPoint", _column_values(ev.c.read_point), frozenset(),
                   lambda v: ev.c.read_point == v, "EQ_readPoint"),
    "dispositions": ("disposition", _column_values(ev.c.disposition), voc.DISPOSITIONS,
                     lambda v: ev.c.disposition == folded(voc.DISPOSITION, v), "EQ_disposition"),
}  # fmt: skip


def _routes(resource: str) -> None:
    name, stored, standard, condition, redundant = _RESOURCES[resource]
    path = f"/{resource}/{{{name}:path}}" if resource != "eventTypes" else f"/{resource}/{{{name}}}"

    def listing(request: Request, engine: Annotated[Engine, Depends(fresh_index)]) -> JSONResponse:
        return _page_of_values(request, engine, stored, standard)

    def events(request: Request, engine: Annotated[Engine, Depends(fresh_index)]) -> JSONResponse:
        value = request.path_params[name]
        return event_page(request, engine, url_params(request), [condition(value)])

    def sub_resources(request: Request) -> JSONResponse:
        negotiate(request)
        value = request.path_params[name]
        if resource == "eventTypes" and value not in EVENT_TYPES and ":" not in value:
            raise EPCISProblem(404, NO_SUCH_NAME, NO_SUCH_TYPE, NOT_A_TYPE(value=value))
        return json_response(collection(["events"]), request)

    for fn, what in ((listing, "list"), (events, "events"), (sub_resources, "sub")):
        fn.__name__ = f"{resource}_{what}"
    router.add_api_route(
        f"/{resource}",
        listing,
        methods=["GET"],
        summary=f"Known {resource}",
        openapi_extra=PAGED,
        responses=_collection_doc(resource),
        response_class=JSONResponse,
    )
    router.add_api_route(
        path + "/events",
        events,
        methods=["GET"],
        summary=f"Events of one of the {resource}",
        openapi_extra={
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}},
                *query_parameters(without=[redundant]),
            ]
        },
        responses={200: QUERY_DOCUMENT, **problem_docs(400, 406, 413)},
        response_class=JSONResponse,
    )
    router.add_api_route(path, sub_resources, methods=["GET"], summary=f"Sub-resources of one of the {resource}",
                         openapi_extra={"parameters": [{"name": name, "in": "path", "required": True,
                                                        "schema": {"type": "string"}}]},
                         responses=_collection_doc("Sub-resources (events)") | problem_docs(404),
                         response_class=JSONResponse)  # fmt: skip
    for p, allow in ((f"/{resource}", "OPTIONS, GET"), (path + "/events", "OPTIONS, GET"), (path, "OPTIONS, GET")):
        add_options(router, p, allow)


add_options(router, "/", "OPTIONS, GET")
for _resource in _RESOURCES:
    _routes(_resource)
