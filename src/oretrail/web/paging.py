"""Tables that paginate and sort in the database, from the query string, the same way on every page.

Sorting is by a whitelist of named columns (never a column name from the URL), and a page is a LIMIT/OFFSET
of the filtered, visible rows, so a page is never cut short after the fact and the count is of what the
reader may see. A list that may be too long to count on every view (the lots list, web/trace.py) gives a
`cap`: counting stops there, the pager says there are more, and only the first `cap` rows in the chosen
order are paged (a row beyond them is found by its key, not by paging).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Connection, Select, func, select

PER_PAGE = 25


@dataclass(frozen=True)
class Paging:
    page: int
    sort: str
    direction: str  # asc | desc
    total: int
    per_page: int = PER_PAGE
    more: bool = False  # the count stopped at the cap: `total` rows are paged, and there are more

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def paginate(
    conn: Connection,
    query: Select[Any],
    params: Mapping[str, str],
    columns: Mapping[str, ColumnElement[Any]],
    default: tuple[str, str],
    *,
    tiebreak: ColumnElement[Any] | None = None,
    per_page: int = PER_PAGE,
    cap: int | None = None,
) -> tuple[list[Any], Paging]:
    """The page of `query` the URL asks for (`page`, `sort`, `dir`), sorted by a known column only; with a
    `cap`, among its first `cap` rows in that order."""
    sort = params.get("sort", default[0])
    if sort not in columns:
        sort = default[0]
    direction = params.get("dir", default[1] if sort == default[0] else "asc")
    direction = direction if direction in ("asc", "desc") else "asc"
    counted = query.order_by(None) if cap is None else query.order_by(None).limit(cap + 1)
    total = int(conn.execute(select(func.count()).select_from(counted.subquery())).scalar_one())
    more = cap is not None and total > cap
    total = min(total, cap) if cap is not None else total
    paging = Paging(1, sort, direction, total, per_page, more)
    try:
        page = int(params.get("page", "1"))
    except ValueError:
        page = 1
    paging = Paging(min(max(page, 1), paging.pages), sort, direction, total, per_page, more)
    column = columns[sort]
    order: list[ColumnElement[Any]] = [column.desc() if direction == "desc" else column.asc()]
    if tiebreak is not None:
        order.append(tiebreak)
    limit = per_page if cap is None else min(per_page, cap - paging.offset)
    rows = list(conn.execute(query.order_by(*order).limit(limit).offset(paging.offset)).all())
    return rows, paging


def link(params: Mapping[str, str], **changes: Any) -> str:
    """The query string of this page with some parameters changed (None drops one)."""
    merged = {k: v for k, v in params.items() if v not in ("", None)}
    for k, v in changes.items():
        if v is None:
            merged.pop(k, None)
        else:
            merged[k] = str(v)
    return "?" + urlencode(merged) if merged else "?"


def sort_link(params: Mapping[str, str], paging: Paging, column: str) -> str:
    """Clicking a heading sorts by it; clicking it again turns the order round."""
    direction = "desc" if paging.sort == column and paging.direction == "asc" else "asc"
    return link(params, sort=column, dir=direction, page=None)
