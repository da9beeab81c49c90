"""Feeds over HTTP: the same intake as the CLI, one document or file per request, whole or nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request
from sqlalchemy import Engine

from oretrail.api.deps import engine
from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError

router = APIRouter(prefix="/capture", tags=["intake"])


def refusal(exc: IntakeError) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail={
            "document": exc.document,
            "index": exc.index,
            "field": exc.field,
            "reason": exc.reason,
            "message": str(exc),
        },
    )


async def bounded_body(request: Request) -> bytes:
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_DOCUMENT_BYTES:
        raise HTTPException(413, f"document over the {MAX_DOCUMENT_BYTES // 2**20} MiB limit; split it")
    data = await request.body()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise HTTPException(413, f"document over the {MAX_DOCUMENT_BYTES // 2**20} MiB limit; split it")
    return data


@router.post(
    "/events",
    summary="Capture one EPCIS 2.0 document",
    openapi_extra={"requestBody": {"content": {"application/ld+json": {}, "application/json": {}}, "required": True}},
)
def capture_events(
    request: Request,
    data: Annotated[bytes, Depends(bounded_body)],
    eng: Annotated[Engine, Depends(engine)],
) -> dict[str, Any]:
    """Validated in layers 1–3; stored in the ledger; projections and early-warning rules run in the same
    transaction. 422 names the event index, the field and the reason; nothing of a refused document is kept."""
    capture = request.app.state.capture
    try:
        report = capture.document(data, request.headers.get("x-document-name", "http-capture"))
    except IntakeError as exc:
        raise refusal(exc) from None
    return {
        "events": report.events,
        "new": report.new,
        "unchanged": report.unchanged,
        "corrections": report.corrections,
        "alerts_new": report.alerts_new,
        "outcomes": [o.row() for o in report.outcomes],
    }


@router.post("/registry", summary="Load registry JSON Lines; the rules that read the registry are judged again")
def capture_registry(
    request: Request,
    eng: Annotated[Engine, Depends(engine)],
    body: Annotated[str, Body(media_type="application/x-ndjson")],
) -> dict[str, int]:
    from oretrail.pipeline import rejudge
    from oretrail.registry.store import load_registry

    try:
        n = load_registry(eng, body.encode().splitlines(), "http-registry")
    except IntakeError as exc:
        raise refusal(exc) from None
    judged = rejudge(eng, "registry", request.app.state.settings)
    return {"new": n.new, "changed": n.changed, "unchanged": n.unchanged, "alerts_new": len(judged.new)}


@router.post("/licences", summary="Load licences (JSON Lines); screened and checked as they land")
def capture_licences(
    request: Request,
    eng: Annotated[Engine, Depends(engine)],
    body: Annotated[str, Body(media_type="application/x-ndjson")],
) -> dict[str, int]:
    return _trade(request, eng, "licences", body)


@router.post("/declarations", summary="Load customs declarations (JSON Lines); licence rules run as they land")
def capture_declarations(
    request: Request,
    eng: Annotated[Engine, Depends(engine)],
    body: Annotated[str, Body(media_type="application/x-ndjson")],
) -> dict[str, int]:
    return _trade(request, eng, "declarations", body)


def _trade(request: Request, eng: Engine, kind: str, body: str) -> dict[str, int]:
    from oretrail.pipeline import load_trade

    try:
        return load_trade(eng, kind, body.encode().splitlines(), f"http-{kind}", request.app.state.settings)
    except IntakeError as exc:
        raise refusal(exc) from None
