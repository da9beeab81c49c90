"""Bulletins issued, acknowledged and reminded, in the caller's transaction.

Issuing is one transaction: the bulletin, one recipient row per unit (each department at each chosen
level), and, when it names consignees, the screening of every counterparty on record against them (the
names enter the screening list at once: screening/store.py reads bulletins in force). Alerts it raises are
ordinary `screening.watchlist` alerts, routed and settled as every other.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, insert, select, update

from oretrail.alerts.judge import judge
from oretrail.bulletins.model import BulletinIn
from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.notify import outbox
from oretrail.rules.config import Settings
from oretrail.storage.schema import bulletin_recipients, bulletins

REMIND_EVERY = timedelta(days=1)  # an unacknowledged warning is raised again each working day


NO_BULLETIN = Message("bulletin.error.none", "no bulletin {bulletin}")
NOT_SENT_TO = Message(
    "bulletin.error.not_sent_to", "bulletin {bulletin} was not sent to {department:term} in {province:province}"
)


class BulletinError(LookupError):
    """No such bulletin, or not for this unit; raised with its message (`said_of` reads it in either language)."""

    def __init__(self, said: Said) -> None:
        super().__init__(said)


@dataclass(frozen=True)
class Issued:
    id: str
    recipients: int
    alerts: list[str]  # screening alerts the named consignees raised on records already held


def issue(
    conn: Connection, b: BulletinIn, *, issuer: str, department: str, province: str, settings: Settings
) -> Issued:
    now = utcnow()
    body = orjson.dumps([b.title, b.body, [n.name for n in b.names], now.isoformat()]).decode()
    bulletin_id = f"BLT-{now:%Y%m%d}-{hashlib.sha256(body.encode()).hexdigest()[:10]}"
    conn.execute(
        insert(bulletins).values(
            id=bulletin_id,
            issued_at=now,
            issuer=issuer,
            department=department,
            province=province,
            severity=b.severity,
            title=orjson.dumps(b.title).decode(),
            body=orjson.dumps(b.body).decode(),
            names=orjson.dumps([{"name": n.name, "country": n.country} for n in b.names]).decode(),
            hs_codes=orjson.dumps(list(b.hs_codes)).decode(),
            enterprises=orjson.dumps(list(b.enterprises)).decode(),
            valid_until=b.valid_until,
        )
    )
    units: list[dict[str, Any]] = [{"bulletin_id": bulletin_id, "department": d, "province": p, "reminders": 0}
             for d in b.departments for p in b.provinces]  # fmt: skip
    conn.execute(insert(bulletin_recipients), units)
    outbox.bulletin_issued(conn, read(conn, bulletin_id), [(u["province"], u["department"]) for u in units])
    raised: list[str] = []
    if b.names:
        raised = judge(conn, None, settings, rules=["screening.watchlist"]).new
    return Issued(bulletin_id, len(units), raised)


def acknowledge(conn: Connection, bulletin_id: str, department: str, province: str, by: str) -> datetime:
    """The unit acknowledges; a second acknowledgement keeps the first (who read it first, and when)."""
    row = conn.execute(
        select(bulletin_recipients).where(
            bulletin_recipients.c.bulletin_id == bulletin_id,
            bulletin_recipients.c.department == department,
            bulletin_recipients.c.province == province,
        )
    ).first()
    if row is None:
        if conn.execute(select(bulletins.c.id).where(bulletins.c.id == bulletin_id)).first() is None:
            raise BulletinError(NO_BULLETIN(bulletin=bulletin_id))
        raise BulletinError(NOT_SENT_TO(bulletin=bulletin_id, department=department, province=province))
    if row.acknowledged_at is not None:
        return row.acknowledged_at  # type: ignore[no-any-return]
    now = utcnow()
    conn.execute(
        update(bulletin_recipients)
        .where(
            bulletin_recipients.c.bulletin_id == bulletin_id,
            bulletin_recipients.c.department == department,
            bulletin_recipients.c.province == province,
        )
        .values(acknowledged_at=now, acknowledged_by=by)
    )
    return now


def text_in(stored: str, lang: str) -> str:
    """The issuer's words in the reader's language when written in it, else in the other."""
    texts: dict[str, str] = orjson.loads(stored)
    return texts.get(lang) or next(iter(texts.values()))


def as_record(row: Any, recipients: list[Any], lang: str = "en") -> dict[str, Any]:
    return {
        "id": row.id,
        "issued_at": row.issued_at.isoformat(timespec="seconds") + "Z",
        "issuer": row.issuer,
        "department": row.department,
        "province": row.province,
        "severity": row.severity,
        "title": text_in(row.title, lang),
        "body": text_in(row.body, lang),
        "languages": sorted(orjson.loads(row.title)),
        "names": orjson.loads(row.names),
        "hs_codes": orjson.loads(row.hs_codes),
        "enterprises": orjson.loads(row.enterprises),
        "valid_until": row.valid_until.isoformat(),
        "in_force": row.valid_until >= utcnow().date(),
        "recipients": [
            {
                "department": r.department,
                "province": r.province,
                "acknowledged_at": r.acknowledged_at.isoformat(timespec="seconds") + "Z" if r.acknowledged_at else None,
                "acknowledged_by": r.acknowledged_by,
                "reminders": r.reminders,
            }
            for r in recipients
        ],
    }


def read(conn: Connection, bulletin_id: str, lang: str = "en") -> dict[str, Any]:
    row = conn.execute(select(bulletins).where(bulletins.c.id == bulletin_id)).first()
    if row is None:
        raise BulletinError(NO_BULLETIN(bulletin=bulletin_id))
    units = conn.execute(
        select(bulletin_recipients)
        .where(bulletin_recipients.c.bulletin_id == bulletin_id)
        .order_by(bulletin_recipients.c.department, bulletin_recipients.c.province)
    ).all()
    return as_record(row, list(units), lang)


def listing(
    conn: Connection,
    *,
    unacknowledged: bool = False,
    in_force_on: date | None = None,
    lang: str = "en",
    visible: ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    q = select(bulletins.c.id).order_by(bulletins.c.issued_at.desc(), bulletins.c.id)
    if visible is not None:
        q = q.where(visible)
    if in_force_on is not None:
        q = q.where(bulletins.c.valid_until >= in_force_on)
    if unacknowledged:
        waiting = select(bulletin_recipients.c.bulletin_id).where(bulletin_recipients.c.acknowledged_at.is_(None))
        q = q.where(bulletins.c.id.in_(waiting))
    return [read(conn, i, lang) for i in conn.execute(q).scalars()]


@dataclass(frozen=True)
class Reminder:
    bulletin_id: str
    department: str
    province: str
    reminders: int  # including this one


def remind(conn: Connection, now: datetime | None = None, every: timedelta = REMIND_EVERY) -> list[Reminder]:
    """Recipients of bulletins in force that have not acknowledged, last told (issued or reminded) at least
    `every` ago: each is reminded once more, and the count is kept."""
    now = now or utcnow()
    r, b = bulletin_recipients.c, bulletins.c
    rows = conn.execute(
        select(r.bulletin_id, r.department, r.province, r.reminders, r.reminded_at, b.issued_at)
        .join(bulletins, bulletins.c.id == r.bulletin_id)
        .where(r.acknowledged_at.is_(None), b.valid_until >= now.date())
        .order_by(r.bulletin_id, r.department, r.province)
    ).all()
    out = []
    for row in rows:
        if (row.reminded_at or row.issued_at) + every > now:
            continue
        conn.execute(
            update(bulletin_recipients)
            .where(r.bulletin_id == row.bulletin_id, r.department == row.department, r.province == row.province)
            .values(reminded_at=now, reminders=row.reminders + 1)
        )
        out.append(Reminder(row.bulletin_id, row.department, row.province, row.reminders + 1))
        outbox.bulletin_reminded(conn, read(conn, row.bulletin_id), row.province, row.department)
    return out
