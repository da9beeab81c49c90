"""licence.overdrawn: the declarations citing a licence add up to more than the quantity it grants.

Each declaration may be within the licence on its own; only the running total shows the breach, so the
subject is the licence and the evidence every declaration that drew on it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding, capped, split_agg, text_agg
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import LICENCE
from oretrail.rules.statements import once
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "licence.overdrawn"
SAID = Message(
    RULE,
    "Export licence {licence} grants {granted_g:kg} of {material}, but {uses} declarations citing it add up to "
    "{drawn_g:kg}: {excess_g:kg} exported beyond the licence.",
)
SCOPE_KIND = LICENCE  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    drawn = (
        select(
            d.c.licence_no,
            func.sum(d.c.net_g).label("drawn_g"),
            func.sum(d.c.value_usd).label("value_usd"),
            func.count().label("uses"),
            text_agg(ctx, d.c.declaration_no).label("decls"),
        )
        .where(d.c.licence_no.is_not(None), ctx.within(SCOPE_KIND, d.c.licence_no))
        .group_by(d.c.licence_no)
        .subquery()
    )
    return (
        select(lic.c.licence_no, lic.c.exporter, lic.c.material, lic.c.quantity_g, drawn)
        .join(drawn, drawn.c.licence_no == lic.c.licence_no)
        .where(drawn.c.drawn_g > lic.c.quantity_g + ctx.config.overdraw_tolerance_g)
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        excess = int(r.drawn_g) - int(r.quantity_g)
        decls = split_agg(r.decls)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="licence",
                subject_id=r.licence_no,
                message=SAID(
                    licence=r.licence_no,
                    granted_g=int(r.quantity_g),
                    material=r.material,
                    uses=int(r.uses),
                    drawn_g=int(r.drawn_g),
                    excess_g=excess,
                ),
                evidence=(r.licence_no, *capped(decls, ctx.config.max_evidence)),
                details={
                    "quantity_g": int(r.quantity_g),
                    "drawn_g": int(r.drawn_g),
                    "excess_g": excess,
                    "uses": int(r.uses),
                    "declarations": list(capped(decls, ctx.config.max_evidence)),
                },
                party=r.exporter,
                material=r.material,
                stake_g=excess,
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("commerce", "customs"),
    settling=Settling.FEED,
    title="declarations citing a licence add up to more than its quantity",
    check=(
        "List every declaration under the licence; stop further use; check whether the excess left under "
        "another licence or none."
    ),
    thresholds=("licence.overdraw_tolerance_g",),
)
