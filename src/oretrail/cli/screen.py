"""`oretrail screen`: names checked ad hoc against the loaded watch list, before a licence is granted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oretrail.cli.common import ConfigOption, DbOption, FormatOption, app, fail, helped, open_db, option_help
from oretrail.i18n.message import Message, said_of
from oretrail.output import Format, emit

NOTHING_TO_SCREEN = Message(
    "cli.screen.nothing", "{file}, line {line}, field name: {name} has no letter or digit to screen"
)
NO_NAME = Message("cli.screen.no_name", "no name to screen: give names as arguments or --file F")
HITS = Message("table.screening_hits", "screening hits (threshold {threshold})")


def _names_from(path: Path) -> list[str]:
    """One name a line; blank lines skipped; `-` reads standard input. A line without a letter or digit is
    an error naming the file and line, since screening it would silently report "no hit"."""
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if not any(ch.isalnum() for ch in name):
            fail(NOTHING_TO_SCREEN(file=str(path), line=number, name=repr(name)))
        names.append(name)
    return names


@app.command(
    help=helped(
        "screen",
        "Screen names against the loaded watch list; `--format jsonl` writes one hit a line (query, entity_id, "
        "matched_name, score). Names in any script: Chinese, Cyrillic, Greek, Arabic...",
    )
)
def screen(
    names: Annotated[
        list[str] | None,
        typer.Argument(help=option_help("screen.names", "Names to screen (counterparty, consignee...).")),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help=option_help("screen.file", "A UTF-8 file of names, one a line; '-' for standard input.")
        ),
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=0.0,
            max=1.0,
            help=option_help("screen.threshold", "Score from which a name matches; default the config's."),
        ),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.rules.config import load_config
    from oretrail.screening.store import NoWatchlist, screen_names

    queries = [n.strip() for n in names or [] if n.strip()] + (_names_from(file) if file is not None else [])
    if not queries:
        fail(NO_NAME(), fmt=fmt)
    cutoff = threshold if threshold is not None else load_config(config).screening_threshold
    with open_db(db).connect() as conn:
        try:
            _, hits = screen_names(conn, queries, cutoff)
        except NoWatchlist as exc:
            fail(said_of(exc), fmt=fmt)
    rows = [
        {"query": h.query, "entity_id": h.entity_id, "matched_name": h.matched_name, "score": h.score} for h in hits
    ]
    emit(rows, fmt, title=HITS(threshold=f"{cutoff:.2f}"))
