"""`oretrail load …`: every feed of SPEC.md §1. Each file (or EPCIS document) lands whole or not at all,
and the rules run for what it changed in the same transaction, so alerts appear as evidence lands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oretrail.cli.common import ConfigOption, DbOption, err, fail, load_app, open_db, progress


@load_app.command("events")
def load_events(
    paths: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON/JSON-LD documents, or folders of them.")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Capture EPCIS documents; each document lands whole or not at all; rejected ones are named on stderr."""
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import Capture, CaptureReport, document_paths
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        files = document_paths(paths)
    except IntakeError as exc:
        fail(str(exc))
    capture = Capture(engine, load_settings(config))
    total = CaptureReport()
    with progress() as bar:
        task = bar.add_task("events", total=len(files), detail="")
        for report in capture.documents(files):
            total.add(report)
            for exc in report.errors:
                err.print(f"[red]rejected[/red] {exc}", highlight=False)
            bar.update(task, advance=1, detail=f"{total.new:,} new events, {total.alerts_new:,} alerts")
    err.print(
        f"{total.documents} documents: {total.new} new events, {total.unchanged} unchanged, "
        f"{total.corrections} corrections, {total.alerts_new} new alerts ({capture.judged.withdrawn} withdrawn, "
        f"{capture.judged.settled} settled), {len(total.errors)} rejected documents",
        highlight=False,
    )
    if total.errors:
        raise typer.Exit(1)


@load_app.command("registry")
def load_registry(
    path: Annotated[Path, typer.Argument(help="Enterprises and facilities, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """Enterprises and facilities; re-importing updates, never duplicates. The rules that read the registry
    are judged again."""
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import rejudge
    from oretrail.registry.store import load_registry as load
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(str(exc))
    judged = rejudge(engine, "registry", load_settings(config))
    err.print(
        f"registry: {n.new} new, {n.changed} changed, {n.unchanged} unchanged, {len(judged.new)} new alerts, "
        f"{judged.withdrawn} withdrawn",
        highlight=False,
    )


def _lines(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().splitlines()
    except OSError as exc:
        fail(str(exc))


def _trade(kind: str, path: Path, db: str | None, config: Path | None) -> None:
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import load_trade
    from oretrail.rules.config import load_settings

    try:
        counts = load_trade(open_db(db), kind, _lines(path), str(path), load_settings(config))
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
    from oretrail.pipeline import rejudge
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(str(exc))
    raised = len(rejudge(engine, "mirror", load_settings(config)).new)
    err.print(f"mirror: {n.rows} rows, {n.periods_replaced} periods replaced, {raised} new alerts", highlight=False)
    for line in n.skip_report():
        err.print(f"mirror: {line}", highlight=False)


@load_app.command("watchlist")
def load_watchlist(
    path: Annotated[Path, typer.Argument(help="FollowTheMoney entities, JSON Lines (as OpenSanctions publishes).")],
    db: DbOption = None,
    config: ConfigOption = None,
) -> None:
    """A new version of the watch list: replaces the old one and re-screens every counterparty at once."""
    from oretrail.intake.errors import IntakeError
    from oretrail.pipeline import rejudge
    from oretrail.rules.config import load_settings
    from oretrail.screening.store import load_watchlist as load

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(str(exc))
    raised = len(rejudge(engine, "watchlist", load_settings(config)).new)
    err.print(
        f"watch list version {n.version}: {n.entities} entities ({n.added} added, {n.removed} removed), "
        f"{raised} new alerts",
        highlight=False,
    )
