"""What every route of the binding shares: the versions it announces, discovery headers, content
negotiation, the query document it answers with, and paging links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from oretrail.api.epcis.index import catch_up
from oretrail.api.epcis.problems import NOT_ACCEPTABLE, PROBLEM, EPCISProblem
from oretrail.api.epcis.visibility import may_read
from oretrail.errors import MAX_DOCUMENT_BYTES
from oretrail.i18n.message import Message

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CAPTURE_LIMIT = 10_000  # events per POST /capture; the default of app.state.epcis_capture_limit
LD_JSON = "application/ld+json"


def vendor_version() -> str:
    from importlib.metadata import version

    return f"oretrail-{version('oretrail')}"


def version_headers() -> dict[str, str]:
    return {"GS1-EPCIS-Version": EPCIS_VERSION, "GS1-CBV-Version": CBV_VERSION}


def discovery_headers(request: Request, allow: str) -> dict[str, str]:
    """The OPTIONS answer of every binding resource: the same capabilities everywhere, with its methods."""
    return {
        "Allow": allow,
        **version_headers(),
        "GS1-EPCIS-Min": EPCIS_VERSION,
        "GS1-EPCIS-Max": EPCIS_VERSION,
        "GS1-CBV-Min": CBV_VERSION,
        "GS1-CBV-Max": CBV_VERSION,
        "GS1-EPC-Format": "Never_Translates",
        "GS1-CBV-XML-Format": "Never_Translates",
        "GS1-Vendor-Version": vendor_version(),
        "GS1-EPCIS-Capture-Limit": str(capture_limit(request)),
        "GS1-EPCIS-Capture-File-Size-Limit": str(MAX_DOCUMENT_BYTES),
        "GS1-Capture-Error-Behaviour": "all",  # the binding: both rollback and proceed
    }


def capture_limit(request: Request) -> int:
    return int(getattr(request.app.state, "epcis_capture_limit", CAPTURE_LIMIT))


VERSION_NOT_READABLE = Message("epcis.title.version_not_readable", "Version not readable")
NOT_A_VERSION = Message("epcis.not_a_version", "{value} is not a version such as 2.0.0")
NO_REPRESENTATION = Message("epcis.title.no_representation", "Representation not available")
JSON_ONLY = Message("epcis.json_only", "this repository answers in JSON / JSON-LD only, not {accept}")
VERSION_NOT_SUPPORTED = Message("epcis.title.version_not_supported", "Version not supported")
SPEAKS = Message("epcis.speaks", "{header} {value}: this repository speaks EPCIS {epcis} and CBV {cbv}")


def _version(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in value.strip().split("."))
    except ValueError:
        raise EPCISProblem(406, NOT_ACCEPTABLE, VERSION_NOT_READABLE, NOT_A_VERSION(value=repr(value))) from None


def negotiate(request: Request) -> None:
    """406 when the client accepts no JSON, or asks for EPCIS/CBV versions outside the one we speak."""
    accept = request.headers.get("accept", "")
    if accept:
        kinds = {part.split(";")[0].strip().lower() for part in accept.split(",")}
        wanted = {"*/*", "application/*", "application/json", LD_JSON, PROBLEM}
        if not kinds & wanted:
            raise EPCISProblem(
                406, NOT_ACCEPTABLE, NO_REPRESENTATION, JSON_ONLY(accept=accept),
            )  # fmt: skip
    ours = _version(EPCIS_VERSION)
    for header, version, low in (
        ("gs1-epcis-min", ours, True),
        ("gs1-epcis-max", ours, False),
        ("gs1-cbv-min", _version(CBV_VERSION), True),
        ("gs1-cbv-max", _version(CBV_VERSION), False),
    ):
        value = request.headers.get(header)
        if value is None:
            continue
        if (low and _version(value) > version) or (not low and _version(value) < version):
            raise EPCISProblem(
                406, NOT_ACCEPTABLE, VERSION_NOT_SUPPORTED,
                SPEAKS(header=header, value=value, epcis=EPCIS_VERSION, cbv=CBV_VERSION),
            )  # fmt: skip


def fresh_index(request: Request) -> Engine:
    """Negotiate, then bring the query index up to the ledger's head; the engine, for the route."""
    negotiate(request)
    engine: Engine = request.app.state.engine
    catch_up(engine)
    return engine


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_text(moment: datetime | None) -> str | None:
    """A naive-UTC column value as the binding's date-time text."""
    if moment is None:
        return None
    # Microseconds, as stored: a recordTime handed back as GE_recordTime must select exactly the same events.
    return moment.replace(tzinfo=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def served(body: dict[str, Any], recorded_at: datetime) -> dict[str, Any]:
    """A stored event as the repository serves it: the body as captured, with the repository's recordTime."""
    return {**body, "recordTime": utc_text(recorded_at)}


def query_document(
    events: list[dict[str, Any]], query_name: str = "SimpleEventQuery", subscription_id: str | None = None
) -> dict[str, Any]:
    results: dict[str, Any] = {"queryName": query_name, "resultsBody": {"eventList": events}}
    if subscription_id is not None:
        results["subscriptionID"] = subscription_id
    return {
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now_text(),
        "epcisBody": {"queryResults": results},
    }


def next_link(request: Request, token: str) -> str:
    """`Link: <same URL with nextPageToken>; rel="next"` (relative to the server, as the binding allows)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "nextPageToken"]
    items.append(("nextPageToken", token))
    from urllib.parse import urlencode

    return f'<{request.url.path}?{urlencode(items)}>; rel="next"'


def json_response(
    content: Any, request: Request, token: str | None = None, status: int = 200, media: str = "application/json"
) -> JSONResponse:
    headers = version_headers()
    if token is not None:
        headers["Link"] = next_link(request, token)
    return JSONResponse(content, status_code=status, headers=headers, media_type=media)


def collection(members: Iterable[str]) -> dict[str, Any]:
    return {"@context": EPCIS_CONTEXT, "type": "Collection", "member": list(members)}


def options_response(request: Request, allow: str) -> Response:
    return Response(status_code=204, headers=discovery_headers(request, allow))


def problem_docs(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries for the problems a route answers with; every route of the binding needs a
    caller, so 401 and 403 are always among them."""
    codes = tuple(sorted({*codes, 401, 403}))
    titles = {
        400: "Request or query not valid (epcisException:ValidationException / QueryParameterException)",
        401: "No identity, or one that does not hold (epcisException:SecurityException)",
        403: "Not permitted to the caller's role and jurisdiction (epcisException:SecurityException)",
        404: "No such resource (epcisException:NoSuchNameException)",
        406: "Representation or version not available (epcisException:NotAcceptableException)",
        409: "Already exists (epcisException:ResourceAlreadyExistsException)",
        413: "Too large (epcisException:CaptureLimitExceededException / QueryTooLargeException)",
        415: "Body is not JSON (epcisException:UnsupportedMediaTypeException)",
        501: "Not implemented (epcisException:ImplementationException)",
    }
    schema = {
        "type": "object",
        "required": ["type", "title"],
        "properties": {"type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                       "detail": {"type": "string"}},
    }  # fmt: skip
    return {code: {"description": titles[code], "content": {PROBLEM: {"schema": schema}}} for code in codes}


def add_options(router: APIRouter, path: str, allow: str) -> None:
    """OPTIONS on `path`: 204 with the discovery headers and the resource's methods."""

    def options(request: Request) -> Response:
        return options_response(request, allow)

    options.__name__ = "options_" + "".join(c if c.isalnum() else "_" for c in path)
    names = [part.strip("{}").split(":")[0] for part in path.split("/") if part.startswith("{")]
    parameters = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names]
    router.add_api_route(
        path, options, methods=["OPTIONS"], summary=f"Discover {path}", status_code=204, response_class=Response,
        responses={204: {"description": "Capabilities in headers"}, **problem_docs()},
        openapi_extra={"parameters": parameters}, dependencies=[Depends(may_read)],
    )  # fmt: skip
