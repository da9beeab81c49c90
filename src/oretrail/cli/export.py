"""`oretrail export parquet DIR`: the ledger and the tables the rules read as Parquet (docs/export.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from oretrail.cli.common import DbOption, FormatOption, app, fail, helped, open_db, option_help
from oretrail.i18n.message import Message, said_of
from oretrail.output import Format, emit

export_app = typer.Typer(
    no_args_is_help=True, help=helped("export", "Write the platform's data in open columnar formats.")
)
app.add_typer(export_app, name="export")

EXPORTED = Message("table.export", "export: ledger {first} → {last}")


@export_app.command(
    "parquet",
    help=helped(
        "export parquet", "Append the ledger records since the last export and rewrite the partitions that changed."
    ),
)
def parquet(
    directory: Annotated[
        Path,
        typer.Argument(
            help=option_help("export.directory", "The export's directory; an existing export is brought up to date.")
        ),
    ],
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.export.parquet import export_parquet

    try:
        report = export_parquet(open_db(db), directory)
    except ValueError as e:  # a directory holding something else than an export of this format
        fail(said_of(e), fmt=fmt)
    rows = [
        {"table": t, "rows": report.rows[t], "files_written": report.written[t], "removed": report.removed.get(t, 0)}
        for t in report.rows
    ]
    emit(rows, fmt, title=EXPORTED(first=report.ledger_from, last=report.ledger_to))
