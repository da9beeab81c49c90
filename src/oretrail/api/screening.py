"""Ad hoc screening of names against the loaded watch list: the officer's check before granting a licence."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from oretrail.access.caller import Caller
from oretrail.api.auth import permit
from oretrail.api.deps import reader
from oretrail.i18n.message import said_of

router = APIRouter(tags=["screening"])


class ScreenRequest(BaseModel):
    names: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        min_length=1, max_length=10_000, description="Names to screen, in any script."
    )
    threshold: float | None = Field(
        default=None, gt=0.0, le=1.0, description="Score from which a name matches; default the configured one."
    )


class ScreenHit(BaseModel):
    query: str
    entity_id: str
    matched_name: str = Field(description="The listed name (or alias) that matched, as the list writes it.")
    score: float


class ScreenResponse(BaseModel):
    list_version: str = Field(description="Content digest of the watch list screened against.")
    threshold: float
    hits: list[ScreenHit]


@router.post("/screen", summary="Screen names against the loaded watch list")
def screen(
    request: ScreenRequest,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "watchlist"))],
) -> ScreenResponse:
    from oretrail.rules.config import load_config
    from oretrail.screening.store import NOTHING_TO_SCREEN_AT, NoWatchlist, screen_names

    for number, name in enumerate(request.names):
        if not any(ch.isalnum() for ch in name):
            raise HTTPException(422, NOTHING_TO_SCREEN_AT(field=f"names[{number}]", name=name))  # type: ignore[arg-type]
    threshold = request.threshold if request.threshold is not None else load_config().screening_threshold
    try:
        version, hits = screen_names(conn, request.names, threshold)
    except NoWatchlist as exc:
        raise HTTPException(409, said_of(exc)) from exc  # type: ignore[arg-type]  # read when answered
    return ScreenResponse(
        list_version=version,
        threshold=threshold,
        hits=[
            ScreenHit(query=h.query, entity_id=h.entity_id, matched_name=h.matched_name, score=h.score) for h in hits
        ],
    )
