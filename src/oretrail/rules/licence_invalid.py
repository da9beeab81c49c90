"""licence.invalid: a declaration cites a licence that is revoked or refused, or is dated outside its validity.

Validity is judged on the declaration date, the day the export was declared: that is the act the licence must
cover. Both ends of the validity period are inclusive, as licences are issued "valid from ... to ...".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from oretrail.rules.base import Context, Finding, kg
from oretrail.rules.rule import Rule, Settling, Text
from oretrail.rules.scope import DECLARATION
from oretrail.rules.statements import once
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "licence.invalid"
SCOPE_KIND = DECLARATION  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    return (
        select(
            d.c.declaration_no,
            d.c.date,
            d.c.exporter,
            d.c.net_g,
            d.c.value_usd,
            lic.c.licence_no,
            lic.c.status,
            lic.c.valid_from,
            lic.c.valid_to,
            lic.c.material,
        )
        .join(lic, lic.c.licence_no == d.c.licence_no)
        .where(
            or_(lic.c.status != "approved", d.c.date < lic.c.valid_from, d.c.date > lic.c.valid_to),
            ctx.within(SCOPE_KIND, d.c.declaration_no),
        )
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        reasons = []
        if r.status != "approved":
            reasons.append(f"the licence is {r.status}")
        if r.date < r.valid_from or r.date > r.valid_to:
            reasons.append(f"the declaration date {r.date} is outside its validity {r.valid_from} to {r.valid_to}")
        out.append(
            Finding(
                rule=RULE,
                subject_kind="declaration",
                subject_id=r.declaration_no,
                message=(
                    f"Export declaration {r.declaration_no} ({kg(r.net_g)}) cites licence {r.licence_no}, but "
                    f"{' and '.join(reasons)}: the export is not covered by a valid licence."
                ),
                evidence=(r.declaration_no, r.licence_no),
                details={
                    "licence_no": r.licence_no,
                    "status": r.status,
                    "date": r.date.isoformat(),
                    "valid_from": r.valid_from.isoformat(),
                    "valid_to": r.valid_to.isoformat(),
                },
                party=r.exporter,
                material=r.material,
                stake_g=r.net_g,
                value_usd=r.value_usd,
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("customs", "commerce"),
    settling=Settling.FEED,
    title=Text(
        "the licence is revoked or refused, or the declaration date is outside its validity",
        "许可证已被撤销或拒绝，或报关日期不在有效期内",
    ),
    check=Text(
        "Confirm the licence status and dates with MOFCOM; hold the consignment if it has not left.",
        "向商务部核实许可证状态和有效期；货物尚未出境的予以扣留。",
    ),
)
