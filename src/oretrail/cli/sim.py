"""The simulator, the demo (the main job) and the evaluation of alerts against planted violations."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.text import Text

from oretrail.cli.common import (
    DbOption,
    FormatOption,
    app,
    err,
    fail,
    helped,
    lang,
    open_db,
    option_help,
    out,
    progress,
)
from oretrail.i18n.message import Message
from oretrail.output import Format, emit

SIMULATED = Message(
    "cli.sim.simulated",
    "{events} events in {documents} documents, {enterprises} enterprises, {licences} licences, {declarations} "
    "declarations, {mirror} mirror rows, {watchlist} watch-list entities, {labels} labels; {seconds} s",
)
DETECTION = Message("table.detection", "detection against labels")
OVERALL = Message("cli.sim.overall", "overall recall {recall}, precision {precision}")
MISSED = Message("cli.sim.missed", "missed")
FALSE_ALARM = Message("cli.sim.false_alarm", "false alarm")
NOT_AVAILABLE = Message("cli.sim.not_available", "n/a")
UNJUDGED = Message("cli.sim.unjudged", "signals the labels do not speak about (not counted either way): {listed}")
DEMO = Message("cli.demo.title", "a simulated national economy of strategic minerals")
DEMO_SIMULATED = Message(
    "cli.demo.simulated",
    "simulated {events} events of {enterprises} enterprises in {documents} EPCIS documents, {licences} licences, "
    "{declarations} declarations, {labels} planted violations → {data}",
)
EPCIS_EVENTS = Message("cli.demo.epcis_events", "EPCIS events")
EVENTS = Message("cli.demo.events", "{n} events")
FULL_SCAN = Message(
    "cli.demo.full_scan",
    "full scan: {findings} findings, {new} not raised before, {settled} alerts settled into the officers' queue",
)
FINISHED = Message("cli.demo.finished", "finished in {seconds} s. Explore it:")
NEXT = Message("cli.demo.next", "next")
SERVE_NOTE = Message("cli.demo.serve_note", "HTTP API, OpenAPI documentation at {url}")
ON_RECORD = Message("table.on_record", "what is on record")
ALERTS_BY = {
    "rule": Message("table.alerts_by_rule", "alerts by rule"),
    "province": Message("table.alerts_by_province", "alerts by province"),
    "department": Message("table.alerts_by_department", "alerts by department"),
}
BY_RISK = Message("table.enterprises_by_risk", "enterprises by risk")
EXPLAINED = Message("cli.demo.explained", "one alert explained: {rule} ({severity:term})")
PLANTED = Message("table.detection_planted", "detection against the planted violations")


@app.command(
    help=helped("simulate", "Write a plausible national dataset with labelled planted violations (docs/simulator.md).")
)
def simulate(
    outdir: Annotated[
        Path,
        typer.Argument(help=option_help("simulate.outdir", "Folder to write the six feeds and labels.jsonl into.")),
    ],
    scale: Annotated[
        float, typer.Option(help=option_help("simulate.scale", "1 ≈ 100,000 events; 100 ≈ 10 million."))
    ] = 1.0,
    seed: Annotated[int, typer.Option(help=option_help("simulate.seed", "Same seed, same bytes."))] = 1,
    violation_rate: Annotated[
        float,
        typer.Option(help=option_help("simulate.violation_rate", "Share of units of work with a planted violation.")),
    ] = 0.02,
) -> None:
    from oretrail.sim import simulate as run

    t0 = time.perf_counter()
    s = run(outdir, scale=scale, seed=seed, violation_rate=violation_rate)
    said = SIMULATED(
        events=f"{s.events:,}",
        documents=s.documents,
        enterprises=s.enterprises,
        licences=s.licences,
        declarations=s.declarations,
        mirror=s.mirror_rows,
        watchlist=s.watchlist,
        labels=s.labels,
        seconds=f"{time.perf_counter() - t0:.1f}",
    )
    err.print(said.render(lang()), highlight=False, markup=False)


def evaluation_rows(db: str | None, labels_path: Path) -> tuple[object, list[dict[str, object]]]:
    from oretrail.alerts.store import query_alerts
    from oretrail.sim import RULES as LABELLED_RULES
    from oretrail.sim.evaluate import evaluate as run
    from oretrail.sim.evaluate import read_labels

    labels = read_labels(labels_path.read_bytes().splitlines())
    with open_db(db).connect() as conn:
        ev = run(labels, list(query_alerts(conn)), rules=LABELLED_RULES)
    rows: list[dict[str, object]] = [
        {
            "rule": s.rule,
            "labels": s.labels,
            "found": s.found,
            "recall": None if s.recall is None else round(s.recall, 3),
            "alerts": s.alerts,
            "precision": None if s.precision is None else round(s.precision, 3),
        }
        for s in ev.rules.values()
    ]
    return ev, rows


@app.command(
    help=helped("evaluate", "Recall per rule and precision of the alerts in the database against labelled violations.")
)
def evaluate(
    labels: Annotated[
        Path, typer.Argument(help=option_help("evaluate.labels", "labels.jsonl written by `oretrail simulate`."))
    ],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    show: Annotated[
        int, typer.Option(help=option_help("evaluate.show", "How many misses and false alarms to list."))
    ] = 20,
) -> None:
    ev, rows = evaluation_rows(db, labels)
    if fmt is not Format.table:
        payload = {
            "rules": rows,
            "recall": ev.recall,  # type: ignore[attr-defined]
            "precision": ev.precision,  # type: ignore[attr-defined]
            "misses": [{"rule": m.rule, "subject": {"kind": m.subject[0], "id": m.subject[1]}, "note": m.note}
                       for m in ev.misses],  # type: ignore[attr-defined]
            "false_alarms": ev.false_alarms,  # type: ignore[attr-defined]
            "unjudged": ev.unjudged,  # type: ignore[attr-defined]
        }  # fmt: skip
        emit(payload, fmt)
        return
    emit(rows, fmt, title=DETECTION)
    _overall(ev)
    for m in ev.misses[:show]:  # type: ignore[attr-defined]
        missed = Text.assemble((MISSED.render(lang()), "yellow"), f" {m.rule} {m.subject[0]} {m.subject[1]} — {m.note}")
        out.print(missed, highlight=False)
    for a in ev.false_alarms[:show]:  # type: ignore[attr-defined]
        alarm = Text.assemble(
            (FALSE_ALARM.render(lang()), "red"), f" {a['rule']} {a['subject']['kind']} {a['subject']['id']}"
        )
        out.print(alarm, highlight=False)


def _pct(x: float | None) -> str:
    return NOT_AVAILABLE.render(lang()) if x is None else f"{x:.3f}"


def _overall(ev: object) -> None:
    """The overall figures, then the signals no label speaks about."""
    said = OVERALL(recall=_pct(ev.recall), precision=_pct(ev.precision))  # type: ignore[attr-defined]
    out.print(said.render(lang()), highlight=False, markup=False)
    extra = ev.unjudged  # type: ignore[attr-defined]
    if extra:
        listed = ", ".join(f"{n} {r}" for r, n in sorted(extra.items()))
        out.print(UNJUDGED.render(lang(), listed=listed), highlight=False, markup=False)


@app.command(
    help=helped(
        "demo",
        "The main job: simulate a national dataset, load every feed, scan, and show an officer what matters first.",
    )
)
def demo(
    workdir: Annotated[
        Path, typer.Option("--dir", help=option_help("demo.dir", "Where the demo writes its data and database."))
    ] = Path("demo"),
    scale: Annotated[
        float, typer.Option(help=option_help("demo.scale", "Simulator scale (1 ≈ 100,000 events)."))
    ] = 0.2,
    seed: Annotated[int, typer.Option(help=option_help("demo.seed", "Simulator seed."))] = 2025,
) -> None:
    import os

    from oretrail.errors import IntakeError
    from oretrail.feeds import load_dataset
    from oretrail.pipeline import scan as run_scan
    from oretrail.rules.config import load_settings
    from oretrail.sim import simulate as run_sim
    from oretrail.sim.simulate import LABELS

    started = time.perf_counter()
    if workdir.exists():
        shutil.rmtree(workdir)
    data, db = workdir / "data", f"sqlite:///{workdir / 'oretrail.db'}"
    os.environ.setdefault("ORETRAIL_SIGNING_KEY", str(workdir / "signing.key"))
    out.print(Panel.fit(Text.assemble(("oretrail demo", "bold"), ": ", DEMO.render(lang()))))
    s = run_sim(data, scale=scale, seed=seed)
    said = DEMO_SIMULATED(
        events=f"{s.events:,}",
        enterprises=s.enterprises,
        documents=s.documents,
        licences=s.licences,
        declarations=s.declarations,
        labels=s.labels,
        data=str(data),
    )
    out.print(said.render(lang()), highlight=False, markup=False)
    engine = open_db(db)
    settings = load_settings()
    try:
        with progress(out) as bar:
            task = bar.add_task(EPCIS_EVENTS.render(lang()), total=None, detail="")

            def step(done: int, total: int, running: dict[str, Any]) -> None:
                bar.update(task, completed=done, total=total, detail=EVENTS.render(lang(), n=f"{running['new']:,}"))

            loaded = load_dataset(engine, data, settings, on_document=step)
    except IntakeError as exc:
        fail(exc)
    for report in loaded.values():
        out.print(report.words(lang()), highlight=False, markup=False)
    judged = run_scan(engine, settings)
    said = FULL_SCAN(findings=len(judged.findings), new=len(judged.new), settled=judged.settled)
    out.print(said.render(lang()), highlight=False, markup=False)
    _officer_view(db, data / LABELS)
    out.print(
        Panel.fit(
            FINISHED.render(lang(), seconds=f"{time.perf_counter() - started:.0f}") + "\n"
            f"  python3 -m uv run oretrail alerts --db {db} --format jsonl\n"
            f"  python3 -m uv run oretrail explain ALERT_ID --db {db}\n"
            f"  python3 -m uv run oretrail trace LOT --backward --db {db}\n"
            f"  python3 -m uv run oretrail serve --db {db}     # "
            + SERVE_NOTE.render(lang(), url="http://127.0.0.1:8000/docs"),
            title=NEXT.render(lang()),
        )
    )


def _officer_view(db: str, labels: Path) -> None:
    from sqlalchemy import select

    from oretrail.alerts.explain import explain
    from oretrail.chain.trace import trace
    from oretrail.cli.chain import render_trace
    from oretrail.reports import alert_breakdown, enterprise_risk, summary_rows, summary_words
    from oretrail.storage.schema import alerts, exports

    with open_db(db).connect() as conn:
        on_record = [{**r, "what": summary_words(r["what"], lang())} for r in summary_rows(conn)]
        emit(on_record, Format.table, title=ON_RECORD, console=out)
        for by, title in ALERTS_BY.items():
            emit(alert_breakdown(conn, by), Format.table, title=title, console=out)
        emit(enterprise_risk(conn, 8), Format.table, title=BY_RISK, console=out)
        order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
        rows = conn.execute(select(alerts.c.id, alerts.c.severity, alerts.c.rule).order_by(alerts.c.id)).all()
        if rows:
            first = min(rows, key=lambda r: (order.get(r.severity, 9), r.rule, r.id))
            out.print(
                Panel.fit(
                    Text(explain(conn, first.id, lang())),
                    title=EXPLAINED.render(lang(), rule=first.rule, severity=first.severity),
                )
            )
        lot = conn.execute(select(exports.c.lot_id).order_by(exports.c.event_time, exports.c.lot_id).limit(1)).first()
        if lot:
            out.print(render_trace(trace(conn, lot[0], backward=True), backward=True, language=lang()))
    ev, rows_ = evaluation_rows(db, labels)
    emit(rows_, Format.table, title=PLANTED, console=out)
    _overall(ev)
