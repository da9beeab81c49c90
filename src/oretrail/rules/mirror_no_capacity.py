"""mirror.no_capacity: a country without known industry processing or consuming an element takes in an
industrial quantity of it in a month (a finer signal beside `mirror.gap`).

Refined gallium or dysprosium oxide that no one in the destination can use must be going on somewhere.
The capacity lists (`oretrail/mirror/capacity.toml`) are indicative and sourced; an element or HS6 they do
not know raises nothing, since absence of data is not absence of industry.
"""

from __future__ import annotations

from collections import defaultdict

from oretrail.i18n.message import Message
from oretrail.mirror.gap import Declaration
from oretrail.mirror.transshipment import NoCapacity, load_capacity, monthly_flows, no_capacity
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Queue, Rule, Settling, Severity
from oretrail.rules.scope import TRADE_FLOW
from oretrail.rules.trade_flows import (
    controlled_hs6,
    flow_window,
    goods,
    materials_of,
    read_declarations,
    scoped_flows,
)

RULE = "mirror.no_capacity"
SAID = Message(
    RULE,
    "{destination:country} received {grams:kg} of {goods} ({element}) from China in {period:month}, but has no "
    "known industry refining, recycling or using it (countries with such industry: {able:list}). Ask the exporters "
    "for the end users and check onward shipments.",
)
SCOPE_KIND = TRADE_FLOW


def element_prefix(ctx: Context, hs_code: str) -> str | None:
    """The catalogue element prefix (`ga` of `ga.metal`) a declared code stands for, or None when the code
    could be several elements (811292 holds both gallium and germanium: its 10-digit lines tell them apart)."""
    codes = materials_of(ctx.catalogue, hs_code)
    prefixes = {code.split(".")[0] for code in codes if ctx.is_controlled_material(code)}
    return prefixes.pop() if len(prefixes) == 1 else None


def find(ctx: Context) -> list[Finding]:
    cfg = ctx.config
    flows = scoped_flows(ctx)
    hs6 = controlled_hs6(ctx)
    if flows is not None:
        hs6 &= {f.split(":")[1] for f in flows}
    if not hs6:
        return []
    declared = read_declarations(
        ctx, hs6, None if flows is None else {f.split(":")[0] for f in flows}, window=flow_window(flows, 0)
    )
    by_element: dict[str, list[Declaration]] = defaultdict(list)
    prefixes = {code: element_prefix(ctx, code) for code in {x.hs_code for x in declared}}
    for x in declared:
        prefix = prefixes[x.hs_code]
        if prefix is not None:
            by_element[prefix].append(x)
    capacity = load_capacity()
    out = []
    for prefix, group in sorted(by_element.items()):
        monthly = monthly_flows(group, hs6)
        if flows is not None:
            monthly = [f for f in monthly if f"{f.destination}:{f.hs6}:{f.period}" in flows]
        for n in no_capacity(monthly, dict.fromkeys(hs6, prefix), capacity, min_kg=cfg.flow_min_kg):
            out.append(_finding(ctx, n, group, capacity[n.element]))
    return out


def _finding(ctx: Context, n: NoCapacity, group: list[Declaration], able: frozenset[str]) -> Finding:
    cfg = ctx.config
    chosen = [
        x for x in group if x.destination == n.destination and x.hs_code[:6] == n.hs6 and f"{x.date:%Y%m}" == n.period
    ]
    numbers = sorted(x.declaration_no for x in chosen)
    materials = sorted({m for x in chosen for m in materials_of(ctx.catalogue, x.hs_code)})
    material = next((m for m in materials if m.startswith(n.element + ".") and ctx.is_controlled_material(m)), None)
    return Finding(
        rule=RULE,
        subject_kind="trade-flow",
        subject_id=n.subject_id,
        key=n.element,
        message=SAID(
            destination=n.destination,
            grams=n.kg * 1000,
            goods=goods(ctx.catalogue, n.hs6),
            element=n.element,
            period=n.period,
            able=sorted(able),
        ),
        evidence=tuple(numbers[: cfg.max_evidence]),
        details={
            "destination": n.destination,
            "hs6": n.hs6,
            "period": n.period,
            "element": n.element,
            "kg": round(n.kg, 3),
            "min_kg": cfg.flow_min_kg,
            "declarations": len(numbers),
        },
        material=material,
        stake_g=round(n.kg * 1000),
        value_usd=round(sum(x.value_usd for x in chosen), 2),
    )


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("central", "customs", "commerce"),
    settling=Settling.IMMEDIATE,
    title=(
        "a destination without known processing capacity for a controlled material imports it in industrial quantities"
    ),
    check=(
        "Ask the exporters who uses the goods in the destination; check the consignees' line of business and "
        "onward shipments."
    ),
    thresholds=("mirror.flow_min_kg",),
    severity=Severity.SIGNAL,
    queue=Queue.LEADS,
    rejudged_by=("mirror",),
)
