"""`oretrail bulletins issue|list|show|ack|remind`: warnings from one department to others, at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from oretrail.cli.common import (
    EXIT_NOT_FOUND,
    ConfigOption,
    DbOption,
    FormatOption,
    app,
    fail,
    helped,
    lang,
    open_db,
    option_help,
)
from oretrail.i18n.message import Message, said_of
from oretrail.i18n.words import term
from oretrail.output import Format, emit

bulletins_app = typer.Typer(
    no_args_is_help=True, help=helped("bulletins", "Warning bulletins: issue, list, acknowledge, remind.")
)
app.add_typer(bulletins_app, name="bulletins")

NO_DEPARTMENT = Message("cli.bulletins.no_department", "no department {department}; the departments are {known}")
NO_PROVINCE = Message(
    "cli.bulletins.no_province", "no province {province}: {national} or an ISO 3166-2 code such as CN-JX"
)
UNREADABLE = Message("cli.bulletins.unreadable", "{file}: {reason}")
NOT_JSON = Message("cli.bulletins.not_json", "{file}: not JSON ({reason})")
SENT = Message("cli.bulletins.sent", "bulletin {id} sent to {recipients} recipient(s); {alerts} alert(s) raised")
HEAD = Message("cli.bulletins.head", "{id} ({severity:term}), until {until}: {title}")
ACKNOWLEDGED_BY = Message("cli.bulletins.acknowledged_by", "acknowledged {at} by {by}")
WAITING = Message("cli.bulletins.waiting", "waiting")
ACKNOWLEDGED = Message("cli.bulletins.acknowledged", "{id} acknowledged for {department:term} {province} at {at} UTC")
REMINDERS = Message("table.reminders", "reminders")
BULLETINS = Message("table.bulletins", "bulletins")


@bulletins_app.command(
    "issue",
    help=helped(
        "bulletins issue",
        "Issue a bulletin to departments and provinces; consignees it names are screened against at once.",
    ),
)
def issue_bulletin(
    file: Annotated[
        Path,
        typer.Argument(
            help=option_help("bulletins.file", "The bulletin as a JSON object (docs/bulletins.md); - for stdin.")
        ),
    ],
    issuer: Annotated[str, typer.Option("--issuer", help=option_help("bulletins.issuer", "The officer issuing it."))],
    department: Annotated[
        str, typer.Option("--department", help=option_help("bulletins.department", "The issuing department."))
    ],
    province: Annotated[
        str, typer.Option("--province", help=option_help("bulletins.province", "The issuing level: CN or a province."))
    ] = "CN",
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    import sys
    from datetime import date

    from oretrail.alerts.routing import DEPARTMENTS_ALL, NATIONAL
    from oretrail.bulletins.model import parse_bulletin
    from oretrail.bulletins.store import issue
    from oretrail.errors import IntakeError
    from oretrail.registry.provinces import is_cn_province
    from oretrail.rules.config import load_settings

    if department not in DEPARTMENTS_ALL:
        fail(NO_DEPARTMENT(department=department, known=", ".join(DEPARTMENTS_ALL)), fmt=fmt)
    if province != NATIONAL and not is_cn_province(province):
        fail(NO_PROVINCE(province=province, national=NATIONAL), fmt=fmt)
    try:
        raw = orjson.loads(sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes())
    except OSError as exc:
        fail(UNREADABLE(file=str(file), reason=exc.strerror or str(exc)), fmt=fmt)
    except orjson.JSONDecodeError as exc:
        fail(NOT_JSON(file=str(file), reason=str(exc)), fmt=fmt)
    try:
        bulletin = parse_bulletin(raw, date.today())
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    settings = load_settings(config)
    with open_db(db).begin() as conn:
        done = issue(conn, bulletin, issuer=issuer, department=department, province=province, settings=settings)
    emit(
        {"id": done.id, "recipients": done.recipients, "alerts": done.alerts},
        fmt,
        text=SENT.render(lang(), id=done.id, recipients=done.recipients, alerts=len(done.alerts)),
    )


@bulletins_app.command(
    "list", help=helped("bulletins list", "Bulletins, newest first, with who has acknowledged them.")
)
def list_bulletins(
    unacknowledged: Annotated[
        bool,
        typer.Option(
            "--unacknowledged",
            help=option_help("bulletins.unacknowledged", "Only bulletins some recipient has not acknowledged."),
        ),
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.bulletins.store import listing

    with open_db(db).connect() as conn:
        rows = listing(conn, unacknowledged=unacknowledged, lang=lang())
    if fmt is Format.table:
        rows = [
            {
                "id": r["id"],
                "severity": r["severity"],
                "title": r["title"],
                "until": r["valid_until"],
                "acknowledged": f"{sum(1 for u in r['recipients'] if u['acknowledged_at'])}/{len(r['recipients'])}",
            }
            for r in rows
        ]
    emit(rows, fmt, title=BULLETINS)


BulletinArgument = Annotated[str, typer.Argument(help=option_help("bulletins.id", "The bulletin's id."))]


@bulletins_app.command("show", help=helped("bulletins show", "One bulletin with each recipient's acknowledgement."))
def show_bulletin(bulletin_id: BulletinArgument, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.bulletins.store import BulletinError, read

    with open_db(db).connect() as conn:
        try:
            record = read(conn, bulletin_id, lang())
        except BulletinError as exc:
            fail(said_of(exc), EXIT_NOT_FOUND, fmt)
    emit(record, fmt, text=_words(record, lang()))


def _words(r: dict[str, object], language: str) -> str:
    units = r["recipients"]
    assert isinstance(units, list)
    head = HEAD.render(language, id=r["id"], severity=r["severity"], until=r["valid_until"], title=r["title"])
    lines = [head, f"  {r['body']}"]
    lines += [
        f"  {term(u['department'], language)} {u['province']}: "
        + (
            ACKNOWLEDGED_BY.render(language, at=u["acknowledged_at"], by=u["acknowledged_by"])
            if u["acknowledged_at"]
            else WAITING.render(language)
        )
        for u in units
    ]
    return "\n".join(lines)


@bulletins_app.command("ack", help=helped("bulletins ack", "Acknowledge a bulletin for one recipient unit."))
def ack_bulletin(
    bulletin_id: BulletinArgument,
    department: Annotated[
        str, typer.Option("--department", help=option_help("bulletins.ack.department", "The recipient department."))
    ],
    actor: Annotated[str, typer.Option("--actor", help=option_help("bulletins.actor", "The officer acknowledging."))],
    province: Annotated[
        str,
        typer.Option(
            "--province", help=option_help("bulletins.ack.province", "The recipient's level: CN or a province.")
        ),
    ] = "CN",
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.bulletins.store import BulletinError, acknowledge

    try:
        with open_db(db).begin() as conn:
            at = acknowledge(conn, bulletin_id, department, province, actor)
    except BulletinError as exc:
        fail(said_of(exc), EXIT_NOT_FOUND, fmt)
    said = ACKNOWLEDGED(id=bulletin_id, department=department, province=province, at=f"{at:%Y-%m-%d %H:%M}")
    emit({"id": bulletin_id, "department": department, "province": province, "acknowledged_at": at.isoformat()},
         fmt, text=said.render(lang()))  # fmt: skip


@bulletins_app.command(
    "remind",
    help=helped(
        "bulletins remind", "Remind every recipient that has not acknowledged a bulletin in force for a day or more."
    ),
)
def remind_bulletins(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from dataclasses import asdict

    from oretrail.bulletins.store import remind

    with open_db(db).begin() as conn:
        told = remind(conn)
    emit([asdict(t) for t in told], fmt, title=REMINDERS)
