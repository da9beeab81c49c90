"""`oretrail load FEED …`: one command per feed of SPEC.md §1, made from `feeds.FEEDS`. Each file (or EPCIS
document) lands whole or not at all, and the rules run for what it changed in the same transaction, so
alerts appear as evidence lands.

What a load did goes to stdout in a machine format (events: one row per event, what became of it; the other
feeds: one record of counts) and to stderr in words, so `oretrail load … -f jsonl | …` pipes only data."""

# Annotations are evaluated where each command is made (no `from __future__ import annotations`): Typer reads
# them, and the help text comes from the feed the command is made for.

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from oretrail.cli.common import (
    ConfigOption,
    DbOption,
    FormatOption,
    err,
    fail,
    helped,
    lang,
    load_app,
    open_db,
    option_help,
    progress,
)
from oretrail.errors import IntakeError
from oretrail.feeds import FEEDS, Feed
from oretrail.i18n.message import Message
from oretrail.output import REJECTED, Format, emit, emit_error
from oretrail.pipeline import worded

RUNNING = Message("load.running", "{new} new events, {alerts} alerts")
LANDS = "Lands whole or not at all; judged as it lands."


def _run(feed: Feed, paths: list[Path], db: str | None, config: Path | None, fmt: Format) -> None:
    from oretrail.ledger.keys import SigningKeyError
    from oretrail.rules.config import load_settings

    engine = open_db(db)
    try:
        settings = load_settings(config)
        with progress() as bar:
            task = bar.add_task(feed.name, total=None, detail="")

            def step(done: int, total: int, running: dict[str, Any]) -> None:
                detail = RUNNING.render(lang(), new=f"{running['new']:,}", alerts=f"{running['alerts_new']:,}")
                bar.update(task, completed=done, total=total, detail=detail)

            report = feed.load(engine, paths, settings, step)
    except IntakeError as exc:
        fail(exc, fmt=fmt)
    except SigningKeyError as exc:
        fail(exc.said.render(lang()), fmt=fmt)
    for refused in report.refused:
        emit_error(refused, fmt, err, prefix=REJECTED)
    rows = worded(report.rows, lang())
    emit(rows if rows is not None else report.record(), fmt, console=err, text=report.words(lang()))
    if report.refused:
        raise typer.Exit(1)


def _command(feed: Feed) -> Callable[..., None]:
    if feed.many:

        def many(
            paths: Annotated[list[Path], typer.Argument(help=option_help(f"load.{feed.name}", feed.summary))],
            db: DbOption = None,
            config: ConfigOption = None,
            fmt: FormatOption = Format.table,
        ) -> None:
            _run(feed, paths, db, config, fmt)

        return many

    def one(
        path: Annotated[Path, typer.Argument(help=option_help(f"load.{feed.name}", feed.summary))],
        db: DbOption = None,
        config: ConfigOption = None,
        fmt: FormatOption = Format.table,
    ) -> None:
        _run(feed, [path], db, config, fmt)

    return one


for _feed in FEEDS:
    load_app.command(_feed.name, help=helped(f"load {_feed.name}", f"{_feed.summary} {LANDS}"))(_command(_feed))
