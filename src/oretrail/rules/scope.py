"""Which subjects a captured batch can change the findings of.

A batch names what it touched (events, lots, waybills, declarations, licences, parties). Findings depend on
more than that: a declaration decides its licence's drawdown, a lot's origin decides the provenance of every
lot made from it, a newer event moves the clock every open shipment is judged against. `expand` widens the
touched set along exactly those dependencies, in SQL, into a temporary table the rules filter on, so a
capture-time run costs in proportion to the batch and not to the database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Select, String, Table, and_, bindparam, func, select, text
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
# Enterprises under supervision (party ids), judged on deadlines (reports, corrective actions) and on their
# own reports. No captured batch widens to it: what changes these findings is a report or a supervision
# record, whose feeds re-judge the rules over everything (`Rule.rejudged_by`), the clock (a scan, or
# `oretrail supervision tick`), or nothing a capture-time run should pre-empt (a report not yet due).
SUPERVISED = "supervised"

_CHUNK = 500  # values per IN list

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


class _Table:
    """The scope table and, beside it, the same content as Python sets.

    Each widening step is then one plain query whose ids are de-duplicated here, instead of an INSERT …
    SELECT DISTINCT … WHERE id NOT IN (the table) per step; and what a step derives from rows already read
    (the touched events) costs no query at all. New ids wait in `pending` and go in with one driver-level
    executemany before the next query that may read the table (`add`) and at the end (`flush`): the
    scope of a group of documents is tens of thousands of rows, and SQLAlchemy's per-row parameter handling
    cost more than SQLite's insert."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ids: dict[str, set[str]] = defaultdict(set)
        self.pending: list[tuple[str, str]] = []
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.insert = f"INSERT INTO rule_scope (kind, id) VALUES ({mark}, {mark})"

    def put(self, kind: str, ids: Iterable[str | None]) -> None:
        have = self.ids[kind]
        new = sorted({i for i in ids if i is not None and i not in have})
        have.update(new)
        self.pending.extend((kind, i) for i in new)

    def add(self, kind: str, query: Select[Any]) -> None:
        """Insert the ids a query yields under `kind`, skipping those already there, so the table stays a set."""
        self.flush()
        self.put(kind, self.conn.execute(query).scalars())

    def flush(self) -> None:
        if self.pending:
            self.conn.exec_driver_sql(self.insert, self.pending)  # type: ignore[arg-type]
            self.pending = []


def _prepare(conn: Connection) -> None:
    conn.execute(text("CREATE TEMPORARY TABLE IF NOT EXISTS rule_scope (kind VARCHAR(16), id VARCHAR(512))"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_rule_scope ON rule_scope (kind, id)"))
    conn.execute(rule_scope.delete())


def _chunks(ids: Iterable[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    items = sorted(ids)
    for i in range(0, len(items), size):
        yield items[i : i + size]


# Built once: a statement built per call costs more in SQLAlchemy than SQLite spends running it.
_TOUCHED_EVENTS = select(
    events.c.event_id, events.c.seq, events.c.event_type, events.c.waybill, events.c.declaration_no, events.c.dest_party
).where(events.c.event_id.in_(bindparam("ids", expanding=True)))
_LOTS_OF_SEQS = select(event_lots.c.lot_id).where(event_lots.c.seq.in_(bindparam("ids", expanding=True)))
_ROWS_OF_LOTS = select(event_lots.c.role, event_lots.c.event_id).where(
    event_lots.c.lot_id.in_(scope_ids(LOT)), event_lots.c.role.in_(("input", "output", "sold", "shipped"))
)
_DEST_PARTIES = select(events.c.dest_party).where(events.c.event_id.in_(bindparam("ids", expanding=True)))
_SHIPMENT_PARTIES = select(shipments.c.dest_party).where(shipments.c.waybill.in_(scope_ids(WAYBILL)))
_descendants = select(rule_scope.c.id.label("lot")).where(rule_scope.c.kind == LOT).cte("descendants", recursive=True)
_descendants = _descendants.union(
    select(genealogy.c.output_lot).join(_descendants, genealogy.c.input_lot == _descendants.c.lot)
)
_DESCENDANTS = select(_descendants.c.lot)
_EXPORT_DECLARATIONS = select(exports.c.declaration_no).where(exports.c.lot_id.in_(scope_ids(LOT)))
_CITING_DECLARATIONS = select(declarations.c.declaration_no).where(declarations.c.licence_no.in_(scope_ids(LICENCE)))
_EXPORTED_LOTS = select(exports.c.lot_id).where(exports.c.declaration_no.in_(scope_ids(DECLARATION)))
_CITED_LICENCES = select(declarations.c.licence_no).where(declarations.c.declaration_no.in_(scope_ids(DECLARATION)))
_OPEN_SHIPMENTS = select(shipments.c.waybill).where(
    and_(shipments.c.received_at.is_(None), shipments.c.dispatched_at.is_not(None))
)


def expand(conn: Connection, scope: Scope, flow_months: int) -> None:
    """Fill the scope table with every subject whose findings the batch could have changed.

    `flow_months`: how many months after a declaration's month its trade flows can still be judged against
    it (the share-jump rule's trailing window).
    """
    _prepare(conn)
    table = _Table(conn)
    table.put(EVENT, scope.event_ids)
    table.put(LOT, scope.lot_ids)
    table.put(WAYBILL, scope.waybills)
    table.put(DECLARATION, scope.declaration_nos)
    table.put(LICENCE, scope.licence_nos)
    table.put(PARTY, scope.party_ids)

    # Events → the lots, waybills, declarations and receiving parties they carry, from one read of the
    # touched events (each later step of the old form looked every touched event up again).
    touched: list[Any] = []
    for chunk in _chunks(scope.event_ids):
        touched.extend(conn.execute(_TOUCHED_EVENTS, {"ids": chunk}))
    for chunk in _chunks({r.seq for r in touched}):
        table.put(LOT, conn.execute(_LOTS_OF_SEQS, {"ids": chunk}).scalars())
    table.put(WAYBILL, (r.waybill for r in touched))
    table.put(DECLARATION, (r.declaration_no for r in touched))
    table.put(PARTY, (r.dest_party for r in touched))
    table.put(TRANSFORMATION, (r.event_id for r in touched if r.event_type == "TransformationEvent"))
    table.add(PARTY, _SHIPMENT_PARTIES)

    # From the lots so far, in one read of their rows: the transformations that consumed or produced one
    # (mass balance), and, as a lot's material or grade may have changed, whoever received it
    # (party.unregistered, which counts a lot's transfers only: the events that sold or shipped it).
    table.flush()
    transfers: set[str] = set()
    transformations: set[str] = set()
    for role, event_id in conn.execute(_ROWS_OF_LOTS):
        (transformations if role in ("input", "output") else transfers).add(event_id)
    table.put(TRANSFORMATION, transformations)
    known = {r.event_id: r.dest_party for r in touched}
    table.put(PARTY, (known[e] for e in transfers if e in known))
    for chunk in _chunks(transfers - known.keys()):
        table.put(PARTY, conn.execute(_DEST_PARTIES, {"ids": chunk}).scalars())

    # A lot's origin decides the provenance of every lot made from it: all descendants.
    table.add(LOT, _DESCENDANTS)

    # Declarations under which touched lots left, and declarations citing touched licences.
    table.add(DECLARATION, _EXPORT_DECLARATIONS)
    table.add(DECLARATION, _CITING_DECLARATIONS)
    # A declaration's HS code decides whether the lots exported under it count as controlled.
    table.add(LOT, _EXPORTED_LOTS)
    # Declarations → the licences whose drawdown they change.
    table.add(LICENCE, _CITED_LICENCES)
    # A newer (or retracted) event moves the clock every open shipment is judged against.
    if scope.event_ids:
        table.add(WAYBILL, _OPEN_SHIPMENTS)
    _counterparties(table)
    table.flush()
    _trade_flows(conn, flow_months)


def _counterparties(table: _Table) -> None:
    """Licences and declarations to screen: those in scope, and, for a refused licence in scope, every later
    licence and declaration of the same HS heading to another country (`licence.rerouted` asks of each of
    them whether it is the refused end user coming back; names are matched fuzzily, so SQL cannot narrow
    further)."""
    table.put(COUNTERPARTY, table.ids[LICENCE])
    table.put(COUNTERPARTY, table.ids[DECLARATION])
    if table.ids[LICENCE]:  # only a refused licence in scope widens further
        table.add(COUNTERPARTY, _LATER_LICENCES)
        table.add(COUNTERPARTY, _LATER_DECLARATIONS)


_refused = aliased(licences)
_heading = func.substr(_refused.c.hs_code, 1, 4)
_refused_in_scope = and_(_refused.c.status == "refused", _refused.c.licence_no.in_(scope_ids(LICENCE)))
_LATER_LICENCES = (
    select(licences.c.licence_no)
    .join(
        _refused,
        and_(
            func.substr(licences.c.hs_code, 1, 4) == _heading,
            licences.c.valid_from >= _refused.c.valid_from,
            licences.c.destination != _refused.c.destination,
        ),
    )
    .where(_refused_in_scope, licences.c.status != "refused")
)
_LATER_DECLARATIONS = (
    select(declarations.c.declaration_no)
    .join(
        _refused,
        and_(
            func.substr(declarations.c.hs_code, 1, 4) == _heading,
            declarations.c.date >= _refused.c.valid_from,
            declarations.c.destination != _refused.c.destination,
        ),
    )
    .where(_refused_in_scope)
)


def _month(day: dt.date, plus: int = 0) -> str:
    index = day.year * 12 + day.month - 1 + plus
    return f"{index // 12:04d}{index % 12 + 1:02d}"


_DECLARED = select(declarations.c.destination, declarations.c.hs_code, declarations.c.date).where(
    declarations.c.declaration_no.in_(scope_ids(DECLARATION))
)


def _trade_flows(conn: Connection, flow_months: int) -> None:
    """The trade flows (destination x HS6 x month) the declarations in scope feed.

    mirror.gap draws declarations down oldest first, so a declaration can change the verdict of every later
    partner month of its series (what it leaves undrawn passes on to the next month): every reported month
    from its own on. mirror.share_jump judges a month by the shares of all destinations over the trailing
    window: every destination's flow of the HS6 in the declaration's month and the `flow_months` after.
    mirror.no_capacity judges the declaration's own flow, which the latter includes.
    """
    touched = conn.execute(_DECLARED).all()
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
