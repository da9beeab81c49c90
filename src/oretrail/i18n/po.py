"""Keeping the catalogue in step with the code: what is missing, and the catalogue rewritten to match."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from oretrail.i18n.catalogue import DOMAIN, _translations, catalogue, po_path
from oretrail.i18n.message import Message
from oretrail.i18n.words import placeholders


def gaps(messages: Iterable[Message], locale: str) -> list[str]:
    """Every message without a current translation, every translation whose placeholders differ from its
    English, and every entry for a message the code no longer says."""
    known = {m.context: m for m in catalogue(locale) if m.id and m.context}
    problems = []
    wanted = {m.key: m for m in messages}
    for key, message in sorted(wanted.items()):
        entry = known.get(key)
        if entry is None or not entry.string:
            problems.append(f"{key}: no {locale} translation")
        elif entry.fuzzy or entry.id != message.en:
            problems.append(f"{key}: the {locale} translation is of an older English text")
        elif placeholders(str(entry.string)) != placeholders(message.en):
            problems.append(f"{key}: the {locale} translation's placeholders differ from the English")
    problems += [f"{key}: translated, but no code says it" for key in sorted(set(known) - set(wanted))]
    return problems


def updated(messages: Iterable[Message], locale: str) -> Catalog:
    old = {m.context: m for m in catalogue(locale) if m.id and m.context} if po_path(locale).exists() else {}
    new = Catalog(locale=locale, domain=DOMAIN, project="oretrail", fuzzy=False)
    for message in sorted(messages, key=lambda m: m.key):
        before = old.get(message.key)
        string = str(before.string) if before is not None and before.string else ""
        fuzzy = bool(before is not None and string and (before.fuzzy or before.id != message.en))
        new.add(message.en, string, context=message.key, flags=("fuzzy",) if fuzzy else ())
    return new


def write(cat: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, cat, width=0, sort_output=False, include_previous=False)
    catalogue.cache_clear()
    _translations.cache_clear()
