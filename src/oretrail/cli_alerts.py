"""Commands for licences, declarations and alerts; the lead registers them on the `oretrail` app:

    app.command("scan")(cli_alerts.scan)
    app.command("alerts")(cli_alerts.alerts)
    app.command("explain")(cli_alerts.explain)
    load_app.command("licences")(cli_alerts.load_licences)
    load_app.command("declarations")(cli_alerts.load_declarations)

Each takes `--db` like every other command. Loading a licence or declaration file runs the rules for what it
changed, in the same transaction, so the officer sees the alert as soon as the record is in.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Connection, Engine

from oretrail.output import Format, emit

err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="ORETRAIL_DB", help="Database URL; default a SQLite file oretrail.db here."),
]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML file overriding the rules' defaults (rules/defaults.toml).")
]


def _engine(db: str | None) -> Engine:
    from oretrail.storage.engine import open_database

    return open_database(db)


def _load(kind: str, path: Path, db: str | None, config: Path | None) -> None:
    from oretrail.alerts.store import raise_alerts
    from oretrail.intake import trade
    from oretrail.intake.errors import IntakeError
    from oretrail.rules.config import load_config
    from oretrail.rules.scope import Scope

    cfg = load_config(config)
    raised: list[int] = []

    def then(conn: Connection, result: trade.LoadResult) -> None:
        keys = frozenset(result.keys)
        scope = Scope(licence_nos=keys) if kind == "licences" else Scope(declaration_nos=keys)
        raised.append(len(raise_alerts(conn, scope, config=cfg).new))

    loader = trade.load_licences if kind == "licences" else trade.load_declarations
    try:
        with path.open("rb") as fh:
            result = loader(_engine(db), fh, str(path), then)
    except IntakeError as exc:
        err.print(f"[red]rejected:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except OSError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    counts = result.as_dict() | {"alerts_new": sum(raised)}
    err.print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)


def load_licences(
    path: Annotated[Path, typer.Argument(help="Licences, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Load export licences (Ministry of Commerce); the whole file or nothing."""
    _load("licences", path, db, config)


def load_declarations(
    path: Annotated[Path, typer.Argument(help="Customs export declarations, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Load customs export declarations; the whole file or nothing."""
    _load("declarations", path, db, config)


def scan(
    db: DbOption = None,
    config: ConfigOption = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only these rules (repeatable).")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Run every rule over everything and store new alerts; a rescan raises nothing twice."""
    from oretrail.alerts.store import alert_id, record_findings
    from oretrail.rules.config import load_config
    from oretrail.rules.runner import default_catalogue, run_rules

    cfg, cat = load_config(config), default_catalogue()
    with _engine(db).begin() as conn:
        findings = run_rules(conn, None, cfg, catalogue=cat, rules=rule)
        new = set(record_findings(conn, findings, catalogue=cat, config=cfg).new)
    found, raised = Counter(f.rule for f in findings), Counter(f.rule for f in findings if alert_id(*f.ident) in new)
    emit([{"rule": r, "findings": found[r], "new_alerts": raised[r]} for r in sorted(found)], fmt, title="scan")


def alerts(
    db: DbOption = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Rule id (also matches its finer sub-rules).")] = None,
    province: Annotated[str | None, typer.Option("--province", help="Jurisdiction, e.g. CN-JX, or CN.")] = None,
    department: Annotated[str | None, typer.Option("--department", help="A department that must act.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """List alerts; `--format jsonl` writes exactly the SPEC.md §4 record, one per line."""
    from oretrail.alerts.store import query_alerts

    with _engine(db).connect() as conn:
        rows = list(query_alerts(conn, rule=rule, province=province, department=department))
    if fmt is Format.table:
        rows = [
            {
                "id": r["id"][:12],
                "rule": r["rule"],
                "severity": r["severity"],
                "subject": f"{r['subject']['kind']} {r['subject']['id']}",
                "jurisdiction": r["jurisdiction"],
                "departments": ", ".join(r["departments"]),
                "message": r["message"],
            }
            for r in rows
        ]
    emit(rows, fmt, title="alerts")


def explain(
    alert_id: Annotated[str, typer.Argument(help="Alert id (or a unique prefix of it).")],
    db: DbOption = None,
) -> None:
    """The evidence behind one alert, in plain words, and what to check next."""
    from sqlalchemy import select

    from oretrail.alerts.explain import explain as explain_alert
    from oretrail.storage.schema import alerts as alerts_table

    with _engine(db).connect() as conn:
        ids = (
            conn.execute(
                select(alerts_table.c.id).where(alerts_table.c.id.startswith(alert_id, autoescape=True)).limit(2)
            )
            .scalars()
            .all()
        )
        if len(ids) != 1:
            err.print(f"[red]error:[/red] {'no' if not ids else 'more than one'} alert matches {alert_id!r}")
            raise typer.Exit(1)
        sys.stdout.write(explain_alert(conn, ids[0]) + "\n")
