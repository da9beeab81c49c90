"""Following a lot through the chain: backward to the mines, forward to the exports.

Lots merge and split in transformations, so the genealogy is a DAG, not a tree. A lot reached twice is
expanded once and referred to afterwards; that keeps a trace linear in the size of the DAG.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from oretrail.i18n.message import Message
from oretrail.storage.schema import events, exports, genealogy, lots

NOT_CREATED = Message("chain.not_created", "lot {lot} is not created by any stored event")
TOO_WIDE = Message("chain.too_wide", "trace of {lot} exceeds {limit} lots; narrow it down")


class TraceTooWide(ValueError):
    """A trace past its bound of lots, raised with `TOO_WIDE` (`said_of` reads it in either language)."""


@dataclass
class TraceNode:
    lot: str
    material: str | None = None
    grade: float | None = None
    kg: float | None = None
    element: str | None = None
    origin: str = "unknown"  # mining | transformation | unknown (no creating event on record)
    created_event: str | None = None
    created_stage: str | None = None
    location: str | None = None
    time: str | None = None
    repeated: bool = False  # already expanded elsewhere in this trace
    via: list[dict[str, Any]] = field(default_factory=list)  # transformation steps to parents or children
    exports: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "lot": self.lot,
            "material": self.material,
            "grade": self.grade,
            "kg": self.kg,
            "element": self.element,
            "origin": self.origin,
            "created_event": self.created_event,
            "created_stage": self.created_stage,
            "location": self.location,
            "time": self.time,
        }
        if self.repeated:
            out["repeated"] = True
        if self.via:
            out["via"] = [{**step, "lots": [n.as_dict() for n in step["lots"]]} for step in self.via]
        if self.exports:
            out["exports"] = self.exports
        return out


class Tracer:
    def __init__(self, conn: Connection, max_nodes: int = 5000) -> None:
        self.conn = conn
        self.max_nodes = max_nodes
        self.seen: set[str] = set()

    def backward(self, lot: str) -> TraceNode:
        return self._walk(lot, backward=True)

    def forward(self, lot: str) -> TraceNode:
        return self._walk(lot, backward=False)

    def _node(self, lot: str) -> TraceNode:
        row = self.conn.execute(select(lots).where(lots.c.lot_id == lot)).mappings().first()
        node = TraceNode(lot=lot)
        if row:
            node.material, node.grade, node.element = row["material"], row["grade"], row["element"]
            node.kg = row["mass_g"] / 1000
            node.created_event, node.created_stage = row["created_event"], row["created_stage"]
            node.location, node.time = row["created_location"], row["created_at"].isoformat()
            node.origin = "mining" if row["created_stage"] == "mining" else "transformation"
        return node

    def _walk(self, lot: str, backward: bool) -> TraceNode:
        node = self._node(lot)
        if lot in self.seen:
            node.repeated = True
            return node
        self.seen.add(lot)
        if len(self.seen) > self.max_nodes:
            raise TraceTooWide(TOO_WIDE(lot=lot, limit=f"{self.max_nodes:,}"))
        mine, other = (
            (genealogy.c.output_lot, genealogy.c.input_lot)
            if backward
            else (genealogy.c.input_lot, genealogy.c.output_lot)
        )
        steps = self.conn.execute(
            select(genealogy.c.event_id, other, events.c.stage, events.c.biz_location, events.c.event_time)
            .join(events, events.c.event_id == genealogy.c.event_id)
            .where(mine == lot, events.c.retracted.is_(False))
            .order_by(events.c.event_time, genealogy.c.event_id, other)
        ).all()
        by_event: dict[str, dict[str, Any]] = {}
        for event_id, related, stage, place, time in steps:
            step = by_event.setdefault(
                event_id,
                {"event": event_id, "stage": stage, "location": place, "time": time.isoformat(), "lots": []},
            )
            step["lots"].append(self._walk(related, backward))
        node.via = list(by_event.values())
        if not backward:
            node.exports = [
                {
                    "declaration_no": r.declaration_no,
                    "event": r.event_id,
                    "port": r.port,
                    "kg": r.grams / 1000,
                    "time": r.event_time.isoformat(),
                }
                for r in self.conn.execute(
                    select(exports).where(exports.c.lot_id == lot).order_by(exports.c.event_time, exports.c.event_id)
                )
            ]
        return node


def trace(conn: Connection, lot: str, backward: bool) -> TraceNode:
    tracer = Tracer(conn)
    return tracer.backward(lot) if backward else tracer.forward(lot)


def mining_sources(node: TraceNode) -> list[TraceNode]:
    """The mined lots a backward trace reaches (each once)."""
    found: dict[str, TraceNode] = {}
    stack = [node]
    while stack:
        n = stack.pop()
        if n.origin == "mining":
            found.setdefault(n.lot, n)
        for step in n.via:
            stack.extend(step["lots"])
    return list(found.values())
