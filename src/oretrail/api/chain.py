"""Read-only views of the chain: trace, summary, ledger verification.

A trace shows the whole genealogy it reaches, since provenance is what it is for, but only what the caller
may read of it: a lot or step outside their view keeps its place in the tree (so the shape stays true) and
loses its details (`withheld`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from sqlalchemy import Connection, select

from oretrail.access.caller import Caller
from oretrail.access.scope import events_visible, lots_visible, unconstrained
from oretrail.api.auth import OUT_OF_SIGHT, permit, refuse, unseen
from oretrail.api.deps import lang, reader
from oretrail.chain.trace import NOT_CREATED, TraceTooWide
from oretrail.i18n.message import said_of
from oretrail.storage.schema import events, lots

router = APIRouter(tags=["chain"])

WITHHELD = "outside what you may read"
_LOT_DETAILS = ("material", "grade", "kg", "element", "origin", "created_event", "created_stage", "location", "time")


def _lots_and_events(node: dict[str, Any], lot_ids: set[str], event_ids: set[str]) -> None:
    lot_ids.add(node["lot"])
    for step in node.get("via", ()):
        event_ids.add(step["event"])
        for child in step["lots"]:
            _lots_and_events(child, lot_ids, event_ids)
    for export in node.get("exports", ()):
        event_ids.add(export["event"])


def _among(conn: Connection, column: Any, ids: set[str], visible: Any) -> set[str]:
    wanted, found = sorted(ids), set[str]()
    for i in range(0, len(wanted), 400):
        found.update(conn.execute(select(column).where(column.in_(wanted[i : i + 400]), visible)).scalars())
    return found


def _redact(node: dict[str, Any], lots_ok: set[str], events_ok: set[str]) -> None:
    if node["lot"] not in lots_ok:
        for key in _LOT_DETAILS:
            node[key] = None
        node["withheld"] = WITHHELD
    for step in node.get("via", ()):
        if step["event"] not in events_ok:
            step.update(event=None, location=None, time=None, withheld=WITHHELD)
        for child in step["lots"]:
            _redact(child, lots_ok, events_ok)
    if "exports" in node:
        node["exports"] = [
            e if e["event"] in events_ok else {"withheld": WITHHELD, "kg": e["kg"]} for e in node["exports"]
        ]


@router.get("/lots/{lot:path}/trace", summary="Trace a lot backward to the mines or forward to the exports")
def trace_lot(
    request: Request,
    lot: str,
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "lot"))],
    direction: Literal["backward", "forward"] = "backward",
) -> dict[str, Any]:
    from oretrail.chain.trace import trace

    wide = unconstrained(who, "read", "lot")
    if not wide and conn.execute(select(lots.c.lot_id).where(lots.c.lot_id == lot, lots_visible(who))).first() is None:
        raise refuse(request, OUT_OF_SIGHT(denied=unseen(who, "read", "lot", lot)[1], scope=who.scope()))
    try:
        node = trace(conn, lot, backward=direction == "backward")
    except TraceTooWide as exc:
        raise HTTPException(422, said_of(exc)) from None  # type: ignore[arg-type]  # read when answered
    if node.origin == "unknown" and not node.via and not node.exports:
        raise HTTPException(404, NOT_CREATED(lot=lot))  # type: ignore[arg-type]  # read when answered
    out = node.as_dict()
    if not (wide and unconstrained(who, "read", "event")):
        lot_ids: set[str] = set()
        event_ids: set[str] = set()
        _lots_and_events(out, lot_ids, event_ids)
        _redact(
            out,
            _among(conn, lots.c.lot_id, lot_ids, lots_visible(who)),
            _among(conn, events.c.event_id, event_ids, events_visible(who)),
        )
    return out


@router.get("/summary", summary="What the database holds, stage by stage")
def summary(
    conn: Annotated[Connection, Depends(reader)], who: Annotated[Caller, Depends(permit("read", "ledger"))]
) -> list[dict[str, Any]]:
    from oretrail.reports import summary_rows

    return summary_rows(conn)


@router.get("/ledger/verify", summary="Walk the hash chain and the signed checkpoints")
def verify_ledger(
    conn: Annotated[Connection, Depends(reader)],
    who: Annotated[Caller, Depends(permit("read", "ledger"))],
    language: Annotated[str, Depends(lang)],
    public_key: str | None = None,
) -> dict[str, Any]:
    """The verdict; `problem` is in the reader's language (`Accept-Language`), `fault` names its kind."""
    from oretrail.ledger.verify import verify

    return verify(conn, public_key).as_dict(language)
