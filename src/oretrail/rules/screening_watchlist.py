"""screening.watchlist: a consignee or end user on a licence, or a consignee on a declaration, matches an
entity of the stored watch list (fuzzy and transliteration-aware: `oretrail.screening`).

Licences are screened at intake, before the goods move; declarations because the consignee at the border is
not always the one licensed. One finding per document and listed entity: the finding key is the entity id
and never the list version, so a new version of the list re-raises nothing that was already found, and
only a hit that is new (a new entity, a new alias) becomes an alert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import select

from oretrail.i18n.message import Message, Said
from oretrail.rules.base import Context, Finding, material_for_hs
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import COUNTERPARTY
from oretrail.screening.matcher import Hit
from oretrail.screening.store import current_version, watchlist_index
from oretrail.storage.schema import declarations as d
from oretrail.storage.schema import licences as lic

RULE = "screening.watchlist"
SAID = Message(
    RULE,
    "{what} names as {roles:terms} {name:q}, which matches the watch-listed {schema:term} {caption:q} ({entity}) "
    "under its name {matched:q}, score {score:.2f} (threshold {threshold:.2f}).",
)
LICENCE_WORDS = Message(
    f"{RULE}.licence", "Licence {licence} ({status:term}, {grams:kg} of {material} to {destination:country})"
)
DECLARATION_WORDS = Message(
    f"{RULE}.declaration",
    "Export declaration {declaration} of {date:date} ({grams:kg} under HS {hs} to {destination:country})",
)
SCOPE_KIND = COUNTERPARTY


@dataclass(frozen=True)
class _Document:
    kind: str  # licence | declaration
    number: str
    names: dict[str, str]  # role (consignee, end user) → name as written
    exporter: str
    destination: str
    material: str | None
    stake_g: int
    value_usd: float | None
    controlled: bool
    what: Said  # the document in a few words, for the message


def _documents(ctx: Context) -> Iterator[tuple[dict[str, str], Callable[[], _Document]]]:
    """Each document's names to screen (role → name as written), and how to describe it. A document is described
    only when one of its names matches: describing all of them (the catalogue's reading of each HS code, the
    words of each) was nine tenths of the rule's time, for the few hundred documents that are ever named."""
    for r in ctx.conn.execute(
        select(
            lic.c.licence_no, lic.c.exporter, lic.c.material, lic.c.quantity_g, lic.c.destination,
            lic.c.consignee, lic.c.end_user, lic.c.status,
        ).where(ctx.within(SCOPE_KIND, lic.c.licence_no))
    ):  # fmt: skip
        yield {"consignee": r.consignee, "end user": r.end_user or ""}, partial(_licence, ctx, r)
    for r in ctx.conn.execute(
        select(
            d.c.declaration_no, d.c.date, d.c.exporter, d.c.hs_code, d.c.net_g, d.c.value_usd, d.c.destination,
            d.c.consignee,
        ).where(ctx.within(SCOPE_KIND, d.c.declaration_no))
    ):  # fmt: skip
        yield {"consignee": r.consignee}, partial(_declaration, ctx, r)


def _licence(ctx: Context, r: Any) -> _Document:
    return _Document(
        "licence", r.licence_no, {"consignee": r.consignee, "end user": r.end_user or ""}, r.exporter,
        r.destination, r.material, r.quantity_g, None, ctx.is_controlled_material(r.material),
        LICENCE_WORDS(licence=r.licence_no, status=r.status, grams=r.quantity_g, material=r.material,
                destination=r.destination),
    )  # fmt: skip


def _declaration(ctx: Context, r: Any) -> _Document:
    return _Document(
        "declaration", r.declaration_no, {"consignee": r.consignee}, r.exporter, r.destination,
        material_for_hs(ctx.catalogue, r.hs_code), r.net_g, r.value_usd,
        ctx.catalogue.is_controlled_hs(r.hs_code),
        DECLARATION_WORDS(declaration=r.declaration_no, date=r.date.isoformat(), grams=r.net_g, hs=r.hs_code,
                    destination=r.destination),
    )  # fmt: skip


def find(ctx: Context) -> list[Finding]:
    index = watchlist_index(ctx.conn, ctx.config.screening_threshold)
    if index is None:
        return []
    version = current_version(ctx.conn)
    screened: dict[str, list[Hit]] = {}

    def screen(name: str) -> list[Hit]:
        if name not in screened:
            screened[name] = index.screen(name) if name.strip() else []
        return screened[name]

    threshold = ctx.config.screening_threshold
    return [
        f
        for names, describe in _documents(ctx)
        if any(screen(name) for name in names.values())
        for f in _findings(describe(), screen, version or "", threshold)
    ]


def _findings(doc: _Document, screen: Callable[[str], list[Hit]], version: str, threshold: float) -> list[Finding]:
    best: dict[str, tuple[Hit, list[str]]] = {}  # entity id → best hit, roles whose name matched it
    for role, name in doc.names.items():
        for hit in screen(name):
            held = best.get(hit.entity_id)
            roles = (held[1] if held else []) + [role]
            best[hit.entity_id] = (hit if held is None or hit.score > held[0].score else held[0], roles)
    out = []
    for entity_id, (hit, roles) in sorted(best.items()):
        details: dict[str, Any] = {
            "score": hit.score,
            "threshold": threshold,
            "query_name": hit.query,
            "roles": roles,
            "matched_name": hit.matched_name,
            "entity_id": entity_id,
            "entity_caption": hit.caption,
            "entity_schema": hit.schema,
            "list_version": version,
            "destination": doc.destination,
        }
        out.append(
            Finding(
                rule=RULE,
                subject_kind=doc.kind,
                subject_id=doc.number,
                key=entity_id,
                message=SAID(
                    what=doc.what,
                    roles=roles,
                    name=hit.query,
                    schema=hit.schema.lower(),
                    caption=hit.caption,
                    entity=entity_id,
                    matched=hit.matched_name,
                    score=hit.score,
                    threshold=threshold,
                ),
                evidence=(
                    doc.number,
                    entity_id,
                    f"watch-list name: {hit.matched_name}",
                    f"{' and '.join(roles)} name: {hit.query}",
                    f"score: {hit.score:.4f}",
                ),
                details=details,
                party=doc.exporter,
                material=doc.material,
                stake_g=doc.stake_g,
                value_usd=doc.value_usd,
                controlled=doc.controlled,
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("central", "commerce"),
    settling=Settling.IMMEDIATE,
    title="a consignee or end user matches a watch-list entity",
    check=(
        "Compare the counterparty's full name, address and registration with the listed entity; if it is the "
        "same, suspend the licence or hold the consignment and refer to the coordination office."
    ),
    thresholds=("screening.threshold",),
    rejudged_by=("watchlist",),
)
