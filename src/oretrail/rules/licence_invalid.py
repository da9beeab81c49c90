"""licence.invalid: a declaration cites a licence that is revoked or refused, or is dated outside its validity.

Validity is judged on the declaration date, the day the export was declared: that is the act the licence must
cover. Both ends of the validity period are inclusive, as licences are issued "valid from ... to ...".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import DECLARATION as DECLARATION_KIND
from oretrail.rules.statements import once
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "licence.invalid"
SAID = Message(
    RULE,
    "Export declaration {declaration} ({grams:kg}) cites licence {licence}, but {reasons:and}: the export is not "
    "covered by a valid licence.",
)
STATUS = Message(f"{RULE}.status", "the licence is {status:term}")
OUTSIDE = Message(
    f"{RULE}.outside", "the declaration date {date:date} is outside its validity {start:date} to {end:date}"
)
SCOPE_KIND = DECLARATION_KIND  # the scope-table kind its subjects are filtered by


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
            reasons.append(STATUS(status=r.status))
        if r.date < r.valid_from or r.date > r.valid_to:
            reasons.append(OUTSIDE(date=r.date.isoformat(), start=r.valid_from.isoformat(), end=r.valid_to.isoformat()))
        out.append(
            Finding(
                rule=RULE,
                subject_kind="declaration",
                subject_id=r.declaration_no,
                message=SAID(declaration=r.declaration_no, grams=r.net_g, licence=r.licence_no, reasons=reasons),
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
    title="the licence is revoked or refused, or the declaration date is outside its validity",
    check="Confirm the licence status and dates with MOFCOM; hold the consignment if it has not left.",
)
