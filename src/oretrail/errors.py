"""The one error every feed parser raises when it refuses input.

A refusal goes back to the sender, usually a clerk at an enterprise or a department, so the message must
say which file, which record, which field and what to do, on one line, without a stack trace.
"""

from __future__ import annotations

from oretrail.i18n.message import Message, Said

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
"""Larger documents are refused before parsing: a capture must not hold the process hostage, and senders
can always split a batch."""


REFUSED = Message("intake.refused", "{where}: {reason}")
WHERE_EVENT = Message("intake.where.event", "{document} event {index}")
WHERE_LINE = Message("intake.where.line", "{document} line {index}")
WHERE_FIELD = Message("intake.where.field", "{where} field {field}")
# Reasons more than one feed gives.
YEARS = Message("intake.years", "{value} is outside the years {earliest}-{latest}")
TWICE = Message("intake.twice", "{kind:term} {key} appears twice with different content")


class IntakeError(ValueError):
    """Input refused by layers 1–3 of intake (DESIGN.md): nothing from the document is kept.

    `index` is the event's position in the document's eventList (0-based, as in the JSON path), or for
    line-oriented feeds the 1-based line number; `unit` says which of the two it is, for the message.
    `reason` is English (what logs and `str()` show); a reason given as a message (`Said`) also reads in
    Chinese (`text(lang)`), and its key is the refusal's stable `code` for programs.
    """

    def __init__(
        self, document: str, index: int | None, field: str | None, reason: str | Said, *, unit: str = "event"
    ) -> None:
        self.document = document
        self.index = index
        self.field = field
        self.said = reason if isinstance(reason, Said) else None
        self.reason = str(reason)
        self.unit = unit
        super().__init__(self.text("en"))

    @property
    def code(self) -> str:
        """What kind of refusal this is, for a program to dispatch on (the words may change, this does not)."""
        return self.said.key if self.said is not None else "intake.refused"

    def words(self) -> Said:
        """The one line a sender reads, as a message: which document, which record, which field, and why."""
        where: str | Said = self.document
        if self.index is not None:
            where = (WHERE_LINE if self.unit == "line" else WHERE_EVENT)(document=self.document, index=self.index)
        if self.field:
            where = WHERE_FIELD(where=where, field=self.field)
        return REFUSED(where=where, reason=self.said or self.reason)

    def text(self, lang: str = "en") -> str:
        return self.words().render(lang)

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps the error intact across process boundaries (worker pools re-raise it in the parent).
        return (_rebuild, (self.document, self.index, self.field, self.said or self.reason, self.unit))


def _rebuild(document: str, index: int | None, field: str | None, reason: str | Said, unit: str) -> IntakeError:
    return IntakeError(document, index, field, reason, unit=unit)
