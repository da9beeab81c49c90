"""licence.rerouted: after MOFCOM refused a licence for an end user, a later licence or declaration for the
same end user (matched like the watch list) names another destination, for goods of the same HS heading.

A refused buyer that still gets the goods through a third country is the transshipment the refusal was
meant to stop (Export Control Law: the licensing decision covers the end user, not only the route). A
finer signal of the transshipment family (docs/mirror.md); the pure matching is
`oretrail.mirror.transshipment.rerouted`.
"""

from __future__ import annotations

from sqlalchemy import func, select

from oretrail.i18n.message import Message
from oretrail.mirror.gap import Declaration
from oretrail.mirror.transshipment import Licence, rerouted
from oretrail.rules.base import Context, Finding, material_for_hs
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import COUNTERPARTY
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "licence.rerouted"
SAID = Message(
    RULE,
    "{what} sends goods to {name:q} in {destination:country}. Licence {refused} for {refused_end_user:q} in "
    "{refused_destination:country} (HS {hs}, from {start:date}) was refused; the names match with score "
    "{score:.2f}: the refused end user may be getting the goods through a third country.",
)
LICENCE_WORDS = Message(f"{RULE}.licence", "Licence {licence} ({grams:kg} of {material}, valid from {start:date})")
DECLARATION_WORDS = Message(
    f"{RULE}.declaration", "Export declaration {declaration} of {date:date} ({grams:kg} under HS {hs})"
)
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
            what = LICENCE_WORDS(licence=row.licence_no, grams=row.quantity_g, material=row.material,
                           start=row.valid_from.isoformat())  # fmt: skip
            material, stake_g, value, exporter = row.material, row.quantity_g, None, row.exporter
        else:
            dec = by_declaration[hit.subject_id]
            what = DECLARATION_WORDS(declaration=dec.declaration_no, date=dec.date.isoformat(), grams=dec.net_g,
                               hs=dec.hs_code)  # fmt: skip
            material, stake_g = material_for_hs(ctx.catalogue, dec.hs_code), dec.net_g
            value, exporter = dec.value_usd, dec.exporter
        out.append(
            Finding(
                rule=RULE,
                subject_kind=hit.subject_kind,
                subject_id=hit.subject_id,
                key=hit.refused_licence,
                message=SAID(
                    what=what,
                    name=hit.name,
                    destination=hit.destination,
                    refused=before.licence_no,
                    refused_end_user=hit.refused_end_user,
                    refused_destination=hit.refused_destination,
                    hs=before.hs_code,
                    start=before.valid_from.isoformat(),
                    score=hit.score,
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
    title="after a licence was refused, a later licence or declaration for the same end user names another destination",
    check=(
        "Compare the new end user with the refused one (address, registration, owners); ask the exporter for "
        "the end-user certificate; hold the licence or consignment until cleared."
    ),
    thresholds=("screening.threshold",),
    rejudged_by=("watchlist",),
)
