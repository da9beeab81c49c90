"""The simulator, the demo (the main job) and the evaluation of alerts against planted violations."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.text import Text

from oretrail.cli.common import DbOption, FormatOption, app, err, fail, lang, open_db, out, progress
from oretrail.output import Format, emit


@app.command()
def simulate(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the six feeds and labels.jsonl into.")],
    scale: Annotated[float, typer.Option(help="1 ≈ 100,000 events; 100 ≈ 10 million.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Same seed, same bytes.")] = 1,
    violation_rate: Annotated[float, typer.Option(help="Share of units of work with a planted violation.")] = 0.02,
) -> None:
    """Write a plausible national dataset with labelled planted violations (docs/simulator.md)."""
    from oretrail.sim import simulate as run

    t0 = time.perf_counter()
    s = run(outdir, scale=scale, seed=seed, violation_rate=violation_rate)
    err.print(
        f"{s.events:,} events in {s.documents} documents, {s.enterprises} enterprises, {s.licences} licences, "
        f"{s.declarations} declarations, {s.mirror_rows} mirror rows, {s.watchlist} watch-list entities, "
        f"{s.labels} labels; {time.perf_counter() - t0:.1f} s",
        highlight=False,
    )


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


@app.command()
def evaluate(
    labels: Annotated[Path, typer.Argument(help="labels.jsonl written by `oretrail simulate`.")],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
    show: Annotated[int, typer.Option(help="How many misses and false alarms to list.")] = 20,
) -> None:
    """Recall per rule and precision of the alerts in the database against labelled violations."""
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
    emit(rows, fmt, title="detection against labels")
    out.print(f"overall recall {_pct(ev.recall)}, precision {_pct(ev.precision)}")  # type: ignore[attr-defined]
    _unjudged(ev)
    for m in ev.misses[:show]:  # type: ignore[attr-defined]
        out.print(f"[yellow]missed[/yellow] {m.rule} {m.subject[0]} {m.subject[1]} — {m.note}", highlight=False)
    for a in ev.false_alarms[:show]:  # type: ignore[attr-defined]
        out.print(f"[red]false alarm[/red] {a['rule']} {a['subject']['kind']} {a['subject']['id']}", highlight=False)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


@app.command()
def demo(
    workdir: Annotated[Path, typer.Option("--dir", help="Where the demo writes its data and database.")] = Path("demo"),
    scale: Annotated[float, typer.Option(help="Simulator scale (1 ≈ 100,000 events).")] = 0.2,
    seed: Annotated[int, typer.Option(help="Simulator seed.")] = 2025,
) -> None:
    """The main job: simulate a national dataset, load every feed, scan, and show an officer what matters first."""
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
    out.print(Panel.fit("[bold]oretrail demo[/bold]: a simulated national economy of strategic minerals"))
    s = run_sim(data, scale=scale, seed=seed)
    out.print(
        f"simulated {s.events:,} events of {s.enterprises} enterprises in {s.documents} EPCIS documents, "
        f"{s.licences} licences, {s.declarations} declarations, {s.labels} planted violations → {data}"
    )
    engine = open_db(db)
    settings = load_settings()
    try:
        with progress(out) as bar:
            task = bar.add_task("EPCIS events", total=None, detail="")

            def step(done: int, total: int, running: dict[str, Any]) -> None:
                bar.update(task, completed=done, total=total, detail=f"{running['new']:,} events")

            loaded = load_dataset(engine, data, settings, on_document=step)
    except IntakeError as exc:
        fail(str(exc))
    for report in loaded.values():
        out.print(report.words(), highlight=False)
    judged = run_scan(engine, settings)
    out.print(
        f"full scan: {len(judged.findings)} findings, {len(judged.new)} not raised before, "
        f"{judged.settled} alerts settled into the officers' queue"
    )
    _officer_view(db, data / LABELS)
    out.print(
        Panel.fit(
            f"finished in {time.perf_counter() - started:.0f} s. Explore it:\n"
            f"  python3 -m uv run oretrail alerts --db {db} --format jsonl\n"
            f"  python3 -m uv run oretrail explain ALERT_ID --db {db}\n"
            f"  python3 -m uv run oretrail trace LOT --backward --db {db}\n"
            f"  python3 -m uv run oretrail serve --db {db}     # HTTP API, OpenAPI docs at http://127.0.0.1:8000/docs",
            title="next",
        )
    )


def _officer_view(db: str, labels: Path) -> None:
    from sqlalchemy import select

    from oretrail.alerts.explain import explain
    from oretrail.chain.trace import trace
    from oretrail.cli.chain import render_trace
    from oretrail.reports import alert_breakdown, enterprise_risk, summary_rows
    from oretrail.storage.schema import alerts, exports

    with open_db(db).connect() as conn:
        emit(summary_rows(conn), Format.table, title="what is on record", console=out)
        for by in ("rule", "province", "department"):
            emit(alert_breakdown(conn, by), Format.table, title=f"alerts by {by}", console=out)
        emit(enterprise_risk(conn, 8), Format.table, title="enterprises by risk", console=out)
        order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
        rows = conn.execute(select(alerts.c.id, alerts.c.severity, alerts.c.rule).order_by(alerts.c.id)).all()
        if rows:
            first = min(rows, key=lambda r: (order.get(r.severity, 9), r.rule, r.id))
            out.print(
                Panel.fit(
                    Text(explain(conn, first.id, lang())), title=f"one alert explained: {first.rule} ({first.severity})"
                )
            )
        lot = conn.execute(select(exports.c.lot_id).order_by(exports.c.event_time, exports.c.lot_id).limit(1)).first()
        if lot:
            out.print(render_trace(trace(conn, lot[0], backward=True), backward=True))
    ev, rows_ = evaluation_rows(db, labels)
    emit(rows_, Format.table, title="detection against the planted violations", console=out)
    out.print(f"overall recall {_pct(ev.recall)}, precision {_pct(ev.precision)}")  # type: ignore[attr-defined]
    _unjudged(ev)


def _unjudged(ev: object) -> None:
    extra = ev.unjudged  # type: ignore[attr-defined]
    if extra:
        listed = ", ".join(f"{n} {r}" for r, n in sorted(extra.items()))
        out.print(f"signals the labels do not speak about (not counted either way): {listed}", highlight=False)
