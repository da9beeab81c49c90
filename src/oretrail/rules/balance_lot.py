"""balance.lot: more was drawn from a lot at a place than was ever put there.

Every draw (shipping out, consuming in a transformation, exporting, selling) and every addition is a side of
an `event_lots` row (`from_place` and `to_place`). Over a lot's whole life at one place, draws can exceed
additions only by measurement error; beyond that, material was handled that the records never brought there.
The comparison is of totals, not of a running balance in time order, so the result does not depend on the
order feeds arrived in (a receipt recorded after the dispatch it preceded must not raise). Places of the
form `urn:oretrail:declaration:…` stand for "abroad" and only ever receive.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Select, bindparam, func, select

from oretrail.i18n.message import Message
from oretrail.ids import DECLARATION_PREFIX
from oretrail.rules.base import Context, Finding, capped
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import LOT
from oretrail.rules.statements import once
from oretrail.storage.schema import event_lots as el
from oretrail.storage.schema import lots, shipments
from oretrail.storage.schema import positions as p

RULE = "balance.lot"
SAID = Message(
    RULE,
    "Lot {lot}{material:paren}: {drawn_g:kg} was drawn at {place}, but only {added_g:kg} was ever recorded arriving "
    "there: {excess_g:kg} is unaccounted for.",
)
SCOPE_KIND = LOT  # the scope-table kind its subjects are filtered by


@once
def _candidates(ctx: Context) -> Select[Any]:
    return (
        select(p.c.lot_id, p.c.place)
        .where(~p.c.place.startswith(DECLARATION_PREFIX), ctx.within(SCOPE_KIND, p.c.lot_id))
        .group_by(p.c.lot_id, p.c.place)
        .having(func.sum(p.c.grams) < 0)
    )


@once
def _rows_of(ctx: Context) -> Select[Any]:
    """Every movement of the candidates' lots, with the lot's material, in one statement: asked lot by lot
    (chunks of ids) each ask was a pass over `event_lots` on an engine without indexes (DuckDB: 38 s of a
    9.57M-event scan)."""
    candidates = _candidates(ctx).subquery("candidates")
    return (
        select(el.c.lot_id, el.c.event_id, el.c.grams, el.c.from_place, el.c.to_place, lots.c.material)
        .outerjoin(lots, lots.c.lot_id == el.c.lot_id)
        .where(el.c.lot_id.in_(select(candidates.c.lot_id)))
    )


_ORIGINS = select(shipments.c.waybill, shipments.c.origin).where(
    shipments.c.waybill.in_(bindparam("ids", expanding=True))
)


def find(ctx: Context) -> list[Finding]:
    cfg = ctx.config
    # Candidates from `positions` (the per-owner sums of the draws and additions): drawing more than was added
    # needs a negative net at the place, so only those (lot, place) pairs are summed again from their events.
    # `positions` holds only non-zero balances, which keeps a scan off the millions of settled event rows.
    candidates = ctx.conn.execute(_candidates(ctx)).all()
    pairs = sorted((r.lot_id, r.place) for r in candidates)
    drawn: dict[tuple[str, str], int] = defaultdict(int)
    added: dict[tuple[str, str], int] = defaultdict(int)
    draws: dict[tuple[str, str], set[str]] = defaultdict(set)
    adds: dict[tuple[str, str], set[str]] = defaultdict(set)
    wanted = set(pairs)
    material: dict[str, str | None] = {}
    if pairs:
        for lot, event, grams, source, target, mat in ctx.conn.execute(_rows_of(ctx)):
            material[lot] = mat
            if (lot, source) in wanted:
                drawn[(lot, source)] += grams
                draws[(lot, source)].add(event)
            if (lot, target) in wanted:
                added[(lot, target)] += grams
                adds[(lot, target)].add(event)
    over = [k for k in pairs if drawn[k] > added[k] * (1.0 + cfg.relative_tolerance) + cfg.absolute_tolerance_g]
    if not over:
        return []
    waybills = sorted({k[1] for k in over if k[1].startswith("urn:oretrail:waybill:")})
    origins = dict(ctx.conn.execute(_ORIGINS, {"ids": waybills}).all()) if waybills else {}
    out = []
    for key in over:
        lot_id, place = key
        d_g, a_g = drawn[key], added[key]
        mat = material.get(lot_id)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="lot",
                subject_id=lot_id,
                key=place,
                message=SAID(lot=lot_id, material=mat, drawn_g=d_g, place=place, added_g=a_g, excess_g=d_g - a_g),
                evidence=(*capped(draws[key], cfg.max_evidence), *capped(adds[key], cfg.max_evidence)),
                details={
                    "place": place,
                    "drawn_g": d_g,
                    "added_g": a_g,
                    "excess_g": d_g - a_g,
                    "draw_events": list(capped(draws[key], cfg.max_evidence)),
                    "addition_events": list(capped(adds[key], cfg.max_evidence)),
                },
                location=origins.get(place, place),
                material=mat,
                stake_g=d_g - a_g,
                controlled=ctx.is_controlled_material(mat),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("industry", "natural_resources"),
    settling=Settling.REPORT,
    title="more is drawn from a lot at a place than was ever there",
    check="Count the stock at the place; ask for the records of how the lot arrived there.",
    thresholds=(
        "balance.relative_tolerance",
        "balance.absolute_tolerance_g",
    ),
)
