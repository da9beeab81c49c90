"""transit.diverted: a shipment was received somewhere other than the destination declared at dispatch.

Diversion in transit is how controlled material leaves the monitored chain (to an unlicensed smelter, or to a
port). The jurisdiction is where the goods actually arrived, since that is where they can still be found.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import WAYBILL
from oretrail.rules.statements import once
from oretrail.rules.transit import material_shipped
from oretrail.storage.schema import shipments as s

RULE = "transit.diverted"
SAID = Message(
    RULE,
    "Shipment {waybill} ({grams:kg}{material:of}) was dispatched from {origin} on {left:date} for {destination}, "
    "but was received at {place} on {received:date}.",
)
SCOPE_KIND = WAYBILL  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    return select(s, material_shipped(s.c.dispatch_event).label("material")).where(
        s.c.received_location.is_not(None),
        s.c.dest_location.is_not(None),
        s.c.received_location != s.c.dest_location,
        ctx.within(SCOPE_KIND, s.c.waybill),
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    return [
        Finding(
            rule=RULE,
            subject_kind="shipment",
            subject_id=r.waybill,
            message=SAID(
                waybill=r.waybill,
                grams=r.grams or 0,
                material=r.material,
                origin=r.origin,
                left=r.dispatched_at.isoformat(),
                destination=r.dest_location,
                place=r.received_location,
                received=r.received_at.isoformat(),
            ),
            evidence=tuple(e for e in (r.dispatch_event, r.receipt_event) if e),
            details={
                "origin": r.origin,
                "declared_destination": r.dest_location,
                "received_location": r.received_location,
                "dest_party": r.dest_party,
                "grams": r.grams,
            },
            location=r.received_location,
            party=r.dest_party,
            material=r.material,
            stake_g=int(r.grams or 0),
            controlled=ctx.is_controlled_material(r.material),
        )
        for r in rows
    ]


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("transport", "public_security"),
    settling=Settling.REPORT,
    title="a shipment was received somewhere other than its declared destination",
    check="Ask the consignee named at dispatch whether it expected the goods; inspect the place that received them.",
)
