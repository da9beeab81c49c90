"""Page 5, licences: how much of each licence the declarations citing it have drawn, and the licences near
expiry or exhaustion, among those the reader may see (`licences_visible`: an enterprise sees its own only)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Float, and_, cast, func, select

from oretrail.access.caller import Caller
from oretrail.access.scope import licences_visible
from oretrail.api.deps import reader
from oretrail.clock import utcnow
from oretrail.storage.schema import declarations, enterprises, licences
from oretrail.web.forms import permitted
from oretrail.web.paging import paginate
from oretrail.web.render import page
from oretrail.web.session import PATH, page_caller

router = APIRouter(prefix=PATH, include_in_schema=False)

NEAR_EXPIRY_DAYS = 30  # a licence that ends within a month needs a decision on its renewal now
NEAR_EXHAUSTION = 0.9  # nine tenths drawn: the exporter will soon need a new licence or stop shipping
VIEWS = ("all", "near_expiry", "near_exhaustion", "overdrawn", "expired")


def drawn_subquery() -> Any:
    return (
        select(
            declarations.c.licence_no.label("licence_no"),
            func.sum(declarations.c.net_g).label("drawn_g"),
            func.count().label("uses"),
        )
        .where(declarations.c.licence_no.is_not(None))
        .group_by(declarations.c.licence_no)
        .subquery()
    )


def licence_query(who: Caller, *, view: str = "all", as_of: date, status: str = "", exporter: str = "") -> Any:
    used = drawn_subquery()
    drawn = func.coalesce(used.c.drawn_g, 0)
    share = cast(drawn, Float) / func.nullif(licences.c.quantity_g, 0)
    q = (
        select(
            licences,
            enterprises.c.name.label("exporter_name"),
            drawn.label("drawn_g"),
            func.coalesce(used.c.uses, 0).label("uses"),
            share.label("share"),
        )
        .outerjoin(used, used.c.licence_no == licences.c.licence_no)
        .outerjoin(enterprises, enterprises.c.party_id == licences.c.exporter)
        .where(licences_visible(who))
    )
    live = and_(licences.c.status == "approved", licences.c.valid_to >= as_of)
    if view == "near_expiry":
        q = q.where(live, licences.c.valid_to <= as_of + timedelta(days=NEAR_EXPIRY_DAYS))
    elif view == "near_exhaustion":
        q = q.where(live, share >= NEAR_EXHAUSTION)
    elif view == "overdrawn":
        q = q.where(drawn > licences.c.quantity_g)
    elif view == "expired":
        q = q.where(licences.c.valid_to < as_of)
    if status:
        q = q.where(licences.c.status == status)
    if exporter:
        q = q.where(licences.c.exporter == exporter)
    return q, {
        "licence": licences.c.licence_no,
        "exporter": enterprises.c.name,
        "material": licences.c.material,
        "destination": licences.c.destination,
        "quantity": licences.c.quantity_g,
        "drawn": drawn,
        "share": share,
        "valid_to": licences.c.valid_to,
        "status": licences.c.status,
    }


def _day(text: str | None) -> date:
    try:
        return date.fromisoformat(text) if text else utcnow().date()
    except ValueError:
        return utcnow().date()


@router.get("/licences")
def licence_list(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "licence", request.url.query)
    params = dict(request.query_params)
    view = params.get("view", "all") if params.get("view") in VIEWS else "all"
    as_of = _day(params.get("as_of"))
    q, columns = licence_query(who, view=view, as_of=as_of, status=params.get("status", ""))
    rows, paging = paginate(conn, q, params, columns, ("valid_to", "asc"), tiebreak=licences.c.licence_no)
    counts = {
        v: int(conn.execute(select(func.count()).select_from(licence_query(who, view=v, as_of=as_of)[0].subquery()))
               .scalar_one())
        for v in ("near_expiry", "near_exhaustion", "overdrawn")
    }  # fmt: skip
    return page(request, who, "licences.html", title="web.nav.licences", active="licences", rows=rows, paging=paging,
                view=view, views=VIEWS, as_of=as_of, counts=counts, near_days=NEAR_EXPIRY_DAYS,
                near_share=NEAR_EXHAUSTION)  # fmt: skip
