"""`oretrail screen`: names checked ad hoc against the loaded watch list, before a licence is granted."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from oretrail.cli.common import ConfigOption, DbOption, FormatOption, app, fail, open_db
from oretrail.errors import IntakeError
from oretrail.i18n.message import said_of
from oretrail.output import Format, emit


def _names_from(path: Path) -> list[str]:
    """One name a line; blank lines skipped; `-` reads standard input. A line without a letter or digit is
    an error naming the file and line, since screening it would silently report "no hit"."""
    from oretrail.screening.store import NOTHING_TO_SCREEN

    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    names = []
    for number, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if not name:
            continue
        if not any(ch.isalnum() for ch in name):
            fail(IntakeError(str(path), number, "name", NOTHING_TO_SCREEN(name=name), unit="line"))
        names.append(name)
    return names


@app.command()
def screen(
    names: Annotated[list[str] | None, typer.Argument(help="Names to screen (counterparty, consignee...).")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A UTF-8 file of names, one a line; '-' for standard input.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option("--threshold", min=0.0, max=1.0, help="Score from which a name matches; default the config's."),
    ] = None,
    db: DbOption = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Screen names against the loaded watch list; `--format jsonl` writes one hit a line
    (query, entity_id, matched_name, score). Names in any script: Chinese, Cyrillic, Greek, Arabic..."""
    from oretrail.rules.config import load_config
    from oretrail.screening.store import NoWatchlist, screen_names

    queries = [n.strip() for n in names or [] if n.strip()] + (_names_from(file) if file is not None else [])
    if not queries:
        fail("no name to screen: give names as arguments or --file F")
    cutoff = threshold if threshold is not None else load_config(config).screening_threshold
    with open_db(db).connect() as conn:
        try:
            _, hits = screen_names(conn, queries, cutoff)
        except NoWatchlist as exc:
            fail(said_of(exc))
    rows = [
        {"query": h.query, "entity_id": h.entity_id, "matched_name": h.matched_name, "score": h.score} for h in hits
    ]
    emit(rows, fmt, title=f"screening hits (threshold {cutoff:.2f})")
