"""Page 3, the trace of a lot: its genealogy as a graph from the mines to the exports, with quantities and
grades, drawn from the same trace the API gives (`chain/trace.py`) and withheld where the API withholds it
(`api/chain.py`: lots and steps outside the reader's view keep their place and lose their details)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from oretrail.access.caller import Caller
from oretrail.access.scope import events_visible, lots_visible, unconstrained
from oretrail.api.chain import _among, _lots_and_events, _redact
from oretrail.api.deps import reader
from oretrail.chain.trace import NOT_CREATED
from oretrail.i18n.message import Message
from oretrail.storage.schema import event_lots, events, lots
from oretrail.web import figures
from oretrail.web.errors import BadInput, NotFound, out_of_sight
from oretrail.web.forms import permitted
from oretrail.web.paging import Paging, paginate
from oretrail.web.render import Words, language, page
from oretrail.web.session import PATH, page_caller

router = APIRouter(prefix=PATH, include_in_schema=False)
TOO_LARGE = Message(
    "web.refused.trace_too_large",
    "the trace of {lot} holds more lots than a page can draw; trace one of its inputs or outputs instead",
)

LOT_COLUMNS = {"made": lots.c.created_at, "lot": lots.c.lot_id, "material": lots.c.material, "mass": lots.c.mass_g}
# The lots list pages through the first LOTS_LISTED visible lots in the chosen order and says when there are
# more. An exact count would decide visibility for every lot in the country on every view (0.2 s at scale 10,
# growing with the ledger); "more than 1,000" is as true, an officer does not page through forty pages to
# find a lot, and any lot beyond is traced by its identifier. Newest first, the index ix_lots_made lets the
# page and the count stop after the visible lots they need.
LOTS_LISTED = 1000


def visible_trace(conn: Connection, who: Caller, lot: str, backward: bool) -> dict[str, Any]:
    """The API's trace of `lot` as the reader may see it (api/chain.py `trace_lot`, without HTTP)."""
    from oretrail.chain.trace import trace

    wide = unconstrained(who, "read", "lot")
    if not wide and conn.execute(select(lots.c.lot_id).where(lots.c.lot_id == lot, lots_visible(who))).first() is None:
        raise out_of_sight(who, "read", "lot", lot)
    try:
        node = trace(conn, lot, backward=backward)
    except ValueError:
        raise BadInput(TOO_LARGE(lot=lot)) from None
    if node.origin == "unknown" and not node.via and not node.exports:
        raise NotFound(NOT_CREATED(lot=lot))
    out = node.as_dict()
    if not (wide and unconstrained(who, "read", "event")):
        lot_ids: set[str] = set()
        event_ids: set[str] = set()
        _lots_and_events(out, lot_ids, event_ids)
        _redact(
            out,
            _among(conn, lots.c.lot_id, lot_ids, lots_visible(who)),
            _among(conn, events.c.event_id, event_ids, events_visible(who)),
        )
    return out


def _inputs(conn: Connection, tree: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Grams of each input lot each step consumed, for the width of the graph's links."""
    event_ids: set[str] = set()
    _lots_and_events(tree, set(), event_ids)
    wanted = sorted(e for e in event_ids if e)
    seqs: list[int] = []
    for i in range(0, len(wanted), 400):
        seqs += conn.execute(select(events.c.seq).where(events.c.event_id.in_(wanted[i : i + 400]))).scalars()
    out: dict[tuple[str, str], int] = {}
    for i in range(0, len(seqs), 400):
        q = select(event_lots.c.event_id, event_lots.c.lot_id, event_lots.c.grams).where(
            event_lots.c.seq.in_(seqs[i : i + 400]), event_lots.c.role == "input"
        )
        out.update(((e, lot), int(g)) for e, lot, g in conn.execute(q))
    return out


def graph(tree: dict[str, Any], backward: bool, consumed: dict[tuple[str, str], int], t: Words, lang: str
          ) -> dict[str, Any] | None:  # fmt: skip
    """The genealogy as a Sankey figure: lots (and exports) as nodes, material flowing downstream."""
    from oretrail.i18n.words import quantity

    nodes: dict[str, str] = {}
    links: list[tuple[str, str, float]] = []

    def name(node: dict[str, Any]) -> str:
        if node.get("withheld"):
            return t("web.trace.withheld_lot")
        grade = f" · {node['grade']:.1%}" if node.get("grade") is not None else ""
        kg = f" · {quantity((node.get('kg') or 0) * 1000, lang)}" if node.get("kg") is not None else ""
        return f"{node.get('material') or '?'}{grade}{kg} · {node['lot'].rsplit(':', 1)[-1]}"

    def walk(node: dict[str, Any]) -> None:
        nodes.setdefault(node["lot"], name(node))
        if node.get("repeated"):
            return
        for step in node.get("via", ()):
            for child in step["lots"]:
                nodes.setdefault(child["lot"], name(child))
                if backward:  # child is an input of node
                    grams = consumed.get((step["event"] or "", child["lot"]))
                    value = (grams / 1000) if grams else (child.get("kg") or 1.0)
                    links.append((child["lot"], node["lot"], value))
                else:  # child is an output of node
                    grams = consumed.get((step["event"] or "", node["lot"]))
                    value = (grams / 1000) if grams else (child.get("kg") or 1.0)
                    links.append((node["lot"], child["lot"], value))
                walk(child)
        for i, export in enumerate(node.get("exports", ())):
            key = f"export:{export.get('declaration_no') or i}:{node['lot']}"
            label = t("web.trace.export_node", declaration=export.get("declaration_no") or "—")
            nodes.setdefault(key, label)
            links.append((node["lot"], key, float(export.get("kg") or 0)))

    walk(tree)
    if not links:
        return None  # a lot with nothing before (or after) it: the tree says so, a graph of one node cannot
    order = {k: i for i, k in enumerate(nodes)}
    return figures.sankey(
        list(nodes), [(order[s], order[d], v) for s, d, v in links], lambda k: nodes[k], t("web.unit.kg")
    )


def lot_list(conn: Connection, who: Caller, params: dict[str, str], cap: int = LOTS_LISTED
             ) -> tuple[list[Any], Paging]:  # fmt: skip
    """The page of the lots the reader may trace that the URL asks for, among the first `cap`."""
    q = select(lots.c.lot_id, lots.c.material, lots.c.grade, lots.c.mass_g, lots.c.created_stage,
               lots.c.created_at).where(lots_visible(who))  # fmt: skip
    return paginate(conn, q, params, LOT_COLUMNS, ("made", "desc"), tiebreak=lots.c.lot_id, cap=cap)


@router.get("/trace")
def trace_page(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
    lot: str = "",
    direction: str = "backward",
) -> Response:
    permitted(request, who, "read", "lot", lot)
    backward = direction != "forward"
    lang = language(request)
    if not lot:
        rows, paging = lot_list(conn, who, dict(request.query_params))
        return page(request, who, "trace.html", title="web.nav.trace", active="trace", tree=None, lots=rows,
                    paging=paging, lot="", backward=backward)  # fmt: skip
    tree = visible_trace(conn, who, lot.strip(), backward)
    fig = graph(tree, backward, _inputs(conn, tree), Words(lang), lang)
    return page(request, who, "trace.html", title="web.nav.trace", active="trace", tree=tree, trace_figure=fig,
                lot=lot.strip(), backward=backward)  # fmt: skip
