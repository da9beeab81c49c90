"""Page 7, warnings: issue a bulletin, see who has acknowledged it, acknowledge one for one's own unit.

The same store and the same rules as `POST /bulletins` and its acknowledgements (api/bulletins.py): the
issuer writes for their own unit, a reader sees what `bulletins_visible` gives them, a recipient acknowledges
for their own unit only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine, select

from oretrail.access.caller import Caller
from oretrail.access.scope import bulletins_visible
from oretrail.alerts.routing import DEPARTMENTS_ALL
from oretrail.alerts.severity import LEVELS
from oretrail.api.bulletins import unit_of
from oretrail.api.deps import engine, reader
from oretrail.i18n.message import Message, Said
from oretrail.storage.schema import bulletins
from oretrail.web.alerts import provinces
from oretrail.web.errors import NotFound, out_of_sight
from oretrail.web.forms import permitted, posted
from oretrail.web.render import language, may, page, redirect
from oretrail.web.session import PATH, page_caller, same_site

router = APIRouter(prefix=PATH, include_in_schema=False)
NOT_RECIPIENT = Message(
    "web.refused.not_recipient", "bulletin {bulletin} was not sent to {department:term} in {province:province}"
)


def _visible(conn: Connection, who: Caller, bulletin_id: str, action: str = "read") -> None:
    q = select(bulletins.c.id).where(bulletins.c.id == bulletin_id, bulletins_visible(who, action))
    if conn.execute(q).first() is None:
        raise out_of_sight(who, action, "bulletin", bulletin_id)


def _list(request: Request, who: Caller, conn: Connection, *, status: int = 200, error: Said | None = None,
          form: dict[str, Any] | None = None) -> Response:  # fmt: skip
    from oretrail.bulletins.store import listing

    unacknowledged = request.query_params.get("unacknowledged") == "1"
    found = listing(conn, unacknowledged=unacknowledged, lang=language(request), visible=bulletins_visible(who))
    department, province = unit_of(who)
    return page(
        request, who, "bulletins.html", status=status, title="web.nav.bulletins", active="bulletins",
        bulletins=found[:100], total=len(found), unacknowledged=unacknowledged, may_issue=may(who, "issue", "bulletin"),
        levels=LEVELS, departments=DEPARTMENTS_ALL, provinces=["CN", *provinces()], unit=(department, province),
        error=error, form=form or {}, issued=request.query_params.get("issued"),
    )  # fmt: skip


@router.get("/bulletins")
def bulletin_list(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "bulletin")
    return _list(request, who, conn)


@router.post("/bulletins", dependencies=[Depends(same_site)])
async def issue_bulletin(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    from oretrail.bulletins.model import parse_bulletin
    from oretrail.bulletins.store import issue
    from oretrail.errors import IntakeError

    form = await posted(request, who, "issue", "bulletin")
    fields = {k: str(v) for k, v in form.form.items() if isinstance(v, str)}

    def texts(name: str) -> dict[str, str] | str:
        pair = {lang: fields.get(f"{name}_{lang}", "").strip() for lang in ("zh", "en")}
        return {k: v for k, v in pair.items() if v}

    names = [n.strip() for n in fields.get("names", "").splitlines() if n.strip()]
    body = {
        "severity": fields.get("severity", ""),
        "title": texts("title"),
        "body": texts("body"),
        "valid_until": fields.get("valid_until", ""),
        "departments": form.texts("departments"),
        "provinces": form.texts("provinces") or ["CN"],
        "names": [{"name": n.split("|")[0].strip(), "country": (n.split("|")[1].strip() or None) if "|" in n else None}
                  for n in names],
        "hs_codes": [c.strip() for c in fields.get("hs_codes", "").replace(",", " ").split() if c.strip()],
        "enterprises": [],
    }  # fmt: skip
    department, province = unit_of(who)
    try:
        parsed = parse_bulletin(body, date.today())
    except IntakeError as exc:
        form.audit.reason = str(exc)
        with eng.connect() as conn:
            return _list(request, who, conn, status=422, error=exc.words(), form={**fields, "_lists": {
                "departments": form.texts("departments"), "provinces": form.texts("provinces")}})  # fmt: skip
    with eng.begin() as conn:
        done = issue(conn, parsed, issuer=who.user, department=department, province=province,
                     settings=request.app.state.settings)  # fmt: skip
    form.audit.object = done.id
    return redirect(request, f"{PATH}/bulletins/{done.id}?issued=1")


@router.get("/bulletins/{bulletin_id}")
def bulletin_page(
    request: Request,
    bulletin_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    from oretrail.bulletins.store import read

    permitted(request, who, "read", "bulletin", bulletin_id)
    _visible(conn, who, bulletin_id)
    record = read(conn, bulletin_id, language(request))
    unit = unit_of(who)
    mine = next((r for r in record["recipients"] if (r["department"], r["province"]) == unit), None)
    may_ack = mine is not None and mine["acknowledged_at"] is None and may(who, "act", "bulletin")
    return page(request, who, "bulletin.html", title="web.bulletin.title", active="bulletins", b=record,
                unit=unit, mine=mine, may_ack=may_ack, issued=request.query_params.get("issued"),
                acked=request.query_params.get("acked"))  # fmt: skip


@router.post("/bulletins/{bulletin_id}/acknowledge", dependencies=[Depends(same_site)])
async def acknowledge(
    request: Request,
    bulletin_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    from oretrail.bulletins.store import BulletinError
    from oretrail.bulletins.store import acknowledge as ack

    form = await posted(request, who, "act", "bulletin", bulletin_id)
    form.audit.action = "act.acknowledge"
    department, province = unit_of(who)
    try:
        with eng.begin() as conn:
            _visible(conn, who, bulletin_id, "act")
            ack(conn, bulletin_id, department, province, who.user)
    except BulletinError:
        raise NotFound(NOT_RECIPIENT(bulletin=bulletin_id, department=department, province=province)) from None
    return redirect(request, f"{PATH}/bulletins/{bulletin_id}?acked=1")
