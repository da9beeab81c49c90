"""Request-scoped access to the one database the server was started on."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Connection, Engine
from starlette.requests import HTTPConnection

from oretrail.i18n.words import normal_lang


def engine(request: HTTPConnection) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def reader(request: Request) -> Iterator[Connection]:
    with engine(request).connect() as conn:
        yield conn


def lang(request: HTTPConnection) -> str:
    """The reader's language from `Accept-Language` (zh or en, by the client's preference order); English when
    the header names neither."""
    return lang_of(request.headers.get("accept-language", ""))


def lang_of(header: str) -> str:
    """`lang` of an `Accept-Language` header's value."""
    from babel import negotiate_locale

    preferred = [
        part.split(";")[0].strip().replace("-", "_")
        for part in sorted(header.split(","), key=lambda p: -_quality(p))
        if part.strip()
    ]
    chosen = negotiate_locale(preferred, ["zh_CN", "zh", "en"], sep="_")
    return normal_lang(chosen or "en")


def _quality(part: str) -> float:
    for param in part.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0
