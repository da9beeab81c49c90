"""One way to print, the same on every command: `--format table|json|jsonl|csv`, on consoles that never wrap
what goes to a pipe or a file.

Rows (listings) and single records (the report of a load, a verdict, an explanation) go through `emit`; a
refusal or any other error goes through `emit_error`. Machine formats are written verbatim to stdout (errors
to stderr); `table` is for people: a Rich table, or the command's plain words.
"""

from __future__ import annotations

import csv
import dataclasses
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import orjson
from rich.console import Console, ConsoleDimensions, RenderableType
from rich.table import Table
from rich.text import Text

from oretrail.errors import IntakeError
from oretrail.i18n.message import Message, Said, text
from oretrail.i18n.words import normal_lang

_READER = {"lang": "en"}  # the language of this invocation's reader, set once by the CLI (`--lang`)

# Column headings of the tables people read (a machine format keeps the field names as they are).
HEADINGS = {
    name: Message(f"column.{name}", name.replace("_", " "))
    for name in (
        "id", "rule", "severity", "subject", "jurisdiction", "departments", "message", "findings", "new_alerts",
        "what", "count", "document", "index", "event_id", "outcome", "departures", "read_as", "field", "reason",
        "status", "level", "province", "department", "user", "role", "created", "expires", "key", "actor",
        "action", "at", "note", "issued_at", "title", "until", "acknowledged", "name", "score", "list_version",
        # accounts, keys, audit, signing, notifications, supervision, screening, export, evaluation
        "alerts", "api", "assigned_at", "basis", "body", "bulletin_id", "caught_up", "channel", "client",
        "closed_on", "created_at", "declaration_no", "delivered", "destination", "detail", "disabled_at",
        "due_on", "enterprise", "entity_id", "expires_at", "failed_attempts", "failures", "failures_in_a_row",
        "files_written", "found", "handed_over_by", "item", "key_id", "kind", "label", "labels", "last_error",
        "matched_name", "object", "overdue", "parties", "pending", "position", "precision", "public_key", "query",
        "reasons", "recall", "reminders", "removed", "replaces", "revoked_at", "risk", "risk_score", "rows", "rules",
        "seed", "selection", "seq", "signs_after_record", "since", "subjects", "table", "top", "topic", "url",
    )
}  # fmt: skip
ERROR = Message("output.error", "error")
REJECTED = Message("output.rejected", "rejected")
YES = Message("output.yes", "yes")
NO = Message("output.no", "no")
TITLES = {
    "alerts": Message("table.alerts", "alerts"),
    "scan": Message("table.scan", "scan"),
    "oretrail summary": Message("table.summary", "oretrail summary"),
    "users": Message("table.users", "users"),
    "keys": Message("table.keys", "keys"),
    "audit": Message("table.audit", "audit"),
}


def speak(lang: str | None) -> None:
    """Whom the tables and refusals of this process are for: zh or en."""
    _READER["lang"] = normal_lang(lang)


def reader_lang() -> str:
    return _READER["lang"]


def heading(column: str) -> str:
    found = HEADINGS.get(column)
    return found.render(reader_lang()) if found is not None else column


def title_of(title: str | Message | Said | None) -> str | None:
    """A table's title in the reader's words: a message (or what one says), or one of `TITLES` by its English."""
    if title is None or isinstance(title, Message | Said):
        return None if title is None else text(title, reader_lang())
    found = TITLES.get(title)
    return found.render(reader_lang()) if found is not None else title


UNWRAPPED_WIDTH = 1_000_000
"""The width a console assumes when it does not write to a terminal: wide enough that nothing wraps."""


class Format(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


class _Console(Console):
    """A Rich console that wraps at the terminal's width on a terminal and nowhere else.

    Rich assumes 80 columns when it cannot measure the output, and breaks long lines there: a refused
    document's message, written to a log, broke in the middle of its URI, and grep no longer found it.
    """

    @property
    def size(self) -> ConsoleDimensions:
        dims = super().size
        if self.is_terminal or self._width is not None:
            return dims
        return ConsoleDimensions(UNWRAPPED_WIDTH, dims.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr) that follows sys.stdout/sys.stderr as they are when it prints."""
    return _Console(stderr=stderr, highlight=False)


def refusal(exc: IntakeError) -> dict[str, Any]:
    """A refused input as data: which document (or file), which event index (or line), which field, why."""
    if exc.unit == "line":
        return {"file": exc.document, "line": exc.index, "field": exc.field, "reason": exc.reason, "code": exc.code}
    return {"document": exc.document, "index": exc.index, "field": exc.field, "reason": exc.reason, "code": exc.code}


def _json_default(obj: Any) -> Any:
    if isinstance(obj, set | frozenset):
        return sorted(obj)
    if isinstance(obj, tuple):
        return list(obj)
    if isinstance(obj, IntakeError):
        return refusal(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def dumps(obj: Any, indent: bool = False) -> str:
    opt = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z | (orjson.OPT_INDENT_2 if indent else 0)
    return orjson.dumps(obj, default=_json_default, option=opt).decode()


def as_record(obj: Any) -> dict[str, Any]:
    """A mapping, or a dataclass by its fields (whatever fields it has today, so new ones show up unasked)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return dict(obj)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting like a formula (a consignee named
    `=cmd|' /C calc'!A0`) gets a leading apostrophe, as OWASP's CSV-injection advice says. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _shown(value: Any) -> str:
    """A table cell as people read it: nothing for a missing value, yes or no in the reader's words."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return (YES if value else NO).render(reader_lang())
    return str(value)


def emit(
    data: Sequence[Mapping[str, Any]] | Mapping[str, Any] | Any,
    fmt: Format,
    title: str | Message | Said | None = None,
    console: Console | None = None,
    text: str | RenderableType | None = None,
) -> None:
    """Write rows (a sequence) or one record (a mapping or a dataclass) in `fmt`.

    `table` prints `text` when the command has plain words for people (on `console`, stdout by default),
    and otherwise a table of the rows. A single record is one JSON object, one JSON line, or one CSV row.
    """
    single = not isinstance(data, Sequence)
    rows = [as_record(data)] if single else [as_record(r) for r in data]
    if fmt is Format.json:
        sys.stdout.write(dumps(rows[0] if single else rows, indent=True) + "\n")
    elif fmt is Format.jsonl:
        sys.stdout.write("".join(dumps(r) + "\n" for r in rows))
    elif fmt is Format.csv:
        cols = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(sys.stdout, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(dumps(v) if isinstance(v, list | tuple | dict) else v) for k, v in r.items()})
    else:
        console = console or _STDOUT
        if text is not None:
            console.print(Text(text) if isinstance(text, str) else text)
            return
        table = Table(title=title_of(title), show_lines=False)
        cols = list(dict.fromkeys(k for r in rows for k in r))
        for c in cols:
            table.add_column(heading(c))
        for r in rows:
            table.add_row(*(Text(_shown(r.get(c))) for c in cols))
        console.print(table)


def emit_error(
    error: IntakeError | str | Said, fmt: Format, console: Console | None = None, prefix: Message = ERROR
) -> None:
    """An error on stderr: one JSON object per line in json/jsonl (a refusal by its document, index, field,
    reason and code, in English), otherwise `prefix: message` in the reader's words."""
    if fmt in (Format.json, Format.jsonl):
        obj = refusal(error) if isinstance(error, IntakeError) else {"error": text(error)}
        sys.stderr.write(dumps(obj) + "\n")
        return
    lang = reader_lang()
    words = error.text(lang) if isinstance(error, IntakeError) else text(error, lang)
    line = Text.assemble((f"{prefix.render(lang)}:", "red"), " ", words)
    (console or _STDERR).print(line)


_STDOUT = console()
_STDERR = console(stderr=True)
