"""`oretrail i18n check|update`: the gettext catalogue kept in step with the messages the code can say."""

from __future__ import annotations

import importlib
import pkgutil

import typer
import typer.main

import oretrail
from oretrail.cli.common import EXIT_REFUSED, app, helped, lang, out
from oretrail.i18n.catalogue import PO_LOCALE, po_path
from oretrail.i18n.message import MESSAGES, Message
from oretrail.i18n.po import gaps, updated, write

i18n_app = typer.Typer(no_args_is_help=True, help=helped("i18n", "Translations (简体中文) of what officers read."))
app.add_typer(i18n_app, name="i18n")

CHECKED = Message("cli.i18n.checked", "{messages} messages, {problems} problems")
WRITTEN = Message("cli.i18n.written", "{entries} entries written to {path}")


def declare_all() -> None:
    """Import every module, so every message the code can say is declared; and build the command, since the
    help of options is declared in annotations that Typer evaluates only then (postponed by `from __future__
    import annotations`)."""
    for info in pkgutil.walk_packages(oretrail.__path__, "oretrail."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
    typer.main.get_command(app)


@i18n_app.command(
    "check",
    help=helped(
        "i18n check", "Exit 1 when a message has no current translation, or the catalogue holds one for no message."
    ),
)
def check() -> None:
    declare_all()
    problems = gaps(MESSAGES.values(), PO_LOCALE)
    for p in problems:
        out.print(p, markup=False, highlight=False)
    out.print(CHECKED.render(lang(), messages=len(MESSAGES), problems=len(problems)), markup=False)
    if problems:
        raise typer.Exit(EXIT_REFUSED)


@i18n_app.command(
    "update",
    help=helped(
        "i18n update",
        "Rewrite the catalogue: new messages added untranslated, changed English marked fuzzy, gone ones dropped.",
    ),
)
def update() -> None:
    declare_all()
    catalogue = updated(MESSAGES.values(), PO_LOCALE)
    write(catalogue, po_path(PO_LOCALE))
    out.print(WRITTEN.render(lang(), entries=len(catalogue), path=str(po_path(PO_LOCALE))), markup=False)
