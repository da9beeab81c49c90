"""`oretrail bulletins issue|list|show|ack|remind`: warnings from one department to others, at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from oretrail.cli.common import EXIT_NOT_FOUND, ConfigOption, DbOption, FormatOption, app, fail, lang, open_db
from oretrail.i18n.message import said_of
from oretrail.output import Format, emit

bulletins_app = typer.Typer(no_args_is_help=True, help="Warning bulletins: issue, list, acknowledge, remind.")
app.add_typer(bulletins_app, name="bulletins")


@bulletins_app.command("issue")
def issue_bulletin(
    file: Annotated[Path, typer.Argument(help="The bulletin as a JSON object (docs/bulletins.md); - for stdin.")],
    issuer: Annotated[str, typer.Option("--issuer", help="The officer issuing it.")],
    department: Annotated[str, typer.Option("--department", help="The issuing department.")],
    province: Annotated[str, typer.Option("--province", help="The issuing level: CN or a province.")] = "CN",
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Issue a bulletin to departments and provinces; consignees it names are screened against at once."""
    import sys
    from datetime import date

    from oretrail.alerts.routing import DEPARTMENTS_ALL, NATIONAL
    from oretrail.bulletins.model import parse_bulletin
    from oretrail.bulletins.store import issue
    from oretrail.errors import IntakeError
    from oretrail.registry.provinces import is_cn_province
    from oretrail.rules.config import load_settings

    if department not in DEPARTMENTS_ALL:
        fail(f"no department {department}; the departments are {', '.join(DEPARTMENTS_ALL)}", fmt=fmt)
    if province != NATIONAL and not is_cn_province(province):
        fail(f"no province {province}: {NATIONAL} or an ISO 3166-2 code such as CN-JX", fmt=fmt)
    try:
        raw = orjson.loads(sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes())
    except OSError as exc:
        fail(f"{file}: {exc.strerror or exc}", fmt=fmt)
    except orjson.JSONDecodeError as exc:
        fail(f"{file}: not JSON ({exc})", fmt=fmt)
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
        text=f"bulletin {done.id} sent to {done.recipients} recipient(s); {len(done.alerts)} alert(s) raised",
    )


@bulletins_app.command("list")
def list_bulletins(
    unacknowledged: Annotated[
        bool, typer.Option("--unacknowledged", help="Only bulletins some recipient has not acknowledged.")
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Bulletins, newest first, with who has acknowledged them."""
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
    emit(rows, fmt, title="bulletins")


@bulletins_app.command("show")
def show_bulletin(bulletin_id: str, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """One bulletin with each recipient's acknowledgement."""
    from oretrail.bulletins.store import BulletinError, read

    with open_db(db).connect() as conn:
        try:
            record = read(conn, bulletin_id, lang())
        except BulletinError as exc:
            fail(said_of(exc), EXIT_NOT_FOUND, fmt)
    emit(record, fmt, text=_words(record))


def _words(r: dict[str, object]) -> str:
    units = r["recipients"]
    assert isinstance(units, list)
    lines = [f"{r['id']} ({r['severity']}), until {r['valid_until']}: {r['title']}", f"  {r['body']}"]
    lines += [
        f"  {u['department']} {u['province']}: "
        + (f"acknowledged {u['acknowledged_at']} by {u['acknowledged_by']}" if u["acknowledged_at"] else "waiting")
        for u in units
    ]
    return "\n".join(lines)


@bulletins_app.command("ack")
def ack_bulletin(
    bulletin_id: str,
    department: Annotated[str, typer.Option("--department", help="The recipient department.")],
    actor: Annotated[str, typer.Option("--actor", help="The officer acknowledging.")],
    province: Annotated[str, typer.Option("--province", help="The recipient's level: CN or a province.")] = "CN",
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Acknowledge a bulletin for one recipient unit."""
    from oretrail.bulletins.store import BulletinError, acknowledge

    try:
        with open_db(db).begin() as conn:
            at = acknowledge(conn, bulletin_id, department, province, actor)
    except BulletinError as exc:
        fail(said_of(exc), EXIT_NOT_FOUND, fmt)
    emit({"id": bulletin_id, "department": department, "province": province, "acknowledged_at": at.isoformat()},
         fmt, text=f"{bulletin_id} acknowledged for {department} {province} at {at:%Y-%m-%d %H:%M} UTC")  # fmt: skip


@bulletins_app.command("remind")
def remind_bulletins(db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Remind every recipient that has not acknowledged a bulletin in force for a day or more."""
    from dataclasses import asdict

    from oretrail.bulletins.store import remind

    with open_db(db).begin() as conn:
        told = remind(conn)
    emit([asdict(t) for t in told], fmt, title="reminders")
