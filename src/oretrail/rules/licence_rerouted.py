"""licence.rerouted: after MOFCOM refused a licence for an end user, a later licence or declaration for the
same end user (matched like the watch list) names another destination, for goods of the same HS heading.

A refused buyer that still gets the goods through a third country is the transshipment the refusal was
meant to stop (Export Control Law: the licensing decision covers the end user, not only the route). A
finer signal of the transshipment family (docs/mirror.md); the pure matching is
`oretrail.mirror.transshipment.rerouted`.
"""

from __future__ import annotations

from sqlalchemy import func, select

from oretrail.mirror.gap import Declaration
from oretrail.mirror.transshipment import Licence, rerouted
from oretrail.rules.base import Context, Finding, kg, material_for_hs
from oretrail.rules.rule import Rule, Settling, Text
from oretrail.rules.scope import COUNTERPARTY
from oretrail.rules.trade_flows import country
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "licence.rerouted"
SCOPE_KIND = COUNTERPARTY


def find(ctx: Context) -> list[Finding]:
    columns = (
        lic.c.licence_no, lic.c.status, lic.c.end_user, lic.c.consignee, lic.c.destination, lic.c.hs_code,
        lic.c.valid_from, lic.c.exporter, lic.c.material, lic.c.quantity_g,
    )  # fmt: skip
    refused = ctx.conn.execute(select(*columns).where(lic.c.status == "refused")).all()
    if not refused:
        return []
    headings = sorted({r.hs_code[:4] for r in refused})
    later = ctx.conn.execute(
        select(*columns).where(
            lic.c.status != "refused",
            func.substr(lic.c.hs_code, 1, 4).in_(headings),
            ctx.within(SCOPE_KIND, lic.c.licence_no),
        )
    ).all()
    declared = ctx.conn.execute(
        select(
            d.c.declaration_no, d.c.date, d.c.destination, d.c.hs_code, d.c.net_g, d.c.value_usd, d.c.consignee,
            d.c.exporter,
        ).where(func.substr(d.c.hs_code, 1, 4).in_(headings), ctx.within(SCOPE_KIND, d.c.declaration_no))
    ).all()  # fmt: skip
    licences = [
        Licence(r.licence_no, r.status, r.end_user or "", r.consignee, r.destination, r.hs_code, r.valid_from)
        for r in (*refused, *later)
    ]
    decls = [
        Declaration(r.declaration_no, r.date, r.destination, r.hs_code, r.net_g / 1000, r.value_usd, r.consignee)
        for r in declared
    ]
    by_licence = {r.licence_no: r for r in (*refused, *later)}
    by_declaration = {r.declaration_no: r for r in declared}
    out = []
    for hit in rerouted(licences, decls, threshold=ctx.config.screening_threshold):
        before = by_licence[hit.refused_licence]
        if hit.subject_kind == "licence":
            row = by_licence[hit.subject_id]
            what = f"Licence {row.licence_no} ({kg(row.quantity_g)} of {row.material}, valid from {row.valid_from})"
            material, stake_g, value, exporter = row.material, row.quantity_g, None, row.exporter
        else:
            dec = by_declaration[hit.subject_id]
            what = f"Export declaration {dec.declaration_no} of {dec.date} ({kg(dec.net_g)} under HS {dec.hs_code})"
            material, stake_g = material_for_hs(ctx.catalogue, dec.hs_code), dec.net_g
            value, exporter = dec.value_usd, dec.exporter
        out.append(
            Finding(
                rule=RULE,
                subject_kind=hit.subject_kind,
                subject_id=hit.subject_id,
                key=hit.refused_licence,
                message=(
                    f"{what} sends goods to {hit.name!r} in {country(hit.destination)}. Licence "
                    f"{before.licence_no} for {hit.refused_end_user!r} in {country(hit.refused_destination)} "
                    f"(HS {before.hs_code}, from {before.valid_from}) was refused; the names match with score "
                    f"{hit.score:.2f}: the refused end user may be getting the goods through a third country."
                ),
                evidence=(hit.subject_id, before.licence_no),
                details={
                    "refused_licence": before.licence_no,
                    "refused_end_user": hit.refused_end_user,
                    "refused_destination": hit.refused_destination,
                    "refused_hs_code": before.hs_code,
                    "name": hit.name,
                    "destination": hit.destination,
                    "score": hit.score,
                    "threshold": ctx.config.screening_threshold,
                },
                party=exporter,
                material=material,
                stake_g=stake_g,
                value_usd=value,
                controlled=ctx.is_controlled_material(material),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("commerce", "customs", "central"),
    settling=Settling.FEED,
    title=Text(
        "after a licence was refused, a later licence or declaration for the same end user names another destination",
        "许可申请被拒后，同一最终用户的后续许可证或报关单改报其他目的国",
    ),
    check=Text(
        "Compare the new end user with the refused one (address, registration, owners); ask the exporter for "
        "the end-user certificate; hold the licence or consignment until cleared.",
        "比对新旧最终用户（地址、注册信息、股东）；要求出口商提供最终用户证明；核清前暂扣许可证或货物。",
    ),
    thresholds=("screening.threshold",),
    rejudged_by=("watchlist",),
)
