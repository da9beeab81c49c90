"""declaration.unit_value: the declared value per kilogram is far outside the catalogue's range for the material.

Gallium declared at the price of aluminium is either misdescribed goods or undervaluation; either way customs
should look. "Far" is the configured factor beyond the catalogue's reference range (see defaults.toml). The
comparison is done multiplied out (value × 1000 × factor against net grams × bound) so no row divides by zero.
"""

from __future__ import annotations

from sqlalchemy import case, literal, or_, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding, material_for_hs
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import DECLARATION as DECLARATION_KIND
from oretrail.storage.schema import declarations as d

RULE = "declaration.unit_value"
BELOW = Message(
    f"{RULE}.below",
    "Export declaration {declaration} values {grams:kg} under HS {hs} at USD {unit:usd}/kg, far below the reference "
    "range USD {low:usd}-{high:usd}/kg for that material: check the goods' identity and the declared value.",
)
ABOVE = Message(
    f"{RULE}.above",
    "Export declaration {declaration} values {grams:kg} under HS {hs} at USD {unit:usd}/kg, far above the reference "
    "range USD {low:usd}-{high:usd}/kg for that material: check the goods' identity and the declared value.",
)
SCOPE_KIND = DECLARATION_KIND  # the scope-table kind its subjects are filtered by


def _range(ctx: Context, hs: str) -> tuple[float, float] | None:
    """The widest reference range of the materials an HS code may declare."""
    mats = [m for m in ctx.catalogue.by_hs(hs) if m.unit_value_min is not None and m.unit_value_max is not None]
    if not mats:
        return None
    return min(float(m.unit_value_min) for m in mats), max(float(m.unit_value_max) for m in mats)  # type: ignore[arg-type]


def find(ctx: Context) -> list[Finding]:
    codes = ctx.conn.execute(select(d.c.hs_code).where(ctx.within(SCOPE_KIND, d.c.declaration_no)).distinct()).scalars()
    ranges = {hs: r for hs in codes if (r := _range(ctx, hs)) is not None}
    if not ranges:
        return []
    lo = case({hs: literal(r[0]) for hs, r in ranges.items()}, value=d.c.hs_code)
    hi = case({hs: literal(r[1]) for hs, r in ranges.items()}, value=d.c.hs_code)
    f = ctx.config.unit_value_factor
    rows = ctx.conn.execute(
        select(d.c.declaration_no, d.c.hs_code, d.c.exporter, d.c.net_g, d.c.value_usd, d.c.date).where(
            d.c.hs_code.in_(sorted(ranges)),
            d.c.net_g > 0,
            or_(d.c.value_usd * 1000.0 * f < d.c.net_g * lo, d.c.value_usd * 1000.0 > d.c.net_g * hi * f),
            ctx.within(SCOPE_KIND, d.c.declaration_no),
        )
    )
    out = []
    for row in rows:
        low, high = ranges[row.hs_code]
        unit = row.value_usd * 1000.0 / row.net_g
        out.append(
            Finding(
                rule=RULE,
                subject_kind="declaration",
                subject_id=row.declaration_no,
                message=(BELOW if unit < low else ABOVE)(
                    declaration=row.declaration_no, grams=row.net_g, hs=row.hs_code, unit=unit, low=low, high=high
                ),
                evidence=(row.declaration_no,),
                details={
                    "hs_code": row.hs_code,
                    "unit_value_usd_per_kg": round(unit, 4),
                    "range_usd_per_kg": [low, high],
                    "factor": f,
                    "net_g": row.net_g,
                    "value_usd": row.value_usd,
                },
                party=row.exporter,
                material=material_for_hs(ctx.catalogue, row.hs_code),
                stake_g=row.net_g,
                value_usd=row.value_usd,
                controlled=ctx.catalogue.is_controlled_hs(row.hs_code),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("customs", "tax"),
    settling=Settling.FEED,
    title="value per kg is far outside the catalogue's range for the material",
    check=(
        "Ask for the sales contract and invoice; check the goods' identity against the declared HS code; "
        "refer undervaluation to the tax authority."
    ),
    thresholds=("declaration.unit_value_factor",),
)
