"""What a page says when it cannot show or do what was asked: to a browser a page in its language, to any
other client the platform's problem document (`application/problem+json`).

A page error carries a declared message (`Said`), never finished English: the page and the problem's
`detail` render it in the reader's language when they answer, the audit log keeps its English, and its key
is the problem's `code`, what a program dispatches on whatever the language. The refusals the pages share
with the API are the API's own messages (`access.denied` from the permission table, `access.out_of_sight`
and `access.no_such` for one object), so a page and the API say no in the same words.
"""

from __future__ import annotations

from oretrail.access.caller import Caller
from oretrail.access.scope import unconstrained
from oretrail.api.auth import NO_SUCH, NOT_AMONG, OBJECTS, OUT_OF_SIGHT, VERBS
from oretrail.i18n.message import Message, Said


class PageError(Exception):
    """`key` is the message of the page's heading (web.*), `said` the reason; `code` the reason's key unless
    a finer one is given (an intake refusal's own code)."""

    status = 400
    key = "web.error.bad_request"

    def __init__(self, said: Said, *, code: str | None = None) -> None:
        super().__init__(said)
        self.said = said
        self.code = code or said.key

    @property
    def detail(self) -> str:
        """The reason in English, for the audit log."""
        return self.said.render("en")


class Denied(PageError):
    status = 403
    key = "web.error.denied"


class NotFound(PageError):
    status = 404
    key = "web.error.not_found"


class BadInput(PageError):
    status = 422
    key = "web.error.bad_request"


# Objects of the pages that the API's refusals (api/auth.py OBJECTS) do not name.
PAGE_OBJECTS = {
    "action": Message("object.corrective_action", "corrective action {id}"),
    "upload": Message("object.upload", "upload {id}"),
}


def out_of_sight(who: Caller, action: str, kind: str, ident: str, *, thing: str | None = None) -> PageError:
    """One object the reader cannot `action`: "no such" for a reader who may `action` every object of the
    `kind` (it does not exist), "not among yours" for a narrowed view, whether or not it exists, so that ids
    cannot be probed (the API's `out_of_sight`). `thing` names the object when it is not of the kind itself
    (a corrective action, an upload)."""
    named = (OBJECTS | PAGE_OBJECTS)[thing or kind](id=ident)
    if unconstrained(who, action, kind):
        return NotFound(NO_SUCH(object=named))
    verb = VERBS["act" if action == "act" else "read"]()
    return Denied(OUT_OF_SIGHT(denied=NOT_AMONG(object=named, user=who.user, action=verb), scope=who.scope()))
