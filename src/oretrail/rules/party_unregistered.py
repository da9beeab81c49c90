"""party.unregistered: controlled material passes to a domestic enterprise that is not in the registry.

Every enterprise handling these minerals must be registered with its provincial commerce department; a buyer
or consignee with a valid-looking USCC but no registration is the typical front for an unlicensed smelter or
an export broker. "Controlled material" here is any material of the catalogue, ores included: the
registration duty covers the whole chain, not only the licence-controlled export forms. Foreign parties are
out of scope (exports are judged by the licence rules). One finding per party, listing every transfer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from oretrail.i18n.message import Message
from oretrail.ids import PARTY_PREFIX
from oretrail.rules.base import Context, Finding, capped, split_agg, text_agg
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import PARTY, rule_scope
from oretrail.rules.statements import once
from oretrail.storage.schema import enterprises, event_lots, events, lots

RULE = "party.unregistered"
SAID = Message(
    RULE,
    "{party} received {grams:kg} of controlled material (e.g. {material}) in {transfers} transfer(s) from "
    "{first:date}, but is not registered with any provincial commerce department.",
)
SCOPE_KIND = PARTY  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    e = events
    # Unregistered candidates first, then their transfers: a registered party with a hundred thousand
    # purchases must cost a capture-time run one index probe, not a walk over its purchases.
    pool = (
        select(rule_scope.c.id.label("party")).where(rule_scope.c.kind == SCOPE_KIND)
        if ctx.scoped
        else select(e.c.dest_party.label("party")).distinct()
    ).subquery("pool")
    unregistered = select(pool.c.party).where(
        pool.c.party.startswith(PARTY_PREFIX), pool.c.party.not_in(select(enterprises.c.party_id))
    )
    return (
        select(
            e.c.dest_party,
            func.sum(event_lots.c.grams).label("grams"),
            func.min(lots.c.material).label("material"),
            func.min(e.c.biz_location).label("location"),
            func.min(e.c.source_party).label("source"),
            func.min(e.c.event_time).label("first"),
            text_agg(ctx, e.c.event_id).label("events"),
        )
        .join(event_lots, event_lots.c.seq == e.c.seq)
        .join(lots, lots.c.lot_id == event_lots.c.lot_id)
        .where(
            e.c.dest_party.in_(unregistered),
            e.c.retracted.is_(False),
            event_lots.c.role.in_(("sold", "shipped")),
            lots.c.material.in_(ctx.catalogue_materials),
        )
        .group_by(e.c.dest_party)
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        ids = sorted(set(split_agg(r.events)))
        out.append(
            Finding(
                rule=RULE,
                subject_kind="enterprise",
                subject_id=r.dest_party,
                message=SAID(
                    party=r.dest_party,
                    grams=int(r.grams),
                    material=r.material,
                    transfers=len(ids),
                    first=r.first.isoformat(),
                ),
                evidence=capped(ids, ctx.config.max_evidence),
                details={"grams": int(r.grams), "transfers": len(ids), "first_source": r.source},
                location=r.location,
                party=r.source,
                material=r.material,
                stake_g=int(r.grams),
                controlled=ctx.is_controlled_material(r.material),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("market_regulation", "commerce"),
    settling=Settling.REPORT,
    title="controlled material passes to a domestic party that is not in the registry",
    check=(
        "Identify the enterprise (USCC); check its business licence and premises; have it register or stop "
        "trading in controlled material."
    ),
    rejudged_by=("registry",),
)
