"""What a page says when it cannot show what was asked: to a browser a page in its language, to any other
client the platform's problem document (`application/problem+json`)."""

from __future__ import annotations


class PageError(Exception):
    """`key` is the message of the page's heading (web.*), `detail` the reason in words the log keeps."""

    status = 400
    key = "web.error.bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Denied(PageError):
    status = 403
    key = "web.error.denied"


class NotFound(PageError):
    status = 404
    key = "web.error.not_found"


class BadInput(PageError):
    status = 422
    key = "web.error.bad_request"
