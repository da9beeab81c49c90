"""Page 1, the overview: flows by stage as a Sankey diagram, what the mines of each province put out,
exports by destination, alerts by rule and province over time. A provincial officer's is their province's."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from oretrail.access.caller import Caller
from oretrail.api.auth import note
from oretrail.api.deps import reader
from oretrail.i18n.words import country, province, stage
from oretrail.rules.runner import rule_of
from oretrail.web import figures, flows
from oretrail.web.render import Words, language, may, page
from oretrail.web.session import PATH, page_caller

router = APIRouter(prefix=PATH, include_in_schema=False)


def _sankey(links: list[flows.Link], lang: str, unit: str) -> dict[str, Any]:
    nodes: list[str] = []
    for link in links:
        for n in (link.source, link.target):
            if n not in nodes:
                nodes.append(n)
    order = {n: i for i, n in enumerate(nodes)}
    values = [(order[k.source], order[k.target], k.grams / 1000) for k in links]
    return figures.sankey(nodes, values, lambda n: stage(n, lang), unit)


@router.get("/")
def overview(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    audit = note(request)
    audit.action, audit.kind, audit.object = "read", "overview", ""
    lang = language(request)
    t = Words(lang)

    def title(rule: str) -> str:
        declared = rule_of(rule)
        return declared.said("title", lang) if declared is not None else rule

    unit = t("web.unit.kg")
    ctx: dict[str, Any] = {"sections": []}
    if may(who, "read", "event"):
        links, ctx["as_of"] = flows.kept(conn, "links", who, lambda c: flows.stage_links(c, who))
        ctx["links"] = links
        ctx["sankey"] = _sankey(links, lang, unit) if links else None
    if may(who, "read", "lot"):
        mined, _ = flows.kept(conn, "mined", who, lambda c: flows.mined(c, who))
        provinces = sorted({p for p, _, _ in mined})
        materials = sorted({m for _, m, _ in mined})
        cells = {(p, m): g for p, m, g in mined}
        ctx["mined"] = mined
        ctx["mined_figure"] = (
            figures.bars(
                [province(p, lang) for p in provinces],
                [(m, [cells.get((p, m), 0) / 1000 for p in provinces]) for m in materials],
                x_title=t("web.overview.province"),
                y_title=t("web.overview.mined_kg"),
            )
            if mined
            else None
        )
    if may(who, "read", "declaration"):
        dest = flows.exports_by_destination(conn, who)
        top = dest[:15]
        ctx["exports"] = dest
        ctx["exports_figure"] = (
            figures.bars(
                [country(d, lang) for d, _, _ in top],
                [(t("web.overview.exported_kg"), [g / 1000 for _, g, _ in top])],
                x_title=t("web.overview.destination"),
                y_title=t("web.overview.exported_kg"),
                horizontal=True,
                height=max(260, 28 * len(top) + 80),
            )
            if top
            else None
        )
    if may(who, "read", "alert"):
        rows = flows.alerts_over_time(conn, who)
        periods, per_rule = flows.by_period(rows)
        ctx["alert_total"] = sum(r[3] for r in rows)
        ctx["alerts_figure"] = (
            figures.bars(
                periods,
                [(title(rule), [counts.get(p, 0) for p in periods]) for rule, counts in per_rule.items()],
                x_title=t("web.overview.raised"),
                y_title=t("web.overview.alerts"),
            )
            if rows
            else None
        )
        ctx["alert_provinces"], ctx["alert_table"] = flows.rule_by_province(rows)
        ctx["rule_titles"] = {rule: title(rule) for rule, _ in ctx["alert_table"]}
    ctx["head"] = flows.head(conn)
    scope = who.province or ("CN" if who.role != "enterprise" else None)
    return page(request, who, "overview.html", title="web.nav.overview", active="overview", scope=scope, **ctx)
