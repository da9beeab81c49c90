"""`oretrail load …`: every feed of SPEC.md §1. Each file (or EPCIS document) lands whole or not at all,
and the rules run for what it changed in the same transaction, so alerts appear as evidence lands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oretrail.cli.common import ConfigOption, DbOption, err, fail, load_app, open_db, progress
from oretrail.output import Format, emit


@load_app.command("events")
def load_events(
    paths: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON/JSON-LD documents, or folders of them.")],
    db: DbOption = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Also write what became of each event (stored, unchanged, ...)."),
    ] = None,
) -> None:
    """Capture EPCIS documents; each document lands whole or not at all; rejected ones are named on stderr.

    With `--format`, one row per event on stdout: its document, index and eventID, and its outcome (stored,
    off_profile with the departures, unchanged, correction, or refused with the field and reason)."""
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import Capture, CaptureReport, alert_hook, document_paths

    engine = open_db(db)
    try:
        files = document_paths(paths)
    except IntakeError as exc:
        fail(str(exc))
    capture = Capture(engine, on_touched=alert_hook())
    total = CaptureReport()
    with progress() as bar:
        task = bar.add_task("events", total=len(files), detail="")
        for report in capture.documents(files):
            total.add(report)
            for refusal in report.errors:
                err.print(f"[red]rejected[/red] {refusal}", highlight=False)
            bar.update(task, advance=1, detail=f"{total.new:,} new events, {total.alerts_new:,} alerts")
    err.print(
        f"{total.documents} documents: {total.new} new events, {total.unchanged} unchanged, "
        f"{total.corrections} corrections, {total.alerts_new} new alerts, {len(total.errors)} rejected documents",
        highlight=False,
    )
    if fmt is not None:
        emit([o.row() for o in total.outcomes], fmt, title="events")
    if total.errors:
        raise typer.Exit(1)


@load_app.command("registry")
def load_registry(
    path: Annotated[Path, typer.Argument(help="Enterprises and facilities, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
) -> None:
    """Enterprises and facilities; re-importing updates, never duplicates."""
    from oretrail.intake.errors import IntakeError
    from oretrail.registry.store import load_registry as load

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(str(exc))
    err.print(f"registry: {n.new} new, {n.changed} changed, {n.unchanged} unchanged", highlight=False)


def _lines(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().splitlines()
    except OSError as exc:
        fail(str(exc))


def _trade(kind: str, path: Path, db: str | None, config: Path | None) -> None:
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import load_trade

    try:
        counts = load_trade(open_db(db), kind, _lines(path), str(path), config)
    except IntakeError as exc:
        fail(str(exc))
    err.print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False)


@load_app.command("licences")
def load_licences(
    path: Annotated[Path, typer.Argument(help="Export licences, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Export licences (Ministry of Commerce); screened against the watch list as they land."""
    _trade("licences", path, db, config)


@load_app.command("declarations")
def load_declarations(
    path: Annotated[Path, typer.Argument(help="Customs export declarations, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Customs export declarations; licence drawdown and the licence rules run as they land."""
    _trade("declarations", path, db, config)


@load_app.command("mirror")
def load_mirror(
    path: Annotated[Path, typer.Argument(help="Partner import statistics, UN Comtrade bulk CSV columns.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Partners' reported imports from China; a reload of a period replaces it. Mirror rules run after."""
    from oretrail.intake.errors import IntakeError
    from oretrail.mirror.store import load_mirror as load
    from oretrail.pipeline import rerun_rules

    engine = open_db(db)
    try:
        n = load(engine, path.read_text(encoding="utf-8").splitlines(), str(path))
    except IntakeError as exc:
        fail(str(exc))
    raised = rerun_rules(engine, "mirror.", config)
    err.print(f"mirror: {n.rows} rows, {n.periods_replaced} periods replaced, {raised} new alerts", highlight=False)


@load_app.command("watchlist")
def load_watchlist(
    path: Annotated[Path, typer.Argument(help="FollowTheMoney entities, JSON Lines (as OpenSanctions publishes).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """A new version of the watch list: replaces the old one and re-screens every counterparty at once."""
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import rerun_rules
    from oretrail.screening.store import load_watchlist as load

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(str(exc))
    raised = rerun_rules(engine, "screening.", config)
    err.print(
        f"watch list version {n.version}: {n.entities} entities ({n.added} added, {n.removed} removed), "
        f"{raised} new alerts",
        highlight=False,
    )
