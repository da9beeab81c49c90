"""The gettext catalogue of translations, read with Babel (no compile step: the .po is the shipped file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from oretrail.i18n.words import normal_lang

if TYPE_CHECKING:
    from oretrail.i18n.message import Message

LOCALE_DIR = Path(__file__).parent / "locale"
PO_LOCALE = "zh_CN"  # the catalogue of the one language translated from the English source
DOMAIN = "oretrail"


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalogue(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@cache
def _translations(lang: str) -> dict[str, tuple[str, str]]:
    """key -> (English it translates, translation); fuzzy entries are not translations."""
    out = {}
    for m in catalogue(lang):
        if m.id and m.context and not m.fuzzy and isinstance(m.string, str) and m.string:
            out[m.context] = (str(m.id), m.string)
    return out


def template(message: Message, lang: str) -> str:
    """The text to format in `lang`. A translation of a different English (the source changed since) is not
    used: showing an outdated sentence would tell an officer something the code no longer says."""
    if normal_lang(lang) == "en":
        return message.en
    found = _translations(PO_LOCALE).get(message.key)
    if found is None or found[0] != message.en:
        return message.en
    return found[1]
