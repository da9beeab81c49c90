"""declaration.misclassified: an uncontrolled HS code is declared, but the lots that left under it are controlled.

The classic evasion is to declare gallium as "other base metal" or antimony as generic ore: the HS code then
asks for no licence. The chain knows what the lots really are (their material from the creating event's
`ilmd`), so the export events under the declaration give the goods away.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding, capped, split_agg, text_agg
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import DECLARATION as DECLARATION_KIND
from oretrail.rules.statements import once
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import exports as x
from oretrail.storage.schema import lots

RULE = "declaration.misclassified"
SAID = Message(
    RULE,
    "Export declaration {declaration} declares HS {hs}, which needs no licence, but the lots exported under it "
    "({grams:kg}) are {materials:and}, a licence-controlled material. The goods appear to be misdeclared.",
)
SCOPE_KIND = DECLARATION_KIND  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    return (
        select(
            d.c.declaration_no,
            d.c.hs_code,
            d.c.exporter,
            d.c.net_g,
            d.c.value_usd,
            func.min(lots.c.material).label("material"),
            func.max(lots.c.material).label("material_max"),
            func.sum(x.c.grams).label("grams"),
            func.min(x.c.port).label("port"),
            text_agg(ctx, x.c.lot_id).label("lots"),
            text_agg(ctx, x.c.event_id).label("events"),
        )
        .join(x, x.c.declaration_no == d.c.declaration_no)
        .join(lots, lots.c.lot_id == x.c.lot_id)
        .where(
            d.c.hs_code.not_in(ctx.controlled_hs),
            lots.c.material.in_(ctx.controlled_materials),
            ctx.within(SCOPE_KIND, d.c.declaration_no),
        )
        .group_by(d.c.declaration_no, d.c.hs_code, d.c.exporter, d.c.net_g, d.c.value_usd)
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        lot_ids, event_ids = split_agg(r.lots), split_agg(r.events)
        materials = sorted({r.material, r.material_max})
        out.append(
            Finding(
                rule=RULE,
                subject_kind="declaration",
                subject_id=r.declaration_no,
                message=SAID(declaration=r.declaration_no, hs=r.hs_code, grams=r.grams, materials=materials),
                evidence=(
                    r.declaration_no,
                    *capped(event_ids, ctx.config.max_evidence),
                    *capped(lot_ids, ctx.config.max_evidence),
                ),
                details={
                    "hs_code": r.hs_code,
                    "materials": materials,
                    "controlled_grams": int(r.grams),
                    "declared_net_g": r.net_g,
                    "lots": list(capped(lot_ids, ctx.config.max_evidence)),
                },
                location=r.port,
                party=r.exporter,
                material=r.material,
                stake_g=int(r.grams),
                value_usd=r.value_usd,
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("customs", "commerce"),
    settling=Settling.REPORT,
    title="the declared HS code is not controlled, but the lots exported under it are controlled material",
    check=(
        "Inspect or sample the goods; compare the declared description with the lots' material and grade; "
        "reclassify and check the licence duty."
    ),
)
