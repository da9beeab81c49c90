"""What every command shares: the app, the `--db` and `--format` options, consoles and progress bars."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine

from oretrail.output import Format

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="oretrail: full-chain export control of strategic minerals (registry, ledger, trace, alerts).",
)
load_app = typer.Typer(no_args_is_help=True, help="Load a feed (SPEC.md §1) into the database.")
app.add_typer(load_app, name="load")

out = Console()
err = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="ORETRAIL_DB", help="Database URL; default a SQLite file oretrail.db here."),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML file overriding the rules' defaults (rules/defaults.toml).")
]


def open_db(db: str | None) -> Engine:
    from oretrail.storage.engine import open_database

    return open_database(db)


def progress(console: Console | None = None) -> Progress:
    """Rich progress on stderr; shown on a terminal, or anywhere with ORETRAIL_PROGRESS=1."""
    console = console or err
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=console,
        disable=not (console.is_terminal or os.environ.get("ORETRAIL_PROGRESS") == "1"),
    )


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)
