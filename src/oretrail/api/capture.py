"""Feeds over HTTP: `POST /capture/{feed}` for every feed of `feeds.FEEDS`, the same intake and judging as
`oretrail load`, one document or file per request, whole or nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from oretrail.access.caller import Caller
from oretrail.access.capture import FEED_KINDS, CaptureDenied, check_capture
from oretrail.api.auth import note, permit, refuse
from oretrail.api.deps import engine, lang
from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError
from oretrail.feeds import FEEDS, Feed
from oretrail.i18n.message import Message, said_of
from oretrail.pipeline import worded

router = APIRouter(prefix="/capture", tags=["intake"])

# What each feed's body is, for the OpenAPI document (the bytes are read as sent, whatever the header says).
MEDIA_TYPES = {"events": ("application/ld+json", "application/json"), "mirror": ("text/csv",)}
LINES = ("application/x-ndjson", "application/jsonl")


class FeedReportOut(BaseModel):
    """What one load did (`feeds.FeedReport`): the counts, the alerts it raised, withdrew and settled, per
    event what became of it (events), and remarks a person should read (rows skipped, and why)."""

    feed: str
    source: str
    counts: dict[str, int | str]
    alerts_new: int
    withdrawn: int
    settled: int
    outcomes: list[dict[str, Any]] | None = Field(None, description="Events: one row per event of the document.")
    remarks: list[str] = []


OVER_LIMIT = Message("capture.over_limit", "document over the {mib} MiB limit; split it")


def refusal(exc: IntakeError) -> HTTPException:
    """422 naming the document, record and field: `code` and the pointers for programs, `reason` and the
    detail in the caller's language."""
    return HTTPException(
        status_code=422,
        detail={
            "document": exc.document,
            "index": exc.index,
            "field": exc.field,
            "code": exc.code,
            "reason": exc.said or exc.reason,
            "message": exc.words(),
        },
    )


async def bounded_body(request: Request) -> bytes:
    size = int(request.headers.get("content-length") or 0)
    too_large = HTTPException(413, OVER_LIMIT(mib=MAX_DOCUMENT_BYTES // 2**20))  # type: ignore[arg-type]
    if size > MAX_DOCUMENT_BYTES:
        raise too_large
    data = await request.body()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise too_large
    return data


def _route(feed: Feed) -> Callable[..., FeedReportOut]:
    may = permit("capture", FEED_KINDS[feed.name])

    def capture(
        request: Request,
        who: Caller = Depends(may),  # before the body: nothing is read from a caller who may not send it
        data: bytes = Depends(bounded_body),
        eng: Engine = Depends(engine),
    ) -> FeedReportOut:
        name = request.headers.get("x-document-name", f"http-{feed.name}")
        note(request).object = name
        try:
            with eng.connect() as conn:
                check_capture(conn, who, feed.name, data, name)
            report = feed.read_bytes(eng, data, name, request.app.state.settings)
        except IntakeError as exc:
            raise refusal(exc) from None
        except CaptureDenied as exc:
            raise refuse(request, said_of(exc)) from None
        return FeedReportOut(
            feed=report.feed,
            source=report.source,
            counts=report.counts,
            alerts_new=report.alerts_new,
            withdrawn=report.withdrawn,
            settled=report.settled,
            outcomes=worded(report.rows, lang(request)),
            remarks=report.remarks,
        )

    capture.__name__ = f"capture_{feed.name}"
    capture.__doc__ = (
        f"{feed.summary} Validated whole before anything is written; recorded, projected and judged in the same "
        "transaction. 422 names the record (event index or line), the field and the reason; nothing of a "
        "refused document is kept. 403 names the first record the caller may not capture (an enterprise: an "
        "event at a facility that is not its own). `X-Document-Name` names the document in reports and refusals."
    )
    return capture


for _feed in FEEDS:
    router.post(
        f"/{_feed.name}",
        summary=f"Capture {_feed.name}",
        response_model=FeedReportOut,
        openapi_extra={
            "requestBody": {
                "content": {t: {} for t in MEDIA_TYPES.get(_feed.name, LINES)},
                "required": True,
            }
        },
    )(_route(_feed))
