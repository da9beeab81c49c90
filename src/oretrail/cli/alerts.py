"""Commands for alerts: scan, list, explain, and the officers' workflow on them."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Annotated

import typer

from oretrail.cli.common import ConfigOption, DbOption, FormatOption, app, err, fail, open_db
from oretrail.output import Format, emit


@app.command()
def scan(
    db: DbOption = None,
    config: ConfigOption = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only these rules (repeatable).")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Run every rule over everything and store new alerts; a rescan raises nothing twice. Alerts it no longer
    finds are withdrawn, and provisional alerts whose settling window has passed settle."""
    from oretrail.alerts.store import alert_id
    from oretrail.pipeline import scan as run_scan
    from oretrail.rules.config import load_settings

    judged = run_scan(open_db(db), load_settings(config), rule)
    new = set(judged.new)
    found = Counter(f.rule for f in judged.findings)
    raised = Counter(f.rule for f in judged.findings if alert_id(*f.ident) in new)
    emit([{"rule": r, "findings": found[r], "new_alerts": raised[r]} for r in sorted(found)], fmt, title="scan")


@app.command()
def alerts(
    db: DbOption = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Rule id (also matches its finer sub-rules).")] = None,
    province: Annotated[str | None, typer.Option("--province", help="Jurisdiction, e.g. CN-JX, or CN.")] = None,
    department: Annotated[str | None, typer.Option("--department", help="A department that must act.")] = None,
    provisional: Annotated[
        bool, typer.Option("--provisional", help="Include provisional alerts (still within their settling window).")
    ] = False,
    leads: Annotated[
        bool, typer.Option("--leads", help="List leads (statistical signals, kept apart from alerts) instead.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """List the officers' queue: settled, standing alerts; `--format jsonl` writes exactly the SPEC.md §4
    record, one per line."""
    from oretrail.alerts.store import query_alerts
    from oretrail.rules.rule import Queue

    queue = Queue.LEADS if leads else Queue.ALERTS
    with open_db(db).connect() as conn:
        rows = list(
            query_alerts(
                conn,
                rule=rule,
                province=province,
                department=department,
                include_provisional=provisional,
                queue=queue,
            )
        )
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


@app.command()
def explain(
    alert_id: Annotated[str, typer.Argument(help="Alert id (or a unique prefix of it).")],
    db: DbOption = None,
) -> None:
    """The evidence behind one alert, in plain words, and what to check next."""
    from sqlalchemy import select

    from oretrail.alerts.explain import explain as explain_alert
    from oretrail.storage.schema import alerts as alerts_table

    with open_db(db).connect() as conn:
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


@app.command()
def act(
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    action: Annotated[str, typer.Argument(help="assign | escalate | share | dismiss | act | note")],
    actor: Annotated[str, typer.Option("--actor", help="The officer taking the action.")],
    department: Annotated[str | None, typer.Option("--department", help="For share and assign.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Reason or assignee; required to dismiss or act.")] = None,
    db: DbOption = None,
) -> None:
    """Record a decision on an alert in its append-only log; prints the state that follows."""
    from oretrail.alerts.workflow import WorkflowError, record_action

    try:
        with open_db(db).begin() as conn:
            st = record_action(conn, alert_id, action, actor, department=department, note=note)
    except WorkflowError as exc:
        fail(str(exc))
    shared = f", shared with {', '.join(st.shared_with)}" if st.shared_with else ""
    err.print(f"alert {alert_id[:12]} is {st.status}{shared}", highlight=False)
