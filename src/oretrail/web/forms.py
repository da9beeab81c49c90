"""The one way a page handler lets a request in: its audit entry named, the permission table asked, the
form read.

Every handler that shows or changes records starts with `permitted` (a page) or `posted` (a form, which
also reads it), so every request gets the same audit record (action, kind, object) and every role the table
does not allow gets the same refusal: the table's own `access.denied`, the words of the API's 403, read in
the reader's language. What is narrower than the table (this alert, this province, this enterprise) the
handler checks next, through `errors.out_of_sight` or the capture of the feed it writes to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from fastapi import Request
from starlette.datastructures import FormData, UploadFile

from oretrail.access.caller import Caller
from oretrail.access.permissions import denial
from oretrail.api.auth import AuditNote, note
from oretrail.i18n.message import MESSAGES, Message, Said
from oretrail.web.errors import BadInput, Denied

TOO_LARGE = Message("web.refused.too_large", "the file is over the {mib} MiB limit; send it in smaller parts")
NO_FILE = Message("web.refused.no_file", "{field}: choose a file to send")
# A field's refusal names it by its label on the form (a `web.*` message), in the reader's language.
REQUIRED = Message("web.invalid.required", "{field}: required")
TOO_LONG = Message("web.invalid.too_long", "{field}: at most {n} characters")
NOT_A_DATE = Message("web.invalid.date", "{field}: a date, YYYY-MM-DD (got {value:q})")
NOT_A_MONTH = Message("web.invalid.month", "{field}: a month, YYYY-MM (got {value:q})")
NOT_WHOLE = Message("web.invalid.whole", "{field}: a whole number from {low} to {high} (got {value:q})")
NOT_A_CHOICE = Message("web.invalid.choice", "{field}: {value:q} is not one of {choices:list}")


def label(key: str, **params: object) -> Said:
    """A form's label as a refusal names it: the `web.*` message the page shows above the field."""
    return MESSAGES[key](**params)


def parse_day(text: str, field: Said) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(NOT_A_DATE(field=field, value=text)) from None


def parse_month(text: str, field: Said) -> str:
    """YYYY-MM ("2025-6" read as "2025-06")."""
    try:
        return f"{datetime.strptime(text, '%Y-%m'):%Y-%m}"
    except ValueError:
        raise BadInput(NOT_A_MONTH(field=field, value=text)) from None


def parse_whole(text: str, field: Said, low: int, high: int) -> int:
    try:
        n = int(text)
    except ValueError:
        n = low - 1
    if not low <= n <= high:
        raise BadInput(NOT_WHOLE(field=field, low=low, high=high, value=text))
    return n


def permitted(request: Request, who: Caller, action: str, kind: str, obj: str = "") -> AuditNote:
    """The request's audit note, named; `Denied` when no permission of the role lets it `action` any `kind`."""
    audit = note(request)
    audit.action, audit.kind = action, kind
    if obj:
        audit.object = obj
    reason = denial(who, action, kind)
    if reason is not None:
        raise Denied(reason)
    return audit


@dataclass
class Posted:
    """A permitted form: its fields, and the audit note the handler completes (the object it made)."""

    form: FormData
    audit: AuditNote

    def text(self, name: str) -> str:
        """A text field, trimmed; "" when absent (or a file)."""
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def required(self, name: str, field: Said, limit: int) -> str:
        """A text field that must be given, at most `limit` characters."""
        value = self.text(name)
        if not value:
            raise BadInput(REQUIRED(field=field))
        if len(value) > limit:
            raise BadInput(TOO_LONG(field=field, n=limit))
        return value

    def texts(self, name: str) -> list[str]:
        """Every value of a repeated field (checkboxes, a multiple select), trimmed, empty ones dropped."""
        return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]

    def file(self, name: str, field: Said) -> UploadFile:
        value = self.form.get(name)
        if value is None or isinstance(value, str):
            raise BadInput(NO_FILE(field=field))
        return value


async def posted(
    request: Request,
    who: Caller,
    action: str,
    kind: str | Callable[[FormData], str],
    obj: str = "",
    *,
    max_bytes: int | None = None,
) -> Posted:
    """`permitted`, then the form. A `kind` that depends on the form (the feed an upload is for) is read
    from it first; a body over `max_bytes` (with room for the form's own parts) is refused unread."""
    note(request).action = action
    if isinstance(kind, str):
        permitted(request, who, action, kind, obj)
    if max_bytes is not None and int(request.headers.get("content-length") or 0) > max_bytes + 65536:
        raise BadInput(TOO_LARGE(mib=max_bytes // 2**20))
    form = await request.form()
    if not isinstance(kind, str):
        permitted(request, who, action, kind(form), obj)
    return Posted(form, note(request))
