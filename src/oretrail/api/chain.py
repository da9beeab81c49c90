"""Read-only views of the chain: trace, summary, ledger verification."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import Connection

from oretrail.api.deps import reader

router = APIRouter(tags=["chain"])


@router.get("/lots/{lot:path}/trace", summary="Trace a lot backward to the mines or forward to the exports")
def trace_lot(
    lot: str, conn: Annotated[Connection, Depends(reader)], direction: Literal["backward", "forward"] = "backward"
) -> dict[str, Any]:
    from oretrail.chain.trace import trace

    try:
        node = trace(conn, lot, backward=direction == "backward")
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    if node.origin == "unknown" and not node.via and not node.exports:
        raise HTTPException(404, f"lot {lot} is not created by any stored event")
    return node.as_dict()


@router.get("/summary", summary="What the database holds, stage by stage")
def summary(conn: Annotated[Connection, Depends(reader)]) -> list[dict[str, Any]]:
    from oretrail.reports import summary_rows

    return summary_rows(conn)


@router.get("/ledger/verify", summary="Walk the hash chain and the signed checkpoints")
def verify_ledger(conn: Annotated[Connection, Depends(reader)], public_key: str | None = None) -> dict[str, Any]:
    from oretrail.ledger.verify import verify

    v = verify(conn, public_key)
    return {
        "ok": v.ok,
        "records": v.records,
        "checkpoints": v.checkpoints,
        "first_bad_seq": v.first_bad_seq,
        "problem": v.problem,
    }
