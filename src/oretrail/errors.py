"""The one error every feed parser raises when it refuses input.

A refusal goes back to the sender, usually a clerk at an enterprise or a department, so the message must
say which file, which record, which field and what to do, on one line, without a stack trace.
"""

from __future__ import annotations

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024
"""Larger documents are refused before parsing: a capture must not hold the process hostage, and senders
can always split a batch."""


class IntakeError(ValueError):
    """Input refused by layers 1–3 of intake (DESIGN.md): nothing from the document is kept.

    `index` is the event's position in the document's eventList (0-based, as in the JSON path), or for
    line-oriented feeds the 1-based line number; `unit` says which of the two it is, for the message.
    """

    def __init__(
        self, document: str, index: int | None, field: str | None, reason: str, *, unit: str = "event"
    ) -> None:
        self.document = document
        self.index = index
        self.field = field
        self.reason = reason
        self.unit = unit
        super().__init__(self._line())

    def _line(self) -> str:
        where = self.document
        if self.index is not None:
            where += f" {self.unit} {self.index}"
        if self.field:
            where += f" field {self.field}"
        return f"{where}: {self.reason}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps the error intact across process boundaries (worker pools re-raise it in the parent).
        return (_rebuild, (self.document, self.index, self.field, self.reason, self.unit))


def _rebuild(document: str, index: int | None, field: str | None, reason: str, unit: str) -> IntakeError:
    return IntakeError(document, index, field, reason, unit=unit)
