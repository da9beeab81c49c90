"""The national (or provincial) picture: material flowing from stage to stage, volumes by province and
material, exports by destination, alerts by rule and province over time.

Every figure is a query narrowed by the reader's visibility predicate (access/scope.py), so a provincial
officer's overview is the same page drawn over their province. The flow and volume sums read the
projections of every event on record (millions of rows at national scale), so they are kept per reader's
scope until the ledger grows: an officer who opens the overview twice, or the next officer of the same
province, gets the sums already made.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.engine import Connection

from oretrail.access.caller import Caller
from oretrail.access.scope import alerts_visible, declarations_visible, events_visible, lots_visible
from oretrail.ids import STAGES
from oretrail.storage.schema import alerts, declarations, event_lots, events, facilities, ledger, lots

# What a lot's movement in each role means for the flow: where the material went from the stage that made it.
_TARGET = case(
    (event_lots.c.role == "input", events.c.stage),
    (event_lots.c.role == "shipped", "transportation"),
    (event_lots.c.role == "sold", "sales"),
    (event_lots.c.role == "exported", "export"),
)
_ROLES = ("input", "shipped", "sold", "exported")

T = TypeVar("T")


@dataclass
class _Kept:
    head: int
    value: Any
    refreshing: bool = False


_CACHE: dict[tuple[Any, ...], _Kept] = {}
_LOCK = threading.Lock()


def head(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(ledger.c.seq), 0))).scalar_one())


def scope_key(who: Caller) -> tuple[Any, ...]:
    """What a visibility predicate depends on: the role and the caller's own attributes, nothing else."""
    return (who.role, who.province, who.department, who.parties)


def kept(conn: Connection, what: str, who: Caller, make: Callable[[Connection], T]) -> tuple[T, int]:
    """`make(conn)` once per (figure, reader's scope), with the ledger head it was made at.

    When the ledger has grown since, the figure made before is answered at once and made again in the
    background (its head says how fresh it is): a national sum over every event takes seconds, an officer's
    page must not. Only the first reader of a scope after the server starts waits for it."""
    key = (str(conn.engine.url), what, scope_key(who))
    now = head(conn)
    with _LOCK:
        found = _CACHE.get(key)
        stale = found is not None and found.head != now and not found.refreshing
        if stale:
            assert found is not None
            found.refreshing = True
    if found is not None:
        if stale:
            threading.Thread(target=_refresh, args=(conn.engine, key, make), daemon=True).start()
        return found.value, found.head
    value = make(conn)
    with _LOCK:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = _Kept(now, value)
    return value, now


def _refresh(engine: Any, key: tuple[Any, ...], make: Callable[[Connection], Any]) -> None:
    try:
        with engine.connect() as conn:
            at = head(conn)
            value = make(conn)
        with _LOCK:
            _CACHE[key] = _Kept(at, value)
    except Exception:  # the old figure stays; the next reader tries again
        with _LOCK:
            if key in _CACHE:
                _CACHE[key].refreshing = False


WARM_FROM = 100_000  # ledger records: below this, the national figures take well under a second cold


WARM_SCOPES = 64  # officers' scopes made at start, beyond the centre's: a province's departments, not every firm


def warm(engine: Any) -> threading.Thread | None:
    """On a national database, make the overview's figures in the background as the server starts, so the
    first officer to open it does not wait for them (seconds at scale 10, docs/web.md): the centre's, then those
    of each officer's scope among the enabled accounts (a provincial officer's province and department), up to
    WARM_SCOPES of them. Enterprises' are made by their first reader: each is small (its own facilities), and
    there may be thousands."""
    from oretrail.access.users import list_users

    with engine.connect() as conn:
        if head(conn) < WARM_FROM:
            return None
        officers = [u.caller("warm-up") for u in list_users(conn) if u.disabled_at is None and u.role != "enterprise"]
    readers = {scope_key(who): who for who in [Caller("warm-up", "central"), *officers]}

    def run() -> None:
        try:
            with engine.connect() as conn:
                for who in list(readers.values())[: WARM_SCOPES + 1]:
                    _warm_one(conn, who)
        except Exception:  # the first reader makes them instead
            return

    thread = threading.Thread(target=run, daemon=True, name="oretrail-web-warm")
    thread.start()
    return thread


def _warm_one(conn: Connection, who: Caller) -> None:
    kept(conn, "links", who, lambda c: stage_links(c, who))
    kept(conn, "mined", who, lambda c: mined(c, who))


@dataclass(frozen=True)
class Link:
    source: str
    target: str
    grams: int


def stage_links(conn: Connection, who: Caller) -> list[Link]:
    """Grams of material made at one stage that went on to the next (consumed by a transformation, shipped,
    sold, exported), over the events the reader may see; retracted events do not count."""
    q = (
        select(lots.c.created_stage, _TARGET.label("target"), func.sum(event_lots.c.grams))
        .select_from(event_lots)
        .join(events, events.c.seq == event_lots.c.seq)
        .join(lots, lots.c.lot_id == event_lots.c.lot_id)
        .where(event_lots.c.role.in_(_ROLES), events.c.retracted.is_(False), events_visible(who))
        .group_by(lots.c.created_stage, _TARGET)
    )
    out = [Link(str(s), str(t), int(g)) for s, t, g in conn.execute(q) if s and t and g]
    order = {s: i for i, s in enumerate(STAGES)}
    return sorted(out, key=lambda k: (order.get(k.source, 99), order.get(k.target, 99)))


def mined(conn: Connection, who: Caller) -> list[tuple[str, str, int]]:
    """(province, material, grams) of lots that came into being at the mines the reader may see."""
    q = (
        select(facilities.c.province, lots.c.material, func.sum(lots.c.mass_g))
        .select_from(lots)
        .join(facilities, facilities.c.location_id == lots.c.created_location)
        .where(lots.c.created_stage == "mining", lots_visible(who))
        .group_by(facilities.c.province, lots.c.material)
    )
    return sorted((str(p), str(m), int(g)) for p, m, g in conn.execute(q))


def exports_by_destination(conn: Connection, who: Caller) -> list[tuple[str, int, float]]:
    """(destination, grams, USD) of the export declarations the reader may see, largest first."""
    q = (
        select(declarations.c.destination, func.sum(declarations.c.net_g), func.sum(declarations.c.value_usd))
        .where(declarations_visible(who))
        .group_by(declarations.c.destination)
    )
    return sorted(((str(d), int(g), float(v)) for d, g, v in conn.execute(q)), key=lambda r: -r[1])


def alerts_over_time(conn: Connection, who: Caller) -> list[tuple[str, str, str, int]]:
    """(day, rule, province, count) of the standing, settled alerts the reader may see, by the day raised."""
    day = func.substr(cast(alerts.c.raised_at, String), 1, 10)
    q = (
        select(day, alerts.c.rule, alerts.c.jurisdiction, func.count())
        .where(alerts.c.settled_at.is_not(None), alerts.c.withdrawn_at.is_(None), alerts_visible(who))
        .group_by(day, alerts.c.rule, alerts.c.jurisdiction)
    )
    return sorted((str(d), str(r), str(p), int(n)) for d, r, p, n in conn.execute(q))


def by_period(rows: list[tuple[str, str, str, int]]) -> tuple[list[str], dict[str, dict[str, int]]]:
    """Counts per rule per period: days when the alerts span two months or less, months otherwise."""
    days = sorted({r[0] for r in rows})
    monthly = bool(days) and (days[-1][:7] > _add_months(days[0][:7], 2))
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d, rule, _, n in rows:
        per[rule][d[:7] if monthly else d] += n
    periods = sorted({p for counts in per.values() for p in counts})
    return periods, {rule: dict(counts) for rule, counts in sorted(per.items())}


def _add_months(ym: str, n: int) -> str:
    y, m = int(ym[:4]), int(ym[5:7]) + n
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return f"{y:04d}-{m:02d}"


def rule_by_province(rows: list[tuple[str, str, str, int]]) -> tuple[list[str], list[tuple[str, dict[str, int]]]]:
    provinces = sorted({r[2] for r in rows})
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for _, rule, province, n in rows:
        table[rule][province] += n
    return provinces, [(rule, dict(c)) for rule, c in sorted(table.items())]
