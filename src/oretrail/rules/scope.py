"""Which subjects a captured batch can change the findings of.

A batch names what it touched (events, lots, waybills, declarations, licences, parties). Findings depend on
more than that: a declaration decides its licence's drawdown, a lot's origin decides the provenance of every
lot made from it, a newer event moves the clock every open shipment is judged against. `expand` widens the
touched set along exactly those dependencies, in SQL, into a temporary table the rules filter on, so a
capture-time run costs in proportion to the batch and not to the database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Select, String, Table, and_, func, literal, select, text
from sqlalchemy.orm import aliased

from oretrail.storage.schema import declarations, event_lots, events, exports, genealogy, licences, mirror, shipments

# Subject kinds of the scope table, one per rule filter.
EVENT, LOT, WAYBILL, DECLARATION, LICENCE, PARTY, TRANSFORMATION = (
    "event",
    "lot",
    "waybill",
    "declaration",
    "licence",
    "party",
    "transformation",
)
# Licences and declarations together, by number: the documents naming counterparties (screening,
# re-routing), whose findings have either as subject. Numbers of the two kinds have different shapes.
COUNTERPARTY = "counterparty"
# `<partnerISO>:<HS6>:<YYYYMM>` (SPEC.md §4 `trade-flow`): a destination's month of one HS6.
TRADE_FLOW = "trade-flow"

rule_scope = Table(
    "rule_scope", MetaData(), Column("kind", String(16)), Column("id", String(512)), prefixes=["TEMPORARY"]
)


@dataclass(frozen=True)
class Scope:
    """What a batch touched. Field names match the projector's `Touched`, plus licences for the licence feed.

    A retracted event's lots are gone from the projections, so the caller lists them here (the projector's
    `Touched` does): otherwise a finding that rested on the retracted event could not be re-judged.
    """

    event_ids: frozenset[str] = frozenset()
    lot_ids: frozenset[str] = frozenset()
    waybills: frozenset[str] = frozenset()
    declaration_nos: frozenset[str] = frozenset()
    licence_nos: frozenset[str] = frozenset()
    party_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, touched: Any, licence_nos: Iterable[str] = ()) -> Scope:
        """From the projector's `Touched` (or anything with its attribute names)."""
        return cls(
            event_ids=frozenset(getattr(touched, "event_ids", ())),
            lot_ids=frozenset(getattr(touched, "lot_ids", ())),
            waybills=frozenset(getattr(touched, "waybills", ())),
            declaration_nos=frozenset(getattr(touched, "declaration_nos", ())),
            licence_nos=frozenset(licence_nos) | frozenset(getattr(touched, "licence_nos", ())),
            party_ids=frozenset(getattr(touched, "parties", ())) | frozenset(getattr(touched, "party_ids", ())),
        )

    def __bool__(self) -> bool:
        return any(
            (self.event_ids, self.lot_ids, self.waybills, self.declaration_nos, self.licence_nos, self.party_ids)
        )


def scope_ids(kind: str) -> Select[Any]:
    return select(rule_scope.c.id).where(rule_scope.c.kind == kind)


def _add(conn: Connection, kind: str, query: Select[Any]) -> None:
    """Insert the ids a query yields under `kind`, skipping those already there, so the table stays a set."""
    sub = query.subquery()
    col = sub.c[0]
    conn.execute(
        rule_scope.insert().from_select(
            ["kind", "id"],
            select(literal(kind, String(16)), col).where(col.is_not(None), col.not_in(scope_ids(kind))).distinct(),
        )
    )


def _prepare(conn: Connection) -> None:
    conn.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS rule_scope (kind VARCHAR(16), id VARCHAR(512))"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_rule_scope ON rule_scope (kind, id)"))
    conn.execute(rule_scope.delete())


def expand(conn: Connection, scope: Scope, flow_months: int) -> None:
    """Fill the scope table with every subject whose findings the batch could have changed.

    `flow_months`: how many months after a declaration's month its trade flows can still be judged against
    it (the share-jump rule's trailing window).
    """
    _prepare(conn)
    seeds = [
        (EVENT, scope.event_ids),
        (LOT, scope.lot_ids),
        (WAYBILL, scope.waybills),
        (DECLARATION, scope.declaration_nos),
        (LICENCE, scope.licence_nos),
        (PARTY, scope.party_ids),
    ]
    rows = [{"kind": k, "id": i} for k, ids in seeds for i in sorted(ids)]
    if rows:
        conn.execute(rule_scope.insert(), rows)
    touched_events = scope_ids(EVENT)

    # Events → the lots, waybills, declarations and receiving parties they carry.
    _add(
        conn,
        LOT,
        select(event_lots.c.lot_id)
        .join(events, events.c.seq == event_lots.c.seq)
        .where(events.c.event_id.in_(touched_events)),
    )
    _add(conn, WAYBILL, select(events.c.waybill).where(events.c.event_id.in_(touched_events)))
    _add(conn, DECLARATION, select(events.c.declaration_no).where(events.c.event_id.in_(touched_events)))
    # Lots whose material or grade changed → who received them (party.unregistered).
    _add(
        conn,
        PARTY,
        select(events.c.dest_party).where(
            events.c.event_id.in_(select(event_lots.c.event_id).where(event_lots.c.lot_id.in_(scope_ids(LOT))))
        ),
    )
    _add(conn, PARTY, select(events.c.dest_party).where(events.c.event_id.in_(touched_events)))
    _add(conn, PARTY, select(shipments.c.dest_party).where(shipments.c.waybill.in_(scope_ids(WAYBILL))))

    # Transformations that consumed or produced a touched lot, or were touched themselves (mass balance).
    _add(
        conn,
        TRANSFORMATION,
        select(event_lots.c.event_id).where(
            event_lots.c.role.in_(("input", "output")), event_lots.c.lot_id.in_(scope_ids(LOT))
        ),
    )
    _add(
        conn,
        TRANSFORMATION,
        select(events.c.event_id).where(
            events.c.event_id.in_(touched_events), events.c.event_type == "TransformationEvent"
        ),
    )

    # A lot's origin decides the provenance of every lot made from it: all descendants.
    seed = select(rule_scope.c.id.label("lot")).where(rule_scope.c.kind == LOT).cte("descendants", recursive=True)
    seed = seed.union(select(genealogy.c.output_lot).join(seed, genealogy.c.input_lot == seed.c.lot))
    _add(conn, LOT, select(seed.c.lot))

    # Declarations under which touched lots left, and declarations citing touched licences.
    _add(conn, DECLARATION, select(exports.c.declaration_no).where(exports.c.lot_id.in_(scope_ids(LOT))))
    _add(
        conn,
        DECLARATION,
        select(declarations.c.declaration_no).where(declarations.c.licence_no.in_(scope_ids(LICENCE))),
    )
    # A declaration's HS code decides whether the lots exported under it count as controlled.
    _add(conn, LOT, select(exports.c.lot_id).where(exports.c.declaration_no.in_(scope_ids(DECLARATION))))
    # Declarations → the licences whose drawdown they change.
    _add(
        conn,
        LICENCE,
        select(declarations.c.licence_no).where(declarations.c.declaration_no.in_(scope_ids(DECLARATION))),
    )
    # A newer (or retracted) event moves the clock every open shipment is judged against.
    if scope.event_ids:
        _add(
            conn,
            WAYBILL,
            select(shipments.c.waybill).where(
                and_(shipments.c.received_at.is_(None), shipments.c.dispatched_at.is_not(None))
            ),
        )
    _counterparties(conn)
    _trade_flows(conn, flow_months)


def _counterparties(conn: Connection) -> None:
    """Licences and declarations to screen: those in scope, and, for a refused licence in scope, every later
    licence and declaration of the same HS heading to another country (`licence.rerouted` asks of each of
    them whether it is the refused end user coming back; names are matched fuzzily, so SQL cannot narrow
    further)."""
    _add(conn, COUNTERPARTY, scope_ids(LICENCE))
    _add(conn, COUNTERPARTY, scope_ids(DECLARATION))
    refused = aliased(licences)
    heading = func.substr(refused.c.hs_code, 1, 4)
    later = select(licences.c.licence_no).join(
        refused,
        and_(
            func.substr(licences.c.hs_code, 1, 4) == heading,
            licences.c.valid_from >= refused.c.valid_from,
            licences.c.destination != refused.c.destination,
        ),
    )
    refused_in_scope = and_(refused.c.status == "refused", refused.c.licence_no.in_(scope_ids(LICENCE)))
    _add(conn, COUNTERPARTY, later.where(refused_in_scope, licences.c.status != "refused"))
    _add(
        conn,
        COUNTERPARTY,
        select(declarations.c.declaration_no)
        .join(
            refused,
            and_(
                func.substr(declarations.c.hs_code, 1, 4) == heading,
                declarations.c.date >= refused.c.valid_from,
                declarations.c.destination != refused.c.destination,
            ),
        )
        .where(refused_in_scope),
    )


def _month(day: dt.date, plus: int = 0) -> str:
    index = day.year * 12 + day.month - 1 + plus
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def _trade_flows(conn: Connection, flow_months: int) -> None:
    """The trade flows (destination x HS6 x month) the declarations in scope feed.

    mirror.gap draws declarations down oldest first, so a declaration can change the verdict of every later
    partner month of its series (what it leaves undrawn passes on to the next month): every reported month
    from its own on. mirror.share_jump judges a month by the shares of all destinations over the trailing
    window: every destination's flow of the HS6 in the declaration's month and the `flow_months` after.
    mirror.no_capacity judges the declaration's own flow, which the latter includes.
    """
    touched = conn.execute(
        select(declarations.c.destination, declarations.c.hs_code, declarations.c.date).where(
            declarations.c.declaration_no.in_(scope_ids(DECLARATION))
        )
    ).all()
    if not touched:
        return
    series: dict[tuple[str, str], str] = {}
    by_hs6: dict[str, str] = {}
    for dest, hs, day in touched:
        month = _month(day)
        series[dest, hs[:6]] = min(month, series.get((dest, hs[:6]), month))
        by_hs6[hs[:6]] = min(month, by_hs6.get(hs[:6], month))
    flows: set[str] = set()
    for (dest, hs6), first in series.items():
        periods = conn.execute(
            select(mirror.c.period).where(mirror.c.reporter == dest, mirror.c.cmd == hs6, mirror.c.period >= first)
        ).scalars()
        flows.update(f"{dest}:{hs6}:{p}" for p in periods)
    for hs6, first in by_hs6.items():
        start = dt.date(int(first[:4]), int(first[4:]), 1)
        rows = conn.execute(
            select(declarations.c.destination, declarations.c.date).where(
                func.substr(declarations.c.hs_code, 1, 6) == hs6, declarations.c.date >= start
            )
        )
        last = _month(start, flow_months)
        flows.update(f"{dest}:{hs6}:{_month(day)}" for dest, day in rows if _month(day) <= last)
    if flows:  # the only writer of this kind, so the ids are not there yet
        conn.execute(rule_scope.insert(), [{"kind": TRADE_FLOW, "id": f} for f in sorted(flows)])


def expanded(conn: Connection) -> dict[str, set[str]]:
    """The scope table's content by kind (tests compare a scan restricted to it with the scoped run)."""
    out: dict[str, set[str]] = {}
    for kind, id_ in conn.execute(select(rule_scope.c.kind, rule_scope.c.id)):
        out.setdefault(kind, set()).add(id_)
    return out
