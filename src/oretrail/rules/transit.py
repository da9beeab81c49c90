"""Shared by the transit rules: the platform's clock and an engine-neutral interval in seconds.

The clock is the newest event time among non-retracted events, never the wall clock: a scan of an archive,
or a replay after an outage, must judge the same data the same way on any day it is run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select

from oretrail.rules import portable
from oretrail.rules.base import Context
from oretrail.storage.schema import event_lots, events, lots

_CLOCK = select(func.max(events.c.event_time)).where(events.c.retracted.is_(False))


def clock(ctx: Context) -> datetime | None:
    return ctx.conn.execute(_CLOCK).scalar_one()


def seconds_between(ctx: Context, start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[Any]:
    """Whole seconds from start to end (`portable.seconds_between`)."""
    return portable.seconds_between(ctx.conn.dialect.name, start, end)


def material_shipped(dispatch_event: ColumnElement[Any]) -> Any:
    """The (alphabetically first) material of the lots a dispatch carried, for severity and the message."""
    dispatch = events.alias("dispatch")  # its own name, so the outer query's events are not correlated in
    return (
        select(func.min(lots.c.material))
        .join(event_lots, event_lots.c.lot_id == lots.c.lot_id)
        .join(dispatch, dispatch.c.seq == event_lots.c.seq)
        .where(dispatch.c.event_id == dispatch_event, event_lots.c.role == "shipped")
        .scalar_subquery()
    )
