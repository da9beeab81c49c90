"""Warning bulletins over HTTP: issue, read, acknowledge, list who has not.

The issuer is the signed-in caller, writing for their own unit (their department, at the centre or in their
province); a reader sees the bulletins issued by or sent to their department or province
(access/scope.py `bulletins_visible`); a recipient acknowledges for their own unit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, select

from oretrail.access.caller import Caller
from oretrail.access.scope import bulletins_visible, unconstrained
from oretrail.api.auth import note, out_of_sight, permit, refuse, unseen
from oretrail.api.capture import refusal
from oretrail.api.deps import engine, lang, reader
from oretrail.i18n.message import Message, said_of
from oretrail.storage.schema import bulletins

router = APIRouter(prefix="/bulletins", tags=["bulletins"])

ACKNOWLEDGES_OWN = Message("bulletins.acknowledges_own", "{user} acknowledges for {department} {province} only")


class NamedIn(BaseModel):
    name: str
    country: str | None = Field(None, description="ISO 3166-1 alpha-2")


class BulletinIn(BaseModel):
    severity: str = Field(description="low | medium | high | critical")
    title: dict[str, str] | str = Field(description='What, as {"zh": ..., "en": ...} or one text')
    body: dict[str, str] | str = Field(description="Why, and what recipients should do")
    valid_until: date
    departments: list[str] = Field(description="Recipient departments (SPEC.md §4)")
    provinces: list[str] = Field(default_factory=list, description="CN (the centre) and/or ISO 3166-2 provinces")
    names: list[NamedIn | str] = Field(default_factory=list, description="Consignees: screened against at once")
    hs_codes: list[str] = Field(default_factory=list)
    enterprises: list[str] = Field(default_factory=list)


class IssuedOut(BaseModel):
    id: str
    recipients: int
    alerts: list[str] = Field(description="Screening alerts raised on records already held")


class RecipientOut(BaseModel):
    department: str
    province: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    reminders: int


class BulletinOut(BaseModel):
    id: str
    issued_at: str
    issuer: str
    department: str
    province: str
    severity: str
    title: str
    body: str
    languages: list[str]
    names: list[dict[str, Any]]
    hs_codes: list[str]
    enterprises: list[str]
    valid_until: str
    in_force: bool
    recipients: list[RecipientOut]


class AckIn(BaseModel):
    department: str | None = Field(None, description="The recipient unit; by default the caller's own")
    province: str | None = Field(None, description="CN or a province; by default the caller's own")


class AckOut(BaseModel):
    id: str
    department: str
    province: str
    acknowledged_at: datetime


def unit_of(who: Caller) -> tuple[str, str]:
    """The caller's own unit: their department (the role's, for a ministry), at the centre or in their
    province."""
    from oretrail.alerts.routing import NATIONAL

    return who.department or who.role, who.province or NATIONAL


def _visible(request: Request, conn: Connection, who: Caller, bulletin_id: str, action: str = "read") -> None:
    q = select(bulletins.c.id).where(bulletins.c.id == bulletin_id, bulletins_visible(who, action))
    if conn.execute(q).first() is None:
        raise out_of_sight(request, who, action, "bulletin", *unseen(who, action, "bulletin", bulletin_id))


@router.post("", status_code=201, summary="Issue a bulletin; consignees it names are screened against at once")
def issue_bulletin(
    body: BulletinIn,
    request: Request,
    eng: Annotated[Engine, Depends(engine)],
    who: Annotated[Caller, Depends(permit("issue", "bulletin"))],
) -> IssuedOut:
    from oretrail.bulletins.model import parse_bulletin
    from oretrail.bulletins.store import issue
    from oretrail.errors import IntakeError

    department, province = unit_of(who)
    try:
        parsed = parse_bulletin(body.model_dump(mode="json"), date.today())
    except IntakeError as exc:
        raise refusal(exc) from None
    with eng.begin() as conn:
        done = issue(conn, parsed, issuer=who.user, department=department, province=province,
                     settings=request.app.state.settings)  # fmt: skip
    note(request).object = done.id
    return IssuedOut(id=done.id, recipients=done.recipients, alerts=done.alerts)


@router.get("", summary="Bulletins issued by or sent to the caller's department or province, newest first")
def list_bulletins(
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "bulletin"))],
    unacknowledged: bool = False,
) -> list[BulletinOut]:
    from oretrail.bulletins.store import listing

    found = listing(conn, unacknowledged=unacknowledged, lang=language, visible=bulletins_visible(who))
    return [BulletinOut(**r) for r in found]


@router.get("/{bulletin_id}", summary="One bulletin, in the reader's language when the issuer wrote it")
def get_bulletin(
    request: Request,
    bulletin_id: str,
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    who: Annotated[Caller, Depends(permit("read", "bulletin"))],
) -> BulletinOut:
    from oretrail.bulletins.store import read

    _visible(request, conn, who, bulletin_id)
    return BulletinOut(**read(conn, bulletin_id, language))


@router.post("/{bulletin_id}/acknowledgements", summary="The caller acknowledges for their unit")
def acknowledge_bulletin(
    request: Request,
    bulletin_id: str,
    body: AckIn,
    eng: Annotated[Engine, Depends(engine)],
    who: Annotated[Caller, Depends(permit("act", "bulletin"))],
) -> AckOut:
    from oretrail.bulletins.store import BulletinError, acknowledge

    own_department, own_province = unit_of(who)
    department, province = body.department or own_department, body.province or own_province
    if (department, province) != (own_department, own_province) and not unconstrained(who, "act", "bulletin"):
        raise refuse(request, ACKNOWLEDGES_OWN(user=who.user, department=own_department, province=own_province))
    try:
        with eng.begin() as conn:
            _visible(request, conn, who, bulletin_id, "act")
            at = acknowledge(conn, bulletin_id, department, province, who.user)
    except BulletinError as exc:
        raise HTTPException(404, said_of(exc)) from None  # type: ignore[arg-type]  # read when answered
    return AckOut(id=bulletin_id, department=department, province=province, acknowledged_at=at)
