"""mirror.share_jump: a destination's share of China's exports of a controlled HS6 in a month jumps against
its own trailing history (a finer signal beside `mirror.gap`).

Goods for a buyer that cannot get a licence are re-addressed to a neighbour or a hub: the neighbour's share
jumps while the total does not. Built from China's own declarations, which cover every destination, so the
shares are exact (partners' statistics miss the countries that do not report).
"""

from __future__ import annotations

from oretrail.i18n.message import Message
from oretrail.mirror.transshipment import monthly_flows, share_jumps
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Queue, Rule, Settling, Severity
from oretrail.rules.scope import TRADE_FLOW
from oretrail.rules.trade_flows import (
    controlled_hs6,
    flow_window,
    goods,
    in_scope,
    materials_of,
    read_declarations,
    scoped_flows,
)

RULE = "mirror.share_jump"
SAID = Message(
    RULE,
    "{destination:country} took {share:.0%} of China's declared exports of {goods} in {period:month} ({grams:kg}), "
    "against {trailing:.1%} over the {months} months before: more than {ratio:g} times its usual share. Check "
    "whether the goods are re-addressed to a buyer elsewhere.",
)
SCOPE_KIND = TRADE_FLOW


def find(ctx: Context) -> list[Finding]:
    cfg = ctx.config
    flows = scoped_flows(ctx)
    hs6 = controlled_hs6(ctx)
    if flows is not None:
        hs6 &= {f.split(":")[1] for f in flows}
    if not hs6:
        return []
    declared = read_declarations(ctx, hs6, window=flow_window(flows, cfg.share_jump_trailing_months))
    jumps = share_jumps(
        monthly_flows(declared, hs6),
        trailing_months=cfg.share_jump_trailing_months,
        ratio=cfg.share_jump_ratio,
        min_kg=cfg.flow_min_kg,
        min_history_months=cfg.share_jump_min_history_months,
        min_points=cfg.share_jump_min_points,
    )
    out = []
    for j in jumps:
        materials = materials_of(ctx.catalogue, j.hs6)
        material = materials[0] if materials else None
        chosen = [
            x
            for x in declared
            if x.destination == j.destination and x.hs_code[:6] == j.hs6 and f"{x.date:%Y%m}" == j.period
        ]
        evidence = sorted(x.declaration_no for x in chosen)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="trade-flow",
                subject_id=j.subject_id,
                message=SAID(
                    destination=j.destination,
                    share=j.share,
                    goods=goods(ctx.catalogue, j.hs6),
                    period=j.period,
                    grams=j.kg * 1000,
                    trailing=j.trailing_share,
                    months=cfg.share_jump_trailing_months,
                    ratio=cfg.share_jump_ratio,
                ),
                evidence=tuple(evidence[: cfg.max_evidence]),
                details={
                    "destination": j.destination,
                    "hs6": j.hs6,
                    "period": j.period,
                    "kg": round(j.kg, 3),
                    "share": j.share,
                    "trailing_share": j.trailing_share,
                    "ratio": cfg.share_jump_ratio,
                    "declarations": len(evidence),
                },
                material=material,
                stake_g=round(j.kg * 1000),
                value_usd=round(sum(x.value_usd for x in chosen), 2),
                controlled=ctx.is_controlled_material(material),
            )
        )
    return in_scope(out, flows)


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("central", "customs", "commerce"),
    settling=Settling.IMMEDIATE,
    title="a destination's share of China's exports of a controlled HS6 jumps against its trailing share",
    check=(
        "Ask the exporters to this destination for their buyers and end-user certificates; check whether the "
        "buyers re-export to a destination that would not get a licence."
    ),
    thresholds=(
        "mirror.share_jump_ratio",
        "mirror.share_jump_trailing_months",
        "mirror.share_jump_min_history_months",
        "mirror.share_jump_min_points",
        "mirror.flow_min_kg",
    ),
    severity=Severity.SIGNAL,
    queue=Queue.LEADS,
    rejudged_by=("mirror",),
)
