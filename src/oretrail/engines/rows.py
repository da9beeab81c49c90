"""What the rules read back from a statement, for an engine that is not a SQLAlchemy connection.

The rules use a small part of SQLAlchemy's `Connection` and `Result`: `execute(statement, params)`, then
iteration over rows with attribute access and tuple unpacking, `all`, `first`, `scalar`, `scalar_one` and
`scalars`. `Statements` gives exactly that over any function that runs a compiled statement and answers
column names and value tuples, so the rule code is the same code whichever engine answers it.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy.engine.interfaces import Dialect

Run = Callable[[Any, dict[str, Any] | None], tuple[list[str], list[tuple[Any, ...]]]]


class Rows:
    def __init__(self, names: Sequence[str], values: list[tuple[Any, ...]]) -> None:
        row = namedtuple("Row", [n or "_" for n in names], rename=True)  # type: ignore[misc]
        self._rows: list[Any] = [row(*v) for v in values]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    fetchall = all

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) != 1:
            raise ValueError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        if len(self._rows) > 1:
            raise ValueError(f"expected at most one row, got {len(self._rows)}")
        return self.scalar()

    def scalars(self) -> Scalars:
        return Scalars([r[0] for r in self._rows])


class Scalars:
    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def all(self) -> list[Any]:
        return list(self._values)

    def first(self) -> Any:
        return self._values[0] if self._values else None


class Statements:
    """A read-only stand-in for `Connection`: the rules never write, and this one cannot."""

    def __init__(self, dialect: Dialect, run: Run) -> None:
        self.dialect = dialect
        self._run = run

    def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> Rows:
        names, values = self._run(statement, parameters)
        return Rows(names, values)

    def scalar(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        return self.execute(statement, parameters).scalar()
