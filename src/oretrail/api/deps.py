"""Request-scoped access to the one database the server was started on."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Connection, Engine


def engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


def reader(request: Request) -> Iterator[Connection]:
    with engine(request).connect() as conn:
        yield conn
