"""`oretrail load …`: every feed of SPEC.md §1. Each file (or EPCIS document) lands whole or not at all,
and the rules run for what it changed in the same transaction, so alerts appear as evidence lands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from oretrail.cli.common import ConfigOption, DbOption, FormatOption, err, fail, load_app, open_db, progress
from oretrail.errors import IntakeError
from oretrail.output import Format, as_record, emit, emit_error


@load_app.command("events")
def load_events(
    paths: Annotated[list[Path], typer.Argument(help="EPCIS 2.0 JSON/JSON-LD documents, or folders of them.")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Capture EPCIS documents; each document lands whole or not at all; rejected ones are named on stderr."""
    from oretrail.ledger.checkpoints import SigningKeyError
    from oretrail.pipeline import Capture, CaptureReport, document_paths
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        files = document_paths(paths)
        capture = Capture(engine, load_settings(config))
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    except SigningKeyError as exc:
        fail(str(exc), fmt=fmt)
    total = CaptureReport()
    with progress() as bar:
        task = bar.add_task("events", total=len(files), detail="")
        for report in capture.documents(files):
            total.add(report)
            for refused in report.errors:
                emit_error(refused, fmt, err, prefix="rejected")
            bar.update(task, advance=1, detail=f"{total.new:,} new events, {total.alerts_new:,} alerts")
    emit(  # machine formats: one row per event (what became of it); a table: the counts in words
        [o.row() for o in total.outcomes],
        fmt,
        console=err,
        text=f"{total.documents} documents: {total.new} new events, {total.unchanged} unchanged, "
        f"{total.corrections} corrections, {total.alerts_new} new alerts ({capture.judged.withdrawn} withdrawn, "
        f"{capture.judged.settled} settled), {len(total.errors)} rejected documents",
    )
    if total.errors:
        raise typer.Exit(1)


@load_app.command("registry")
def load_registry(
    path: Annotated[Path, typer.Argument(help="Enterprises and facilities, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Enterprises and facilities; re-importing updates, never duplicates. The rules that read the registry
    are judged again."""
    from oretrail.pipeline import rejudge
    from oretrail.registry.store import load_registry as load
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    judged = rejudge(engine, "registry", load_settings(config))
    _report(
        {"file": str(path), **as_record(n), "alerts_new": len(judged.new), "withdrawn": judged.withdrawn},
        fmt,
        f"registry: {n.new} new, {n.changed} changed, {n.unchanged} unchanged, {len(judged.new)} new alerts",
    )


def _lines(path: Path) -> list[bytes]:
    """The file's lines; a file that cannot be read is refused like any other input, naming the file."""
    try:
        return path.read_bytes().splitlines()
    except OSError as exc:
        raise IntakeError(str(path), None, None, exc.strerror or str(exc), unit="line") from None


def _report(record: dict[str, Any], fmt: Format, words: str) -> None:
    """What a load did: the record on stdout in a machine format, the words on stderr in a table."""
    emit(record, fmt, console=err, text=words)


def _trade(kind: str, path: Path, db: str | None, config: Path | None, fmt: Format) -> None:
    from oretrail.pipeline import load_trade
    from oretrail.rules.config import load_settings

    try:
        counts = load_trade(open_db(db), kind, _lines(path), str(path), load_settings(config))
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    _report({"file": str(path), **counts}, fmt, f"{kind}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@load_app.command("licences")
def load_licences(
    path: Annotated[Path, typer.Argument(help="Export licences, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Export licences (Ministry of Commerce); screened against the watch list as they land."""
    _trade("licences", path, db, config, fmt)


@load_app.command("declarations")
def load_declarations(
    path: Annotated[Path, typer.Argument(help="Customs export declarations, JSON Lines (SPEC.md §1).")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Customs export declarations; licence drawdown and the licence rules run as they land."""
    _trade("declarations", path, db, config, fmt)


@load_app.command("mirror")
def load_mirror(
    path: Annotated[Path, typer.Argument(help="Partner import statistics, UN Comtrade bulk CSV columns.")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Partners' reported imports from China; a reload of a period replaces it. Mirror rules run after."""
    from oretrail.mirror.store import load_mirror as load
    from oretrail.pipeline import rejudge
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    raised = len(rejudge(engine, "mirror", load_settings(config)).new)
    skipped = "".join(f"\nmirror: {line}" for line in n.skip_report())
    _report(
        {"file": str(path), **as_record(n), "alerts_new": raised},
        fmt,
        f"mirror: {n.rows} rows, {n.periods_replaced} periods replaced, {raised} new alerts{skipped}",
    )


@load_app.command("watchlist")
def load_watchlist(
    path: Annotated[Path, typer.Argument(help="FollowTheMoney entities, JSON Lines (as OpenSanctions publishes).")],
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """A new version of the watch list: replaces the old one and re-screens every counterparty at once."""
    from oretrail.pipeline import rejudge
    from oretrail.rules.config import load_settings
    from oretrail.screening.store import load_watchlist as load

    engine = open_db(db)
    try:
        n = load(engine, _lines(path), str(path))
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    raised = len(rejudge(engine, "watchlist", load_settings(config)).new)
    _report(
        {"file": str(path), **as_record(n), "alerts_new": raised},
        fmt,
        f"watch list version {n.version}: {n.entities} entities ({n.added} added, {n.removed} removed), "
        f"{raised} new alerts",
    )
