"""Warning bulletins over HTTP: issue, read, acknowledge, list who has not."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from oretrail.api.deps import engine, lang, reader

router = APIRouter(prefix="/bulletins", tags=["bulletins"])


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
    issuer: str = Field(min_length=1, description="The officer issuing it")
    department: str = Field(description="The issuing department")
    province: str = Field("CN", description="The issuing level")


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
    department: str
    province: str = "CN"
    actor: str = Field(min_length=1)


class AckOut(BaseModel):
    id: str
    department: str
    province: str
    acknowledged_at: datetime


@router.post("", status_code=201, summary="Issue a bulletin; consignees it names are screened against at once")
def issue_bulletin(body: BulletinIn, request: Request, eng: Annotated[Engine, Depends(engine)]) -> IssuedOut:
    from oretrail.alerts.routing import DEPARTMENTS_ALL, NATIONAL
    from oretrail.bulletins.model import parse_bulletin
    from oretrail.bulletins.store import issue
    from oretrail.errors import IntakeError
    from oretrail.registry.provinces import is_cn_province

    if body.department not in DEPARTMENTS_ALL:
        raise HTTPException(422, f"no department {body.department}")
    if body.province != NATIONAL and not is_cn_province(body.province):
        raise HTTPException(422, f"no province {body.province}")
    raw = body.model_dump(mode="json", exclude={"issuer", "department", "province"})
    try:
        parsed = parse_bulletin(raw, date.today())
    except IntakeError as exc:
        raise HTTPException(422, str(exc)) from None
    with eng.begin() as conn:
        done = issue(conn, parsed, issuer=body.issuer, department=body.department, province=body.province,
                     settings=request.app.state.settings)  # fmt: skip
    return IssuedOut(id=done.id, recipients=done.recipients, alerts=done.alerts)


@router.get("", summary="Bulletins, newest first, with their acknowledgements")
def list_bulletins(
    conn: Annotated[Connection, Depends(reader)],
    language: Annotated[str, Depends(lang)],
    unacknowledged: bool = False,
) -> list[BulletinOut]:
    from oretrail.bulletins.store import listing

    return [BulletinOut(**r) for r in listing(conn, unacknowledged=unacknowledged, lang=language)]


@router.get("/{bulletin_id}", summary="One bulletin, in the reader's language when the issuer wrote it")
def get_bulletin(
    bulletin_id: str, conn: Annotated[Connection, Depends(reader)], language: Annotated[str, Depends(lang)]
) -> BulletinOut:
    from oretrail.bulletins.store import BulletinError, read

    try:
        return BulletinOut(**read(conn, bulletin_id, language))
    except BulletinError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/{bulletin_id}/acknowledgements", summary="A recipient unit acknowledges")
def acknowledge_bulletin(bulletin_id: str, body: AckIn, eng: Annotated[Engine, Depends(engine)]) -> AckOut:
    from oretrail.bulletins.store import BulletinError, acknowledge

    try:
        with eng.begin() as conn:
            at = acknowledge(conn, bulletin_id, body.department, body.province, body.actor)
    except BulletinError as exc:
        raise HTTPException(404, str(exc)) from None
    return AckOut(id=bulletin_id, department=body.department, province=body.province, acknowledged_at=at)
