"""The EPCIS query language of the binding (EPCIS 2.0 §8.2.7.1, SimpleEventQuery), compiled to SQL over the
query index.

One parser reads the parameters whether they come from a URL query string (arrays pipe-delimited, as the
binding's `style: pipeDelimited` says, or repeated) or from a named query's JSON body (arrays as arrays), so
GET /events and GET /queries/{name}/events can never disagree. A parameter that is unknown, unsupported or
of the wrong shape is a QueryParameterException naming it: a query that silently ignored a filter would
return events the caller did not ask for.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, false, func, or_, select, true

from oretrail.api.epcis.index import QUANTITY_LISTS, folded, measurement_type, naive_utc, time_key
from oretrail.api.epcis.problems import QUERY_PARAMETER, QUERY_TOO_LARGE, VALIDATION, EPCISProblem
from oretrail.i18n.message import Message, Said
from oretrail.intake import vocabulary as voc
from oretrail.storage.schema import epcis_events as ev
from oretrail.storage.schema import epcis_values as vals

PAGING = frozenset({"perPage", "nextPageToken"})
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000  # the server's upper limit on perPage (the binding lets an implementation fix one)
CLASS_KINDS = tuple(dict.fromkeys(QUANTITY_LISTS.values()))
EPC_KINDS = ("epc", "parent", "input_epc", "output_epc")
EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
ORDER_COLUMNS = {"eventTime": ev.c.event_time, "recordTime": ev.c.record_time}
SENSOR_EQ = {
    "EQ_type": "type", "EQ_deviceID": "deviceID", "EQ_dataProcessingMethod": "dataProcessingMethod",
    "EQ_microorganism": "microorganism", "EQ_chemicalSubstance": "chemicalSubstance", "EQ_bizRules": "bizRules",
    "EQ_stringValue": "stringValue", "EQ_hexBinaryValue": "hexBinaryValue", "EQ_uriValue": "uriValue",
}  # fmt: skip
MATCH = {
    "MATCH_epc": (("epc",), False),
    "MATCH_parentID": (("parent",), False),
    "MATCH_inputEPC": (("input_epc",), False),
    "MATCH_outputEPC": (("output_epc",), False),
    "MATCH_anyEPC": (EPC_KINDS, False),
    "MATCH_epcClass": (("class",), True),
    "MATCH_inputEPCClass": (("input_class",), True),
    "MATCH_outputEPCClass": (("output_class",), True),
    "MATCH_anyEPCClass": (CLASS_KINDS, True),
}
QUANTITY_OPS: dict[str, Callable[[Any, float], ColumnElement[bool]]] = {
    "EQ_quantity": lambda c, v: c == v,
    "GT_quantity": lambda c, v: c > v,
    "GE_quantity": lambda c, v: c >= v,
    "LT_quantity": lambda c, v: c < v,
    "LE_quantity": lambda c, v: c <= v,
}
TIME_BOUNDS = {
    "GE_eventTime": (ev.c.event_time, True),
    "LT_eventTime": (ev.c.event_time, False),
    "GE_recordTime": (ev.c.record_time, True),
    "LT_recordTime": (ev.c.record_time, False),
    "GE_errorDeclarationTime": (ev.c.error_time, True),
    "LT_errorDeclarationTime": (ev.c.error_time, False),
}
SENSOR_TIME_BOUNDS = {
    "GE_startTime": ("startTime", True),
    "LT_startTime": ("startTime", False),
    "GE_endTime": ("endTime", True),
    "LT_endTime": ("endTime", False),
}
# The flexible-name parameters of §8.2.7.1 that we answer: EQ_bizTransaction_<type>, EQ_source_<type>,
# EQ_destination_<type>. Others (EQ_<fieldname>, EQ_ILMD_*, EQ_INNER_*, HASATTR_*, EQATTR_*, uom-named
# quantity bounds) are refused as unsupported rather than ignored.
FLEXIBLE = {"EQ_bizTransaction_": ("btt", voc.BIZ_TRANSACTION_TYPE), "EQ_source_": ("source", voc.SOURCE_DEST_TYPE),
            "EQ_destination_": ("destination", voc.SOURCE_DEST_TYPE)}  # fmt: skip
SCALARS = frozenset(
    {*TIME_BOUNDS, *SENSOR_TIME_BOUNDS, *QUANTITY_OPS, "EXISTS_errorDeclaration", "EQ_booleanValue", "orderBy",
     "orderDirection", "eventCountLimit", "maxEventCount"}
)  # fmt: skip
ARRAYS = frozenset(
    {"eventType", "EQ_action", "EQ_bizStep", "EQ_disposition", "EQ_persistentDisposition_set",
     "EQ_persistentDisposition_unset", "EQ_readPoint", "WD_readPoint", "EQ_bizLocation", "WD_bizLocation",
     "EQ_transformationID", *MATCH, "EQ_eventID", "EQ_errorReason", "EQ_correctiveEventID", *SENSOR_EQ}
)  # fmt: skip
PARAMETERS = SCALARS | ARRAYS


@dataclass
class EventQuery:
    """A parsed query: its filters, and how its result is ordered and bounded."""

    where: list[ColumnElement[bool]] = field(default_factory=list)
    order_by: str | None = None
    descending: bool = True
    event_count_limit: int | None = None
    max_event_count: int | None = None


PARAMETER_NOT_VALID = Message("query.title.parameter", "Query parameter not valid")
PARAMETER = Message("query.parameter", "{name}: {reason}")
GIVEN_MORE_THAN_ONCE = Message("query.given_more_than_once", "given more than once")
LIMIT_AND_MAX = Message("query.limit_and_max", "eventCountLimit and maxEventCount cannot be used together")
LIMIT_NEEDS_ORDER = Message("query.limit_needs_order", "eventCountLimit needs orderBy")
NEEDS_AT_LEAST_ONE = Message("query.needs_at_least_one", "needs at least one value")
NON_EMPTY = Message("query.non_empty", "values must be non-empty strings")
TAKES_ONE_VALUE = Message("query.takes_one_value", "takes one value")
IS_NOT_A_DATE = Message("query.is_not_a_date", "{value} is not a date-time such as 2025-06-03T10:00:00Z")
MUST_BE_A_NUMBER = Message("query.must_be_a_number", "must be a number")
IS_NOT_A_NUMBER = Message("query.is_not_a_number", "{value} is not a number")
MUST_BE_A_FINITE = Message("query.must_be_a_finite", "must be a finite number")
MUST_BE_A_WHOLE = Message("query.must_be_a_whole", "must be a whole number")
IS_NOT_A_WHOLE = Message("query.is_not_a_whole", "{value} is not a whole number")
MUST_NOT_BE_NEGATIVE = Message("query.must_not_be_negative", "must not be negative")
IS_NOT_TRUE_OR = Message("query.is_not_true_or", "{value} is not true or false")
IS_NOT_ADD_OBSERVE = Message("query.is_not_add_observe", "{value} is not ADD, OBSERVE or DELETE")
CANNOT_ORDER = Message("query.cannot_order", "{order} cannot order results here (use eventTime or recordTime)")
IS_NOT_ASC_OR = Message("query.is_not_asc_or", "{direction} is not ASC or DESC")
NOT_SUPPORTED = Message("query.not_supported", "this query parameter is not supported by this repository")
UNKNOWN_QUERY_PARAMETER = Message("query.unknown_query_parameter", "unknown query parameter")
RESULT_TOO_LARGE = Message("query.title.too_large", "Query result too large")
TOO_MANY = Message("query.too_many", "{total} events match, more than maxEventCount {limit}")
TOKEN_NOT_VALID = Message("epcis.title.token", "nextPageToken not valid")
TOKEN_NOT_OURS = Message("epcis.token", "nextPageToken is not one this server gave")


def _bad(name: str, reason: Said) -> EPCISProblem:
    return EPCISProblem(400, QUERY_PARAMETER, PARAMETER_NOT_VALID, PARAMETER(name=name, reason=reason), parameter=name)


def from_url(items: Iterable[tuple[str, str]], ignore: Iterable[str] = ()) -> dict[str, Any]:
    """URL query items → parameter dict: arrays split on `|` and gathered over repeats, scalars single."""
    skip = PAGING | frozenset(ignore)
    out: dict[str, Any] = {}
    for name, raw in items:
        if name in skip:
            continue
        if name in SCALARS:
            if name in out:
                raise _bad(name, GIVEN_MORE_THAN_ONCE())
            out[name] = raw
        else:
            out.setdefault(name, []).extend(part for part in raw.split("|") if part != "")
    return out


def parse(params: Mapping[str, Any]) -> EventQuery:
    """Compile query parameters (see `from_url`, or a named query's JSON object) into an EventQuery."""
    q = EventQuery()
    for name, value in params.items():
        _apply(q, name, value)
    if q.event_count_limit is not None and q.max_event_count is not None:
        raise _bad("eventCountLimit", LIMIT_AND_MAX())
    if q.event_count_limit is not None and q.order_by is None:
        raise _bad("eventCountLimit", LIMIT_NEEDS_ORDER())
    return q


def _strings(name: str, value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise _bad(name, NEEDS_AT_LEAST_ONE())
    if not all(isinstance(v, str) and v for v in values):
        raise _bad(name, NON_EMPTY())
    return values


def _scalar(name: str, value: Any) -> Any:
    if isinstance(value, list):
        if len(value) != 1:
            raise _bad(name, TAKES_ONE_VALUE())
        return value[0]
    return value


def _time(name: str, value: Any) -> datetime:
    value = _scalar(name, value)
    try:
        return naive_utc(str(value))
    except ValueError:
        raise _bad(name, IS_NOT_A_DATE(value=repr(value))) from None


def _number(name: str, value: Any) -> float:
    value = _scalar(name, value)
    if isinstance(value, bool):
        raise _bad(name, MUST_BE_A_NUMBER())
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _bad(name, IS_NOT_A_NUMBER(value=repr(value))) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _bad(name, MUST_BE_A_FINITE())
    return number


def _count(name: str, value: Any) -> int:
    value = _scalar(name, value)
    if isinstance(value, bool):
        raise _bad(name, MUST_BE_A_WHOLE())
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _bad(name, IS_NOT_A_WHOLE(value=repr(value))) from None
    if number < 0:
        raise _bad(name, MUST_NOT_BE_NEGATIVE())
    return number


def _boolean(name: str, value: Any) -> bool:
    value = _scalar(name, value)
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise _bad(name, IS_NOT_TRUE_OR(value=repr(value)))


def has_value(kinds: Iterable[str], condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Events with a value of one of `kinds` that meets `condition` (a semi-join on the value index)."""
    kinds = list(kinds)
    kind = vals.c.kind == kinds[0] if len(kinds) == 1 else vals.c.kind.in_(kinds)
    return ev.c.seq.in_(select(vals.c.seq).where(kind, condition))


def _like_prefix(prefix: str) -> ColumnElement[bool]:
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return vals.c.value.like(escaped + "%", escape="\\")


def match(patterns: list[str], classes: bool) -> ColumnElement[bool]:
    """§8.2.7.1.1: a value matches a URI equal to it, or a pattern URI (`urn:epc:idpat:sgtin:0614141.*`) whose
    `*` fields it fills; for classes, an sgtin pattern also matches the LGTIN classes of those items and
    class-level pattern values (`urn:epc:idpat:sgtin:0614141.107346.*`) within it."""
    exact: list[str] = []
    conditions: list[ColumnElement[bool]] = []
    for p in patterns:
        if not p.startswith("urn:epc:idpat:") or "*" not in p:
            exact.append(p)
            if p.startswith("urn:epc:idpat:"):
                exact.append("urn:epc:id:" + p[len("urn:epc:idpat:") :])
            continue
        scheme, _, fields = p[len("urn:epc:idpat:") :].partition(":")
        prefix = fields.split("*", 1)[0]
        conditions.append(_like_prefix(f"urn:epc:id:{scheme}:{prefix}"))
        if classes:
            conditions.append(_like_prefix(f"urn:epc:idpat:{scheme}:{prefix}"))
            if scheme == "sgtin":
                conditions.append(_like_prefix(f"urn:epc:class:lgtin:{prefix}"))
    if exact:
        conditions.append(vals.c.value.in_(exact))
    return or_(*conditions)


def _apply(q: EventQuery, name: str, value: Any) -> None:
    w = q.where
    if name == "eventType":
        w.append(ev.c.event_type.in_(_strings(name, value)))
    elif name in TIME_BOUNDS:
        column, ge = TIME_BOUNDS[name]
        moment = _time(name, value)
        w.append(column >= moment if ge else column < moment)
    elif name in SENSOR_TIME_BOUNDS:
        attribute, ge = SENSOR_TIME_BOUNDS[name]
        key = time_key(_time(name, value).isoformat())
        w.append(has_value([f"sensor:{attribute}"], vals.c.value >= key if ge else vals.c.value < key))
    elif name == "EQ_action":
        actions = _strings(name, value)
        wrong = [a for a in actions if a not in voc.ACTIONS]
        if wrong:
            raise _bad(name, IS_NOT_ADD_OBSERVE(value=repr(wrong[0])))
        w.append(ev.c.action.in_(actions))
    elif name == "EQ_bizStep":
        w.append(ev.c.biz_step.in_([folded(voc.BIZ_STEP, v) for v in _strings(name, value)]))
    elif name == "EQ_disposition":
        w.append(ev.c.disposition.in_([folded(voc.DISPOSITION, v) for v in _strings(name, value)]))
    elif name in ("EQ_persistentDisposition_set", "EQ_persistentDisposition_unset"):
        kind = "pd_set" if name.endswith("_set") else "pd_unset"
        w.append(has_value([kind], vals.c.value.in_([folded(voc.DISPOSITION, v) for v in _strings(name, value)])))
    elif name in ("EQ_readPoint", "WD_readPoint"):
        w.append(ev.c.read_point.in_(_strings(name, value)))
    elif name in ("EQ_bizLocation", "WD_bizLocation"):
        w.append(ev.c.biz_location.in_(_strings(name, value)))
    elif name == "EQ_transformationID":
        w.append(ev.c.transformation_id.in_(_strings(name, value)))
    elif name in MATCH:
        kinds, classes = MATCH[name]
        w.append(has_value(kinds, match(_strings(name, value), classes)))
    elif name in QUANTITY_OPS:
        w.append(has_value(CLASS_KINDS, QUANTITY_OPS[name](vals.c.quantity, _number(name, value))))
    elif name == "EQ_eventID":
        w.append(ev.c.event_id.in_(_strings(name, value)))
    elif name == "EXISTS_errorDeclaration":
        if _boolean(name, value):
            w.append(ev.c.error_time.is_not(None))
    elif name == "EQ_errorReason":
        w.append(ev.c.error_reason.in_([folded(voc.ERROR_REASON, v) for v in _strings(name, value)]))
    elif name == "EQ_correctiveEventID":
        w.append(has_value(["corrective"], vals.c.value.in_(_strings(name, value))))
    elif name in SENSOR_EQ:
        values = _strings(name, value)
        if name == "EQ_type":
            values = [measurement_type(v) for v in values]
        w.append(has_value([f"sensor:{SENSOR_EQ[name]}"], vals.c.value.in_(values)))
    elif name == "EQ_booleanValue":
        w.append(has_value(["sensor:booleanValue"], vals.c.value == ("true" if _boolean(name, value) else "false")))
    elif name == "orderBy":
        order = _scalar(name, value)
        if order not in ORDER_COLUMNS:
            raise _bad(name, CANNOT_ORDER(order=repr(order)))
        q.order_by = order
    elif name == "orderDirection":
        direction = _scalar(name, value)
        if direction not in ("ASC", "DESC"):
            raise _bad(name, IS_NOT_ASC_OR(direction=repr(direction)))
        q.descending = direction == "DESC"
    elif name == "eventCountLimit":
        q.event_count_limit = _count(name, value)
    elif name == "maxEventCount":
        q.max_event_count = _count(name, value)
    else:
        for prefix, (kind, vocabulary) in FLEXIBLE.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                typed = f"{kind}:{folded(vocabulary, name[len(prefix) :])}"
                w.append(has_value([typed], vals.c.value.in_(_strings(name, value))))
                return
        if name.startswith(("EQ_", "GT_", "GE_", "LT_", "LE_", "MATCH_", "WD_", "EXISTS_", "HASATTR_", "EQATTR_")):
            raise _bad(name, NOT_SUPPORTED())
        raise _bad(name, UNKNOWN_QUERY_PARAMETER())


# --- running a query, one page at a time -----------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    seqs: list[int]
    next_token: str | None


def encode_token(state: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode().rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    try:
        state = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        state = None
    if not isinstance(state, dict):
        raise EPCISProblem(400, VALIDATION, TOKEN_NOT_VALID, TOKEN_NOT_OURS)
    return state


def per_page_of(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PER_PAGE
    try:
        n = int(raw)
    except ValueError:
        raise _bad("perPage", IS_NOT_A_WHOLE(value=repr(raw))) from None
    return max(1, min(n, MAX_PER_PAGE))  # the binding lets the server bound perPage; below 1 means 1


def run(
    conn: Connection,
    q: EventQuery,
    visible: ColumnElement[bool] | None,
    per_page: int,
    token: str | None,
    extra: Iterable[ColumnElement[bool]] = (),
) -> Page:
    """One page of the matching index rows' ledger seqs, by keyset on (order column, seq), so pages neither
    skip nor repeat events while captures go on. `visible` is the caller-visibility predicate (access seam)."""
    conditions = [*q.where, *extra]
    if visible is not None:
        conditions.append(visible)
    where = and_(true(), *conditions)
    if q.max_event_count is not None:
        total = conn.execute(select(func.count()).select_from(ev).where(where)).scalar_one()
        if total > q.max_event_count:
            raise EPCISProblem(
                413, QUERY_TOO_LARGE, RESULT_TOO_LARGE, TOO_MANY(total=total, limit=q.max_event_count),
            )  # fmt: skip
    state = decode_token(token) if token else {}
    left = state.get("left", q.event_count_limit)
    if left is not None and (not isinstance(left, int) or left < 0):
        raise EPCISProblem(400, VALIDATION, TOKEN_NOT_VALID, TOKEN_NOT_OURS)
    column = ORDER_COLUMNS.get(q.order_by or "")
    descending = q.descending if column is not None else False
    stmt = select(ev.c.seq, column if column is not None else ev.c.seq).where(where)
    after = state.get("after")
    if after is not None:
        stmt = stmt.where(_after(column, after, descending))
    keys = [column, ev.c.seq] if column is not None else [ev.c.seq]
    stmt = stmt.order_by(*(k.desc() if descending else k.asc() for k in keys))
    size = per_page if left is None else min(per_page, left)
    if size == 0:
        return Page([], None)
    rows = conn.execute(stmt.limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    remaining = None if left is None else left - len(rows)
    if not more or remaining == 0 or not rows:
        return Page([r[0] for r in rows], None)
    last_seq, last_key = rows[-1]
    key = last_key.isoformat() if isinstance(last_key, datetime) else last_key
    return Page([r[0] for r in rows], encode_token({"after": [key, last_seq], "left": remaining}))


def _after(column: Any, after: Any, descending: bool) -> ColumnElement[bool]:
    bad = EPCISProblem(400, VALIDATION, TOKEN_NOT_VALID, TOKEN_NOT_OURS)
    if not isinstance(after, list) or len(after) != 2 or not isinstance(after[1], int):
        raise bad
    key, seq = after
    if column is None:
        return ev.c.seq < seq if descending else ev.c.seq > seq
    if key is None:
        return false()
    try:
        moment = datetime.fromisoformat(key)
    except (TypeError, ValueError):
        raise bad from None
    if descending:
        return or_(column < moment, and_(column == moment, ev.c.seq < seq))
    return or_(column > moment, and_(column == moment, ev.c.seq > seq))


# The paging parameters of every listing, as the OpenAPI documents them.
PAGING_PARAMETERS = [
    {"name": "perPage", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "default": DEFAULT_PER_PAGE},
     "description": f"Events (or items) per page; at most {MAX_PER_PAGE}."},
    {"name": "nextPageToken", "in": "query", "required": False, "schema": {"type": "string"},
     "description": "The token of the `Link: rel=\"next\"` header of the previous page."},
]  # fmt: skip
