"""Rule statements built once, not on every run.

Capture runs every rule after every document (or group of documents): thousands of runs in a national load,
each over a few hundred subjects. Building a rule's statement (the catalogue folded in as CASE maps and
literal lists, then SQLAlchemy's cache key over the whole tree) cost more than SQLite spends running it:
measured 5.7 ms of balance.transformation's 6.1 ms on a one-event scope. A statement depends only on the
catalogue, the configuration, the engine's dialect and whether the run is scoped; everything else a rule
varies per run (the clock, id chunks) is a bound parameter. So `once` keeps the statement per those four,
and SQLAlchemy, handed the same statement object again, reuses its memoised cache key and compiled form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from oretrail.rules.base import Context

T = TypeVar("T")

_BUILT: dict[tuple[Any, ...], Any] = {}
_MAX = 256  # many catalogues or configurations (tests) must not grow the cache without bound


def once(build: Callable[[Context], T]) -> Callable[[Context], T]:
    """`build(ctx)`, kept per (catalogue, configuration, dialect, scoped). `build` must read nothing else of
    the context: not the connection's data, and not the scope table's content (that is read when the
    statement runs, not when it is built)."""

    def get(ctx: Context) -> T:
        key = (build, ctx.catalogue, ctx.config, ctx.conn.dialect.name, ctx.scoped)
        try:
            return _BUILT[key]  # type: ignore[no-any-return]
        except KeyError:
            pass
        except TypeError:  # an unhashable stand-in catalogue or configuration: build every time
            return build(ctx)
        if len(_BUILT) >= _MAX:
            _BUILT.clear()
        built = _BUILT[key] = build(ctx)
        return built

    return get
