"""mirror.gap: a partner reports more imports from China of a controlled HS6 in a month than China's
declarations to it can account for, beyond tolerance.

The partner's customs saw goods arrive that Chinese customs never saw leave under that code and destination:
smuggled, misdeclared or declared to another country. The subject is the trade flow (SPEC.md §4), a national
matter: no province is responsible for a partner's statistics, so the alert goes to the central level.
The reconciliation itself (roll-up, lag, CIF/FOB, tolerances) is `oretrail.mirror.gap`.
"""

from __future__ import annotations

from oretrail.i18n.message import Message
from oretrail.mirror.gap import GapSettings, reconcile
from oretrail.mirror.rows import MirrorRow
from oretrail.mirror.store import mirror_rows
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import TRADE_FLOW
from oretrail.rules.trade_flows import (
    controlled_hs6,
    goods,
    in_scope,
    materials_of,
    read_declarations,
    scoped_flows,
)

RULE = "mirror.gap"
SAID = Message(
    RULE,
    "{partner:country} reports importing {partner_g:kg} of {goods} from China in {period:month}, but China's export "
    "declarations to it from {first:month} to {last:month} ({declared_g:kg} in all, {declarations} declarations) "
    "leave only {drawn_g:kg} to account for it: {excess_g:kg} unexplained{share}.{value}",
)
SHARE = Message(f"{RULE}.share", " ({pct:,.0f} % more)")
VALUE = Message(
    f"{RULE}.value",
    " The partner's value (CIF) USD {cif:,.0f} also exceeds the drawn declarations' FOB value USD {fob:,.0f} by "
    "more than freight and insurance explain.",
)
SCOPE_KIND = TRADE_FLOW


def find(ctx: Context) -> list[Finding]:
    cfg = ctx.config
    controlled = controlled_hs6(ctx)
    flows = scoped_flows(ctx)
    rows: list[MirrorRow] = mirror_rows(ctx.conn)
    if flows is not None:
        series = {tuple(f.split(":")[:2]) for f in flows}
        rows = [r for r in rows if (r.reporter, r.cmd) in series]
    rows = [r for r in rows if r.cmd in controlled]
    if not rows:
        return []
    declared = read_declarations(ctx, {r.cmd for r in rows}, {r.reporter for r in rows})
    settings = GapSettings(
        tolerance_pct=cfg.mirror_tolerance_pct,
        tolerance_kg=cfg.mirror_tolerance_kg,
        lag_months=cfg.mirror_lag_months,
        cif_fob_max=cfg.mirror_cif_fob_max,
    )
    out = []
    for gap in reconcile(rows, declared, controlled, settings):
        materials = materials_of(ctx.catalogue, gap.hs6)
        material = materials[0] if materials else None
        excess_value = gap.partner_value_usd * gap.excess_kg / gap.partner_kg if gap.partner_kg else None
        share = SHARE(pct=gap.excess_pct) if gap.excess_pct is not None else ""
        value = VALUE(cif=gap.partner_value_usd, fob=gap.drawn_value_usd) if gap.value_confirms else ""
        out.append(
            Finding(
                rule=RULE,
                subject_kind="trade-flow",
                subject_id=gap.subject_id,
                message=SAID(
                    partner=gap.partner,
                    partner_g=gap.partner_kg * 1000,
                    goods=goods(ctx.catalogue, gap.hs6),
                    period=gap.period,
                    first=gap.window[0],
                    last=gap.window[-1],
                    declared_g=gap.declared_kg_window * 1000,
                    declarations=len(gap.evidence),
                    drawn_g=gap.drawn_kg * 1000,
                    excess_g=gap.excess_kg * 1000,
                    share=share,
                    value=value,
                ),
                evidence=gap.evidence[: cfg.max_evidence],
                details={
                    "partner": gap.partner,
                    "hs6": gap.hs6,
                    "period": gap.period,
                    "partner_kg": gap.partner_kg,
                    "partner_value_usd": gap.partner_value_usd,
                    "declared_kg_window": round(gap.declared_kg_window, 3),
                    "drawn_kg": round(gap.drawn_kg, 3),
                    "drawn_value_usd": gap.drawn_value_usd,
                    "excess_kg": round(gap.excess_kg, 3),
                    "excess_pct": gap.excess_pct,
                    "value_confirms": gap.value_confirms,
                    "window": list(gap.window),
                    "declarations": len(gap.evidence),
                    "tolerance_pct": cfg.mirror_tolerance_pct,
                    "tolerance_kg": cfg.mirror_tolerance_kg,
                },
                material=material,
                stake_g=round(gap.excess_kg * 1000),
                value_usd=None if excess_value is None else round(excess_value, 2),
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
    title=(
        "a partner reports more imports from China of a controlled HS6 in a month than China's declarations to it show"
    ),
    check=(
        "List the exporters and declarations of the flow; ask the partner's customs for its import records of"
        " the month (consignor, quantities); look for the goods declared under other codes or destinations."
    ),
    thresholds=(
        "mirror.tolerance_pct",
        "mirror.tolerance_kg",
        "mirror.lag_months",
        "mirror.cif_fob_max",
    ),
    rejudged_by=("mirror",),
)
