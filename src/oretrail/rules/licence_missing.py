"""licence.missing: a declaration of a licence-controlled HS code cites no licence, or one not on record.

Export of a listed item without a licence is the core offence of the Export Control Law (art. 34); the
declaration is the subject because that is the act customs can stop at the border.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, or_, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding, material_for_hs
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import DECLARATION as DECLARATION_KIND
from oretrail.rules.statements import once
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences

RULE = "licence.missing"
SAID = Message(
    RULE,
    "Export declaration {declaration} of {date:date} declares {grams:kg} under HS {hs}, a licence-controlled code, "
    "but {cited}.",
)
UNKNOWN = Message(f"{RULE}.unknown", "cites licence {licence}, which is not on record at the Ministry of Commerce")
NONE = Message(f"{RULE}.none", "cites no export licence")
SCOPE_KIND = DECLARATION_KIND  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    known = exists().where(licences.c.licence_no == d.c.licence_no)
    return select(
        d.c.declaration_no, d.c.date, d.c.exporter, d.c.hs_code, d.c.net_g, d.c.value_usd, d.c.licence_no
    ).where(
        d.c.hs_code.in_(ctx.controlled_hs),
        or_(d.c.licence_no.is_(None), d.c.licence_no == "", ~known),
        ctx.within(SCOPE_KIND, d.c.declaration_no),
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        cited = UNKNOWN(licence=r.licence_no) if r.licence_no else NONE()
        out.append(
            Finding(
                rule=RULE,
                subject_kind="declaration",
                subject_id=r.declaration_no,
                message=SAID(
                    declaration=r.declaration_no, date=r.date.isoformat(), grams=r.net_g, hs=r.hs_code, cited=cited
                ),
                evidence=tuple(x for x in (r.declaration_no, r.licence_no) if x),
                details={
                    "hs_code": r.hs_code,
                    "net_g": r.net_g,
                    "value_usd": r.value_usd,
                    "licence_no": r.licence_no,
                    "exporter": r.exporter,
                },
                party=r.exporter,
                material=material_for_hs(ctx.catalogue, r.hs_code),
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
    title="a declaration of a licence-controlled HS code cites no licence, or one that does not exist",
    check=(
        "Hold the consignment; ask the exporter for the licence; confirm with MOFCOM that none was issued "
        "under another number."
    ),
)
