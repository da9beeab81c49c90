"""One way to print rows, the same on every command: `--format table|json|jsonl|csv`."""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _json_default(obj: Any) -> Any:
    if isinstance(obj, set | frozenset | tuple):
        return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def dumps(obj: Any, indent: bool = False) -> str:
    opt = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(obj, default=_json_default, option=opt).decode()


def emit(rows: Sequence[dict[str, Any]], fmt: Format, title: str | None = None, console: Console | None = None) -> None:
    if fmt is Format.json:
        sys.stdout.write(dumps(list(rows), indent=True) + "\n")
    elif fmt is Format.jsonl:
        sys.stdout.write("".join(dumps(r) + "\n" for r in rows))
    elif fmt is Format.csv:
        cols = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(sys.stdout, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: dumps(v) if isinstance(v, list | dict) else v for k, v in r.items()})
    else:
        console = console or Console()
        table = Table(title=title, show_lines=False)
        cols = list(dict.fromkeys(k for r in rows for k in r))
        for c in cols:
            table.add_column(c)
        for r in rows:
            table.add_row(*("" if r.get(c) is None else str(r.get(c)) for c in cols))
        console.print(table)
