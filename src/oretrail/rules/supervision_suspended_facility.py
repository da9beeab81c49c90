"""supervision.suspended_facility: material was mined at, produced at or shipped from a suspended facility.

A red (suspended) facility may not put material into the chain until a re-inspection clears it
(rules/facility_status.py, after the ICGLR's mine-site certification): a lot created there by mining or a
transformation, or shipped from there, on a day the facility was red, is material the chain must not
carry. The day is the Beijing day of the event. One finding per lot and facility, listing the events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time

from sqlalchemy import and_, bindparam, or_, select

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding, capped
from oretrail.rules.facility_status import Span, red_spans, timeline
from oretrail.rules.monthly_flows import beijing, clock
from oretrail.rules.portable import BEIJING
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import LOT
from oretrail.storage.schema import MADE_OR_SHIPPED_ROLES, event_lots, facilities, facility_statuses, lots

RULE = "supervision.suspended_facility"
SAID = Message(
    RULE,
    "Lot {lot} ({grams:kg}{material:of}) was {how} {facility} on {day:date}, while the facility was "
    "suspended (red since {since:date}).",
)
MADE = Message(f"{RULE}.made", "mined or produced at")
SHIPPED = Message(f"{RULE}.shipped", "shipped from")
SCOPE_KIND = LOT
_ROLES = {"created": MADE, "output": MADE, "shipped": SHIPPED}

_CANDIDATES = (
    select(
        event_lots.c.lot_id,
        event_lots.c.role,
        event_lots.c.event_id,
        event_lots.c.grams,
        event_lots.c.event_time,
        event_lots.c.from_place,
        event_lots.c.to_place,
        lots.c.material,
    )
    .outerjoin(lots, lots.c.lot_id == event_lots.c.lot_id)
    .where(
        # As ix_event_lots_made_time names them (written into the SQL, so SQLite sees the index applies).
        event_lots.c.role.in_(bindparam("roles", MADE_OR_SHIPPED_ROLES, literal_execute=True)),
        event_lots.c.event_time >= bindparam("since"),
        or_(
            and_(
                event_lots.c.role.in_(("created", "output")),
                event_lots.c.to_place.in_(bindparam("places", expanding=True, literal_execute=True)),
            ),
            and_(
                event_lots.c.role == "shipped",
                event_lots.c.from_place.in_(bindparam("places", expanding=True, literal_execute=True)),
            ),
        ),
    )
)


def red_periods(ctx: Context) -> dict[str, list[Span]]:
    """Facilities that are (or become) red at some time, with their red spans."""
    history: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
    for r in ctx.conn.execute(select(facility_statuses)):
        history[r.facility].append((r.since, r.status, r.inspection_id))
    out = {}
    for facility, h in history.items():
        red = red_spans(timeline(h, ctx.config))
        if red:
            out[facility] = red
    # Facilities never inspected turn red after the blue maximum from the programme's start; read only once
    # the clock has got there (until then no event can fall in that span).
    never = red_spans(timeline([], ctx.config))
    now = clock(ctx.conn)
    if never and now is not None and beijing(now).date() >= never[0].start:
        for (location,) in ctx.conn.execute(select(facilities.c.location_id).where(facilities.c.type != "port")):
            out.setdefault(location, never)
    return out


def find(ctx: Context) -> list[Finding]:
    now = clock(ctx.conn)
    if now is None:
        return []
    # A span that starts after the newest data (a never-inspected facility's lapse years ahead) holds no event.
    today = beijing(now).date()
    red = {place: kept for place, spans in red_periods(ctx).items() if (kept := [s for s in spans if s.start <= today])}
    if not red:
        return []
    # One pass, however many facilities are red: their ids are written into the statement (no limit on bound
    # parameters to chunk by, which cost a scan of event_lots per chunk), and nothing before the earliest red
    # day is read.
    since = datetime.combine(min(s.start for spans in red.values() for s in spans), time()) - BEIJING
    stmt = _CANDIDATES.where(ctx.within(SCOPE_KIND, event_lots.c.lot_id))
    hits: dict[tuple[str, str], list[tuple[date, str, int, str, str | None, Span]]] = defaultdict(list)
    for r in ctx.conn.execute(stmt, {"places": sorted(red), "since": since}):
        place = r.to_place if r.role in ("created", "output") else r.from_place
        day = beijing(r.event_time).date()
        span = next((s for s in red[place] if s.start <= day < s.end), None)
        if span is not None:
            hits[(r.lot_id, place)].append((day, r.event_id, int(r.grams), r.role, r.material, span))
    out = []
    for (lot, place), found in sorted(hits.items()):
        found.sort()
        day, _, grams, role, material, span = found[0]
        out.append(
            Finding(
                rule=RULE,
                subject_kind="lot",
                subject_id=lot,
                message=SAID(
                    lot=lot,
                    grams=grams,
                    material=material,
                    how=_ROLES[role](),
                    facility=place,
                    day=day.isoformat(),
                    since=span.start.isoformat(),
                ),
                evidence=capped((f[1] for f in found), ctx.config.max_evidence),
                details={
                    "facility": place,
                    "red_since": span.start.isoformat(),
                    "cause": span.cause,
                    "inspection": span.inspection,
                    "events": len(found),
                },
                key=place,
                location=place,
                material=material,
                stake_g=max(f[2] for f in found),
                controlled=ctx.is_controlled_material(material),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("natural_resources", "industry", "customs"),
    settling=Settling.REPORT,
    title="material was mined at, produced at or shipped from a suspended facility",
    check="Stop the lot and everything made from it (trace it forward); inspect the facility and find out "
    "who kept it working while suspended.",
    thresholds=("facility.red_min_months", "facility.blue_max_months"),
    rejudged_by=("supervision",),
)
