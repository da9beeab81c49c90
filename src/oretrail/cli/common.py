"""What every command shares: the app, the `--db` and `--format` options, exit codes, consoles and progress bars.

`--db` is accepted before the subcommand (`oretrail --db URL load events …`, `oretrail load --db URL events
…`) as well as after it: the option's callback keeps the value in the context's `meta`, which every
subcommand's context shares, and a command given no `--db` of its own takes it from there. The nearest wins;
then ORETRAIL_DB; then the default file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import typer.core
import typer.rich_utils
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine
from typer._click.exceptions import BadParameter, MissingParameter, NoArgsIsHelpError, NoSuchOption, UsageError

from oretrail.errors import IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.output import Format, console, emit_error, reader_lang, speak

HELP: dict[str, Message] = {}  # a command's help by its path (`alerts`, `load events`), in both languages
OPTION_HELP: dict[str, Message] = {}  # an option's or argument's help, by its English


def helped(path: str, en: str) -> str:
    """Declares the help of the command at `path` (its words in English, in Chinese in the catalogue) and
    returns the English for the decorator; `Oretrail.parse_args` puts the reader's words in place before Click
    shows it. The path of `oretrail` itself is ""."""
    HELP[path] = Message("help." + (path.replace(" ", ".") or "oretrail"), en)
    return en


def option_help(key: str, en: str) -> str:
    """Declares the help of an option or argument, like `helped`; options shared by many commands (`--db`)
    are declared once."""
    OPTION_HELP[en] = Message("help.option." + key, en)
    return en


option_help("help", "Show this message and exit.")  # Click's own --help, in the reader's words too

EXIT_REFUSED = 1
"""Input refused, or the command could not do what was asked (the message says why)."""
EXIT_TAMPERED = 2
"""`oretrail verify` found a record that is not as written."""
EXIT_NOT_FOUND = 3
"""What was asked for does not exist: an unknown lot, alert, rule, province or department."""

# Typer's own words around the help (panel titles, `[default: …]`), in the reader's language too.
PANELS = {
    "ARGUMENTS_PANEL_TITLE": Message("help.panel.arguments", "Arguments"),
    "OPTIONS_PANEL_TITLE": Message("help.panel.options", "Options"),
    "COMMANDS_PANEL_TITLE": Message("help.panel.commands", "Commands"),
    "DEFAULT_STRING": Message("help.panel.default", "[default: {value}]"),
    "REQUIRED_LONG_STRING": Message("help.panel.required", "[required]"),
    "ENVVAR_STRING": Message("help.panel.envvar", "[env var: {value}]"),
    "ERRORS_PANEL_TITLE": Message("help.panel.error", "Error"),
    "RICH_HELP": Message("help.panel.try", "Try [blue]'{command_path} {help_option}'[/] for help."),
}


# Click's refusals of a command line (Typer's copy of Click words them in English only), by what they are.
USAGE_INVALID = Message("cli.usage.invalid", "Invalid value for {param}: {reason}")
USAGE_MISSING = Message("cli.usage.missing", "Missing {kind:term} {param}.")
USAGE_NO_OPTION = Message("cli.usage.no_such_option", "No such option: {option}")
USAGE_NO_COMMAND = Message("cli.usage.no_such_command", "No such command {name}.")
USAGE_EXTRA = Message("cli.usage.extra", "Got unexpected extra argument(s) ({args})")
USAGE_NOT_ONE_OF = Message("cli.usage.not_one_of", "{value} is not one of {choices}.")
_NO_COMMAND = re.compile(r"No such command (.+)\.")
_EXTRA = re.compile(r"Got unexpected extra argument\(s\) \((.*)\)")
_NOT_ONE_OF = re.compile(r"(.+) is not one of (.+)\.")


def _reason(exc: BadParameter, lang: str) -> str:
    """Why a value was refused: pydantic's error, by its type as the API words it (`validation.*`)."""
    from pydantic import ValidationError

    from oretrail.api.epcis.problems import validation_reason

    cause = exc.__cause__
    if not isinstance(cause, ValidationError) or not cause.errors():
        return exc.message
    error = cause.errors()[0]
    choice = _NOT_ONE_OF.fullmatch(str((error.get("ctx") or {}).get("error", "")))
    if error["type"] == "value_error" and choice:
        return USAGE_NOT_ONE_OF.render(lang, value=choice[1], choices=choice[2])
    return validation_reason(error, lang)


def _worded(exc: UsageError, lang: str) -> str | None:
    """A refused command line in the reader's words, naming the option or argument; None when not known."""
    if isinstance(exc, BadParameter):
        hint = exc.param_hint or (exc.param.get_error_hint() if exc.param is not None else None)
        param = " / ".join(repr(h) for h in hint) if isinstance(hint, list | tuple) else str(hint)
        if isinstance(exc, MissingParameter):
            kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
            return USAGE_MISSING.render(lang, kind=kind, param=param)
        return USAGE_INVALID.render(lang, param=param, reason=_reason(exc, lang))
    if isinstance(exc, NoSuchOption):
        return USAGE_NO_OPTION.render(lang, option=exc.option_name)
    if found := _NO_COMMAND.fullmatch(exc.message):
        return USAGE_NO_COMMAND.render(lang, name=found[1])
    if found := _EXTRA.fullmatch(exc.message):
        return USAGE_EXTRA.render(lang, args=found[1])
    return None


@contextmanager
def _usage_in_readers_words() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise
    except UsageError as exc:
        said = _worded(exc, reader_lang())
        if said is None:
            raise
        raise UsageError(said, exc.ctx) from exc


def _arg_lang(args: list[str]) -> str | None:
    """`--lang X` or `--lang=X` (only `oretrail` itself takes it), read before Click parses anything."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


class Oretrail(typer.core.TyperGroup):
    """The root command: chooses the reader's language before Click parses the command line, because
    `--help` is eager and would otherwise be shown (at any level) before `main` runs."""

    # Typer hands its own Context (a subclass of the one of its vendored Click, which the base class names).
    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        speak(_arg_lang(args) or os.environ.get("ORETRAIL_LANG") or os.environ.get("LANG"))
        _translate_help(self, reader_lang(), ctx)
        kept = {"value": "{}", "command_path": "{command_path}", "help_option": "{help_option}"}  # Typer fills them
        for attr, message in PANELS.items():
            setattr(typer.rich_utils, attr, message.render(reader_lang(), **kept))
        with _usage_in_readers_words():
            return super().parse_args(ctx, args)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        with _usage_in_readers_words():
            return super().invoke(ctx)


app = typer.Typer(
    cls=Oretrail,
    no_args_is_help=True,
    add_completion=False,
    help=helped("", "oretrail: full-chain export control of strategic minerals (registry, ledger, trace, alerts)."),
)
load_app = typer.Typer(no_args_is_help=True, help=helped("load", "Load a feed (SPEC.md §1) into the database."))
app.add_typer(load_app, name="load")

out = console()
err = console(stderr=True)

_DB_KEY = "oretrail.db"


def _inherit_db(ctx: typer.Context, value: str | None) -> str | None:
    """This command's `--db`, else the one given before it; remembered for the commands under this one."""
    db = value or ctx.meta.get(_DB_KEY)
    if db:
        ctx.meta[_DB_KEY] = db
    return db


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        callback=_inherit_db,
        help=option_help(
            "db",
            "Database URL (sqlite:///file.db or postgresql://…); else ORETRAIL_DB, else sqlite:///oretrail.db here.",
        ),
    ),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help=option_help("format", "Output format."))]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help=option_help("config", "TOML file overriding the rules' defaults (rules/defaults.toml).")
    ),
]


def _print_version(value: bool) -> None:
    if value:
        out.print(f"oretrail {package_version('oretrail')}")
        raise typer.Exit()


def lang() -> str:
    """The reader's language: `--lang`, else ORETRAIL_LANG, else the locale of the shell (LANG), else English
    (chosen once per invocation, by `main`)."""
    return reader_lang()


def _translate_help(command: Any, lang: str, ctx: typer.Context, path: str = "") -> None:
    """Typer's commands (its own copy of Click's) by what they have: a `help`, parameters, the `--help`
    option Click makes for each (made here, as Click would, to be worded) and, for a group, `commands`."""
    found = HELP.get(path)
    if found is not None:
        command.help = found.render(lang)
        command.short_help = None
    made = command.get_help_option(ctx) if hasattr(command, "get_help_option") else None
    for param in [*getattr(command, "params", ()), *([made] if made is not None else [])]:
        english = getattr(param, "english_help", None) or getattr(param, "help", None)
        if english in OPTION_HELP:
            param.english_help = english
            param.help = OPTION_HELP[english].render(lang)
    for name, sub in dict(getattr(command, "commands", None) or {}).items():
        _translate_help(sub, lang, ctx, f"{path} {name}".strip())


@app.callback()
def main(
    db: DbOption = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--lang", help=option_help("lang", "zh or en for what officers read; else ORETRAIL_LANG, else LANG.")
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help=option_help("version", "Print the version and exit."),
        ),
    ] = False,
) -> None:
    """The language was chosen by `Oretrail.parse_args` and `--db` is kept by its callback."""


@load_app.callback()
def load(db: DbOption = None) -> None:
    """Load a feed (SPEC.md §1) into the database."""


def open_db(db: str | None) -> Engine:
    """The database of `--db` as resolved (see the module), else ORETRAIL_DB, else the default file."""
    from oretrail.storage.engine import open_database

    return open_database(db)


def progress(on: Console | None = None) -> Progress:
    """Rich progress on stderr; shown on a terminal, or anywhere with ORETRAIL_PROGRESS=1."""
    on = on or err
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=on,
        disable=not (on.is_terminal or os.environ.get("ORETRAIL_PROGRESS") == "1"),
    )


def fail(error: IntakeError | str | Said, code: int = EXIT_REFUSED, fmt: Format = Format.table) -> NoReturn:
    """Say what went wrong on stderr (a JSON object in json/jsonl) and exit with `code`."""
    emit_error(error, fmt, err)
    raise typer.Exit(code)


def not_found(what: str | Said, fmt: Format = Format.table) -> NoReturn:
    fail(what, EXIT_NOT_FOUND, fmt)
