"""licence.mismatch: a declaration differs from the licence it cites.

A licence authorises one exporter to send one item to one consignee in one country (and, when it says so,
through one port). Goods declared under it that differ in any of these are not covered by it, whatever the
quantity. Consignee names are compared after folding case, punctuation and legal forms (`names.fold_name`),
since those differ between clerks without changing who the consignee is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import DECLARATION as DECLARATION_KIND
from oretrail.rules.statements import once
from oretrail.screening.names import fold_name
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "licence.mismatch"
SAID = Message(
    RULE,
    "Export declaration {declaration} ({grams:kg}) cites licence {licence} but does not match it: {differences:semi}. "
    "The goods are not covered by that licence.",
)
DIFFERS = Message(f"{RULE}.differs", "{field:term} declared {declared:q}, licensed {licensed:q}")
SCOPE_KIND = DECLARATION_KIND  # the scope-table kind its subjects are filtered by


@once
def _statement(ctx: Context) -> Select[Any]:
    return (
        select(
            d.c.declaration_no,
            d.c.exporter,
            d.c.hs_code,
            d.c.destination,
            d.c.consignee,
            d.c.port,
            d.c.net_g,
            d.c.value_usd,
            lic.c.licence_no,
            lic.c.exporter.label("l_exporter"),
            lic.c.material.label("l_material"),
            lic.c.hs_code.label("l_hs_code"),
            lic.c.destination.label("l_destination"),
            lic.c.consignee.label("l_consignee"),
            lic.c.port.label("l_port"),
        )
        .join(lic, lic.c.licence_no == d.c.licence_no)
        .where(ctx.within(SCOPE_KIND, d.c.declaration_no))
    )


def find(ctx: Context) -> list[Finding]:
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        diffs: dict[str, dict[str, str | None]] = {}
        if r.exporter != r.l_exporter:
            diffs["exporter"] = {"declared": r.exporter, "licensed": r.l_exporter}
        if r.hs_code != r.l_hs_code:
            diffs["hs_code"] = {"declared": r.hs_code, "licensed": r.l_hs_code}
        declared_codes = {id(m) for m in ctx.catalogue.by_hs(r.hs_code)}
        licensed = ctx.catalogue.materials.get(r.l_material)
        if licensed is not None and declared_codes and id(licensed) not in declared_codes:
            diffs["material"] = {"declared": f"HS {r.hs_code}", "licensed": r.l_material}
        if r.destination != r.l_destination:
            diffs["destination"] = {"declared": r.destination, "licensed": r.l_destination}
        if fold_name(r.consignee) != fold_name(r.l_consignee):
            diffs["consignee"] = {"declared": r.consignee, "licensed": r.l_consignee}
        if r.l_port and r.port != r.l_port:
            diffs["port"] = {"declared": r.port, "licensed": r.l_port}
        if not diffs:
            continue
        said = [DIFFERS(field=k, declared=v["declared"], licensed=v["licensed"]) for k, v in diffs.items()]
        out.append(
            Finding(
                rule=RULE,
                subject_kind="declaration",
                subject_id=r.declaration_no,
                message=SAID(declaration=r.declaration_no, grams=r.net_g, licence=r.licence_no, differences=said),
                evidence=(r.declaration_no, r.licence_no),
                details={"licence_no": r.licence_no, "differences": diffs, "net_g": r.net_g},
                party=r.exporter,
                material=r.l_material,
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
    title="a declaration differs from its licence in exporter, material/HS code, destination or consignee",
    check=(
        "Compare the licence and the declaration side by side; ask whether an amended licence exists; check "
        "the consignee's identity and address."
    ),
)
