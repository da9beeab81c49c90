"""transit.not_received: a shipment was dispatched and not received within the transit limit.

Open shipments are judged against the platform clock (newest event time on record); a shipment received late
raises too, since for the days beyond the limit nobody could say where the material was. Received exactly at
the limit is in time: only a strictly longer interval raises.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import DateTime, Select, and_, bindparam, or_, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import WAYBILL
from oretrail.rules.statements import once
from oretrail.rules.transit import clock, material_shipped, seconds_between
from oretrail.storage.schema import shipments as s

RULE = "transit.not_received"
SAID = Message(
    RULE,
    "Shipment {waybill} ({grams:kg}{material:of}) left {origin} for {destination} on {left:date} and {state}; the "
    "limit is {limit:g} days.",
)
OPEN = Message(
    f"{RULE}.open", "has still not been received {days:.1f} days later (as of the newest record, {now:date})"
)
LATE = Message(f"{RULE}.late", "was only received {days:.1f} days later, at {place}")
UNDECLARED = Message(f"{RULE}.undeclared", "an undeclared destination")
SCOPE_KIND = WAYBILL  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    """Open shipments dispatched before `cutoff` (the clock less the limit; NULL without a clock, which
    matches none), and shipments received late."""
    limit = ctx.config.transit_limit_days
    open_late = and_(s.c.received_at.is_(None), s.c.dispatched_at < bindparam("cutoff", type_=DateTime))
    received_late = and_(
        s.c.received_at.is_not(None), seconds_between(ctx, s.c.dispatched_at, s.c.received_at) > limit * 86400
    )
    return select(s, material_shipped(s.c.dispatch_event).label("material")).where(
        s.c.dispatched_at.is_not(None), or_(open_late, received_late), ctx.within(SCOPE_KIND, s.c.waybill)
    )


def find(ctx: Context) -> list[Finding]:
    limit = ctx.config.transit_limit_days
    now = clock(ctx)
    cutoff = now - timedelta(days=limit) if now is not None else None
    rows = ctx.conn.execute(_statement(ctx), {"cutoff": cutoff})
    out = []
    for r in rows:
        if r.received_at is None:
            assert now is not None
            days = (now - r.dispatched_at).total_seconds() / 86400
            state = OPEN(days=round(days, 1), now=now.isoformat())
        else:
            days = (r.received_at - r.dispatched_at).total_seconds() / 86400
            state = LATE(days=round(days, 1), place=r.received_location)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="shipment",
                subject_id=r.waybill,
                message=SAID(
                    waybill=r.waybill,
                    grams=r.grams or 0,
                    material=r.material,
                    origin=r.origin,
                    destination=r.dest_location or UNDECLARED(),
                    left=r.dispatched_at.isoformat(),
                    state=state,
                    limit=limit,
                ),
                evidence=tuple(e for e in (r.dispatch_event, r.receipt_event) if e),
                details={
                    "origin": r.origin,
                    "dest_location": r.dest_location,
                    "dispatched_at": r.dispatched_at.isoformat(),
                    "received_at": r.received_at.isoformat() if r.received_at else None,
                    "days": round(days, 3),
                    "limit_days": limit,
                    "grams": r.grams,
                },
                location=r.origin,
                material=r.material,
                stake_g=int(r.grams or 0),
                controlled=ctx.is_controlled_material(r.material),
                # A receipt could still clear it if it happened before the limit ran out: settling counts
                # from there, not from the dispatch.
                anchor=r.received_at or r.dispatched_at + timedelta(days=limit),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("transport", "public_security"),
    settling=Settling.REPORT,
    title="a shipment was dispatched and not received within the transit limit",
    check="Contact the carrier and the consignee; locate the vehicle; check for unrecorded transfers on the way.",
    thresholds=("transit.limit_days",),
)
