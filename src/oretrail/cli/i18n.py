"""`oretrail i18n check|update`: the gettext catalogue kept in step with the messages the code can say."""

from __future__ import annotations

import importlib
import pkgutil

import typer

import oretrail
from oretrail.cli.common import EXIT_REFUSED, app, out
from oretrail.i18n.catalogue import PO_LOCALE, po_path
from oretrail.i18n.message import MESSAGES
from oretrail.i18n.po import gaps, updated, write

i18n_app = typer.Typer(no_args_is_help=True, help="Translations (简体中文) of what officers read.")
app.add_typer(i18n_app, name="i18n")


def declare_all() -> None:
    """Import every module, so every message the code can say is declared."""
    for info in pkgutil.walk_packages(oretrail.__path__, "oretrail."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)


@i18n_app.command("check")
def check() -> None:
    """Exit 1 when a message has no current translation, or the catalogue holds one for no message."""
    declare_all()
    problems = gaps(MESSAGES.values(), PO_LOCALE)
    for p in problems:
        out.print(p, markup=False, highlight=False)
    out.print(f"{len(MESSAGES)} messages, {len(problems)} problems", markup=False)
    if problems:
        raise typer.Exit(EXIT_REFUSED)


@i18n_app.command("update")
def update() -> None:
    """Rewrite the catalogue: new messages added untranslated, changed English marked fuzzy, gone ones dropped."""
    declare_all()
    catalogue = updated(MESSAGES.values(), PO_LOCALE)
    write(catalogue, po_path(PO_LOCALE))
    out.print(f"{len(catalogue)} entries written to {po_path(PO_LOCALE)}", markup=False)
