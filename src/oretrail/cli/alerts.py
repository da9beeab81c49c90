"""Commands for alerts: scan, list, explain, and the officers' workflow on them.

A filter naming a rule, province or department that does not exist is refused (exit 3) rather than
answered with an empty list, which an officer would read as "nothing to do".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Connection

from oretrail.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    app,
    err,
    fail,
    helped,
    lang,
    not_found,
    open_db,
    option_help,
)
from oretrail.i18n.message import Message, said_of
from oretrail.output import Format, emit

NO_RULE = Message("cli.no_rule", "no rule {rules}; the rules are {known}")
NO_ENGINE = Message("cli.no_engine", "no engine {engine}; the engines are {known}")
NEEDS_INPUT = Message(
    "cli.engine_needs_input", "--engine {engine} reads a Parquet export: give its directory with --input"
)
STORE_NO_INPUT = Message(
    "cli.store_no_input", "--engine store reads the database itself; --input names an export for duckdb or spark"
)
NO_PROVINCE = Message(
    "cli.no_province", "no province {province}: give an ISO 3166-2 code of China such as CN-JX, or {national}"
)
NO_DEPARTMENT = Message("cli.no_department", "no department {department}; the departments are {known}")
NO_ALERT = Message("cli.no_alert", "no alert {id}")
AMBIGUOUS = Message("cli.ambiguous_alert", "more than one alert starts with {prefix}; give more of the id")
NEEDS_FILE = Message("cli.attach_needs_file", "attach needs --file naming a readable file, got {file}")
ALERT_STATE = Message("cli.alert_state", "alert {id} is {status:term}, {where}{shared}")
AT_CENTRE = Message("cli.at_centre", "at the centre")
HANDED_TO = Message("cli.handed_to", "in {province:province}")
IN_PROVINCE = Message("cli.in_province", "in its province")
SHARED = Message("cli.shared", ", shared with {departments:list}")


def known_rule(rule: str) -> bool:
    """A rule id of the runner, a finer sub-rule of one (`licence.mismatch.port`), or a family (`licence`)."""
    from oretrail.rules.runner import RULE_IDS

    parts = rule.split(".")
    parents = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return bool(parents & set(RULE_IDS)) or any(r.startswith(rule + ".") for r in RULE_IDS)


def check_rules(rules: Sequence[str], fmt: Format) -> None:
    from oretrail.rules.runner import RULE_IDS

    unknown = [r for r in rules if not known_rule(r)]
    if unknown:
        not_found(NO_RULE(rules=", ".join(unknown), known=", ".join(RULE_IDS)), fmt)


@app.command(help=helped("scan", "Run every rule over everything and store new alerts; a rescan raises nothing twice."))
def scan(
    db: DbOption = None,
    config: ConfigOption = None,
    rule: Annotated[
        list[str] | None, typer.Option("--rule", help=option_help("scan.rule", "Only these rules (repeatable)."))
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help=option_help(
                "scan.engine",
                "Where the rules run: store (the database itself; the default without --input), or duckdb (the "
                "default with --input) or spark over a Parquet export.",
            ),
        ),
    ] = None,
    input_dir: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help=option_help("scan.input", "The export (oretrail export parquet DIR) duckdb and spark read."),
        ),
    ] = None,
    master: Annotated[
        str | None, typer.Option("--master", help=option_help("scan.master", "Spark master URL (default local[2])."))
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help=option_help(
                "scan.workers",
                "On the store or DuckDB: how many connections run the rules side by side "
                "(default: one per core, at most 4).",
            ),
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.alerts.store import alert_id
    from oretrail.pipeline import scan as run_scan
    from oretrail.rules.config import load_settings
    from oretrail.rules.runner import RULE_IDS

    if rule:
        check_rules(rule, fmt)
        rule = [r for r in RULE_IDS if any(r == x or r.startswith(x + ".") or x.startswith(r + ".") for x in rule)]
    from oretrail.engines import ENGINES

    # The faster engine for what is given (docs/benchmarks.md, "Default for scan"): over a current export
    # DuckDB, otherwise the store, since bringing an export up to date costs more than the scan it saves.
    engine = engine or ("duckdb" if input_dir is not None else "store")
    if engine not in ENGINES:
        not_found(NO_ENGINE(engine=engine, known=", ".join(ENGINES)), fmt)
    if engine != "store" and input_dir is None:
        fail(NEEDS_INPUT(engine=engine), fmt=fmt)
    if engine == "store" and input_dir is not None:
        fail(STORE_NO_INPUT(), fmt=fmt)
    try:
        judged = run_scan(
            open_db(db), load_settings(config), rule, on=engine, export=input_dir, master=master, workers=workers
        )
    except (ValueError, FileNotFoundError) as e:  # a stale export, or a directory that is not one
        fail(said_of(e), fmt=fmt)
    new = set(judged.new)
    found = Counter(f.rule for f in judged.findings)
    raised = Counter(f.rule for f in judged.findings if alert_id(*f.ident) in new)
    emit([{"rule": r, "findings": found[r], "new_alerts": raised[r]} for r in sorted(found)], fmt, title="scan")


@app.command(
    help=helped(
        "alerts",
        "List the officers' queue: settled, standing alerts; `--format jsonl` writes exactly the SPEC.md §4 "
        "record, one per line.",
    )
)
def alerts(
    db: DbOption = None,
    rule: Annotated[
        str | None,
        typer.Option("--rule", help=option_help("alerts.rule", "Rule id (also matches its finer sub-rules).")),
    ] = None,
    province: Annotated[
        str | None, typer.Option("--province", help=option_help("alerts.province", "Jurisdiction, e.g. CN-JX, or CN."))
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help=option_help("alerts.department", "A department that must act."))
    ] = None,
    provisional: Annotated[
        bool,
        typer.Option(
            "--provisional",
            help=option_help("alerts.provisional", "Include provisional alerts (still within their settling window)."),
        ),
    ] = False,
    leads: Annotated[
        bool,
        typer.Option(
            "--leads",
            help=option_help("alerts.leads", "List leads (statistical signals, kept apart from alerts) instead."),
        ),
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.alerts.routing import DEPARTMENTS_ALL, NATIONAL
    from oretrail.alerts.store import query_alerts
    from oretrail.registry.provinces import is_cn_province
    from oretrail.rules.rule import Queue

    if rule:
        check_rules([rule], fmt)
    if province and province != NATIONAL and not is_cn_province(province):
        not_found(NO_PROVINCE(province=province, national=NATIONAL), fmt)
    if department and department not in DEPARTMENTS_ALL:
        not_found(NO_DEPARTMENT(department=department, known=", ".join(DEPARTMENTS_ALL)), fmt)
    with open_db(db).connect() as conn:
        rows = list(
            query_alerts(
                conn,
                rule=rule,
                province=province,
                department=department,
                include_provisional=provisional,
                queue=Queue.LEADS if leads else Queue.ALERTS,
                lang=lang(),
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


def resolve_alert(conn: Connection, alert_id: str, fmt: Format) -> str:
    """The one alert whose id starts with `alert_id` (tables show the first 12 characters)."""
    from sqlalchemy import select

    from oretrail.storage.schema import alerts as alerts_table

    ids = (
        conn.execute(select(alerts_table.c.id).where(alerts_table.c.id.startswith(alert_id, autoescape=True)).limit(2))
        .scalars()
        .all()
    )
    if not ids:
        not_found(NO_ALERT(id=alert_id), fmt)
    if len(ids) > 1:
        fail(AMBIGUOUS(prefix=repr(alert_id)), fmt=fmt)
    return str(ids[0])


@app.command(help=helped("explain", "The evidence behind one alert, in plain words, and what to check next."))
def explain(
    alert_id: Annotated[str, typer.Argument(help=option_help("alert_id", "Alert id (or a unique prefix of it)."))],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.alerts.explain import explain as explain_alert
    from oretrail.alerts.explain import explain_record

    with open_db(db).connect() as conn:
        found = resolve_alert(conn, alert_id, fmt)
        if fmt is Format.table:
            emit({}, fmt, text=explain_alert(conn, found, lang()))
        else:
            emit(explain_record(conn, found, lang()), fmt)


@app.command(
    help=helped("act", "Record a decision on an alert in its append-only log; reports the state that follows.")
)
def act(
    alert_id: Annotated[str, typer.Argument(help=option_help("alert_id", "Alert id (or a unique prefix of it)."))],
    action: Annotated[
        str,
        typer.Argument(
            help=option_help(
                "act.action", "assign | investigate | comment | attach | escalate | hand_down | share | dismiss | act"
            )
        ),
    ],
    actor: Annotated[str, typer.Option("--actor", help=option_help("act.actor", "The officer taking the action."))],
    department: Annotated[
        str | None, typer.Option("--department", help=option_help("act.department", "For share and assign."))
    ] = None,
    province: Annotated[
        str | None,
        typer.Option("--province", help=option_help("act.province", "For hand_down: the province, e.g. CN-JX.")),
    ] = None,
    note: Annotated[
        str | None,
        typer.Option(
            "--note",
            help=option_help("act.note", "Reason (required to escalate, dismiss or act), comment or assignee."),
        ),
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help=option_help("act.file", "For attach: the file to attach."))
    ] = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    import mimetypes

    from oretrail.alerts.attachments import AttachmentError, store_attachment
    from oretrail.alerts.workflow import WorkflowError, record_action

    if action == "attach" and (file is None or not file.is_file()):
        fail(NEEDS_FILE(file=str(file)), fmt=fmt)
    try:
        with open_db(db).begin() as conn:
            found = resolve_alert(conn, alert_id, fmt)
            digest = None
            if action == "attach" and file is not None:
                media = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                digest = store_attachment(conn, file.read_bytes(), media)
            st = record_action(
                conn, found, action, actor, department=department, province=province, note=note, attachment=digest
            )
    except (WorkflowError, AttachmentError) as exc:
        fail(said_of(exc), fmt=fmt)
    shared = SHARED(departments=list(st.shared_with)) if st.shared_with else ""
    where = IN_PROVINCE()
    if st.level == "central":
        where = AT_CENTRE()
    elif st.handed_to:
        where = HANDED_TO(province=st.handed_to)
    said = ALERT_STATE(id=found[:12], status=st.status, where=where, shared=shared)
    emit(st, fmt, console=err, text=said.render(lang()))
