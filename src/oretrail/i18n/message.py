"""A message is a key with English source text; what is said is a key with parameters, rendered when read.

Alerts are evidence kept for years and read by officers in either language, so they are stored as
`Said(key, params)` and rendered on reading, never as finished English (a wording fixed later reaches old
alerts too). The English text lives beside the code that says it (a rule's wording belongs to the rule); the
Chinese lives in the gettext catalogue `locale/zh_CN/LC_MESSAGES/oretrail.po`, keyed by message key
(msgctxt) and English text (msgid), so an English wording changed without its translation is caught by
tests/test_i18n.py instead of showing stale Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from oretrail.i18n.words import LANGS, render_text

MESSAGES: dict[str, Message] = {}  # every message the code can say, by key


@dataclass(frozen=True)
class Message:
    key: str
    en: str

    def __post_init__(self) -> None:
        known = MESSAGES.get(self.key)
        if known is not None and known.en != self.en:
            raise ValueError(f"message key {self.key!r} declared twice with different English")
        MESSAGES[self.key] = self

    def __call__(self, **params: Any) -> Said:
        return Said(self.key, params)

    def __str__(self) -> str:
        return self.render()

    def render(self, lang: str = "en", **params: Any) -> str:
        return Said(self.key, params).render(lang)


@dataclass(frozen=True)
class Said:
    """A message with its parameters: plain JSON values, other `Said`s, or lists of either."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def render(self, lang: str = "en") -> str:
        from oretrail.i18n.catalogue import template

        message = MESSAGES.get(self.key)
        if message is None:
            raise KeyError(f"no message {self.key!r}: the module that declares it was not imported")
        params = {k: _rendered(v, lang) for k, v in self.params.items()}
        try:
            return render_text(template(message, lang), params, lang)
        except (KeyError, IndexError, ValueError, TypeError):
            # A stored alert whose parameters no longer fit its message (written by an older or foreign
            # version): show what is there rather than fail the officer's whole queue.
            return f"{self.key}: {dict(self.params)}"

    def __str__(self) -> str:
        return self.render("en")

    def __contains__(self, text: str) -> bool:
        return text in self.render("en")

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "params": {k: _json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Said:
        return cls(str(data["key"]), {k: _unjson(v) for k, v in dict(data.get("params") or {}).items()})


def _rendered(value: Any, lang: str) -> Any:
    if isinstance(value, Said):
        return value.render(lang)
    if isinstance(value, list | tuple):
        return [_rendered(v, lang) for v in value]
    return value


def _json(value: Any) -> Any:
    if isinstance(value, Said):
        return {"$said": value.to_json()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _unjson(value: Any) -> Any:
    if isinstance(value, dict) and "$said" in value:
        return Said.from_json(value["$said"])
    if isinstance(value, list):
        return [_unjson(v) for v in value]
    return value


def text(message: Message | Said | str, lang: str = "en") -> str:
    """Whatever the caller holds, as words in `lang`."""
    if isinstance(message, Message | Said):
        return message.render(lang)
    return message


def said_of(exc: BaseException) -> Said | str:
    """What an exception says: the message it was raised with (`raise KeyRejected(REVOKED(key=...))`, whose
    `str()` is the English), else its text."""
    first = exc.args[0] if exc.args else None
    return first if isinstance(first, Said) else str(exc)


__all__ = ["LANGS", "MESSAGES", "Message", "Said", "said_of", "text"]
