"""Keeping the chain projections current, one batch of ledger records at a time (docs/projections.md).

The same code serves capture and `oretrail rebuild`: rebuild is nothing but replaying the ledger through
`Projector.apply`, which is how a rebuild is guaranteed to equal the incremental state. Writes are
buffered per batch and flushed with `executemany`, since per-row round trips would cap intake far below
the disk's rate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, case, delete, func, literal_column, or_, select, update
from sqlalchemy.sql.dml import Insert

from oretrail.ids import DECLARATION_PREFIX, party_of_location
from oretrail.model import (
    ARRIVAL,
    CREATION,
    DISPATCH,
    EXPORT,
    RECEIPT,
    REMOVAL,
    SALE,
    ChainEvent,
    LotQty,
    reading_of,
)
from oretrail.storage.bulk import delete_keys, insert_values, merge_values
from oretrail.storage.schema import (
    event_lots,
    events,
    exports,
    genealogy,
    lots,
    positions,
    shipments,
)
from oretrail.storage.upsert import insert_new, insert_or

PROJECTION_TABLES = (events, lots, event_lots, positions, shipments, genealogy, exports)


def party_of_place(place: str | None) -> str:
    """The enterprise a facility URI names ('' for ports, SGLNs and waybills): the default holder there."""
    return (party_of_location(place) or "") if place else ""


@dataclass
class Touched:
    """What a batch changed: the rule engine widens this into the subjects whose findings may change."""

    event_ids: set[str] = field(default_factory=set)
    lot_ids: set[str] = field(default_factory=set)
    waybills: set[str] = field(default_factory=set)
    declaration_nos: set[str] = field(default_factory=set)
    parties: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    retracted: set[str] = field(default_factory=set)  # events an errorDeclaration withdrew in this batch

    def update(self, other: Touched) -> None:
        for name in ("event_ids", "lot_ids", "waybills", "declaration_nos", "parties", "places", "retracted"):
            getattr(self, name).update(getattr(other, name))


# Buffered rows are value lists in these column orders, not dicts: at capture rates building a dict per row
# and picking it apart again for the driver costs more than the insert itself.
_EVENT_COLUMNS = (
    "event_id", "seq", "event_type", "action", "biz_step", "stage", "event_time", "biz_location", "read_point",
    "waybill", "declaration_no", "source_party", "dest_party", "dest_location", "retracted", "original_seq",
    "off_profile",
)  # fmt: skip
_LOT_COLUMNS = (
    "lot_id", "material", "element", "grade", "mass_g", "element_mg", "created_event", "created_stage",
    "created_location", "created_at",
)  # fmt: skip
_GRADE, _MASS, _ELEMENT_MG, _CREATED_EVENT = 3, 4, 5, 6
_EVENT_LOT_COLUMNS = (
    "seq", "lot_id", "role", "event_id", "grams", "event_time", "from_place", "from_owner", "to_place", "to_owner",
)  # fmt: skip
_FROM_PLACE, _FROM_OWNER, _TO_PLACE, _TO_OWNER = 6, 7, 8, 9
_GENEALOGY_COLUMNS = ("output_lot", "input_lot", "event_id")
_EXPORT_COLUMNS = ("event_id", "lot_id", "declaration_no", "port", "grams", "event_time")
_DISPATCH_COLUMNS = ("waybill", "origin", "dest_location", "dest_party", "dispatch_event", "dispatched_at", "grams")
_RECEIPT_COLUMNS = ("waybill", "receipt_event", "received_at", "received_location")
_POSITION_COLUMNS = ("lot_id", "place", "owner", "grams")


@dataclass
class _Buffer:
    events: list[tuple[Any, ...]] = field(default_factory=list)
    lots: dict[str, list[Any]] = field(default_factory=dict)
    event_lots: list[list[Any]] = field(default_factory=list)
    positions: dict[tuple[str, str, str], int] = field(default_factory=lambda: defaultdict(int))
    pending_at: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)  # (lot, place) → owner → Δ
    genealogy: set[tuple[str, str, str]] = field(default_factory=set)  # (output lot, input lot, event)
    exports: list[tuple[Any, ...]] = field(default_factory=list)  # one per (event, lot): lists are merged
    dispatches: list[tuple[Any, ...]] = field(default_factory=list)  # in _DISPATCH_COLUMNS order
    receipts: list[tuple[Any, ...]] = field(default_factory=list)  # in _RECEIPT_COLUMNS order

    def __bool__(self) -> bool:
        return bool(self.events)


class Projector:
    """Applies chain readings to the projection tables inside the caller's transaction."""

    def __init__(self, conn: Connection, element_of: dict[str, str], track: bool = True) -> None:
        self.conn = conn
        self.element_of = element_of  # material code → element symbol, from the catalogue
        self.track = track  # collect what the batch touched (for the rules); retracted events are always noted
        self.buf = _Buffer()
        self.touched = Touched()
        self._base: dict[tuple[str, str], dict[str, int]] = {}  # stored holdings read during this batch
        self._prefetched: set[str] = set()  # lots whose stored holdings are all in _base

    # --- entry points ------------------------------------------------------------------------------
    def apply(self, items: Iterable[tuple[int, ChainEvent]]) -> Touched:
        """Project events in ledger order. An event whose errorDeclaration is already on record (it arrived
        first) is stored but never counts: its row stays retracted, as if it had come first and been retracted
        then, so the state never depends on which of the two arrived first."""
        items = list(items)
        self._prefetch(_lots_of(items))
        withdrawn = self._retracted_already([ev.event_id for _, ev in items if ev.error_declaration is None])
        for seq, ev in items:
            if self.track:
                self._touch(ev)
            if ev.error_declaration is not None:
                self.touched.retracted.add(ev.event_id)
                withdrawn.add(ev.event_id)
                self.flush()
                self._retract(seq, ev)
            elif ev.event_id in withdrawn:
                self.conn.execute(_MARK_ORIGINAL, {"eid": ev.event_id, "original": seq})
            else:
                self._apply(seq, ev)
        self.flush()
        return self.touched

    def flush(self) -> None:
        b = self.buf
        if not b:
            return
        c = self.conn
        insert_values(c, events, _EVENT_COLUMNS, b.events)
        # A lot keeps the event that first created it.
        merge_values(c, insert_new(c.dialect.name, lots), _LOT_COLUMNS, [tuple(r) for r in b.lots.values()])
        insert_values(c, event_lots, _EVENT_LOT_COLUMNS, [tuple(r) for r in b.event_lots])
        insert_values(c, genealogy, _GENEALOGY_COLUMNS, list(b.genealogy))
        insert_values(c, exports, _EXPORT_COLUMNS, b.exports)
        self._add_positions(b.positions)
        self._merge_shipments(b.dispatches, b.receipts)
        self.buf = _Buffer()

    # --- one event -----------------------------------------------------------------------------------
    def _touch(self, ev: ChainEvent) -> None:
        t = self.touched
        t.event_ids.add(ev.event_id)
        t.lot_ids.update(q.lot for q in (*ev.quantities, *ev.inputs, *ev.outputs))
        if ev.waybill:
            t.waybills.add(ev.waybill)
        if ev.declaration_no:
            t.declaration_nos.add(ev.declaration_no)
        t.parties.update(p for p in (*ev.sources.values(), *ev.destinations.values()) if p)
        if ev.biz_location:
            t.places.add(ev.biz_location)

    @staticmethod
    def _event_row(seq: int, ev: ChainEvent, retracted: bool) -> tuple[Any, ...]:
        src, dst = ev.sources, ev.destinations
        return (
            ev.event_id,
            seq,
            ev.event_type,
            ev.action,
            ev.biz_step,
            ev.stage,
            ev.event_time,
            ev.biz_location,
            ev.read_point,
            ev.waybill,
            ev.declaration_no,
            src.get("owning_party") or src.get("possessing_party"),
            dst.get("owning_party") or dst.get("possessing_party"),
            dst.get("location"),
            retracted,
            None if retracted else seq,  # a row born retracted: only the event's errorDeclaration is on record
            _off_profile(ev),
        )

    def _apply(self, seq: int, ev: ChainEvent) -> None:
        b = self.buf
        b.events.append(self._event_row(seq, ev, retracted=False))
        place = ev.biz_location or ev.read_point or ""
        src_owner = ev.sources.get("owning_party")  # explicit owners win; otherwise whoever holds the goods
        dst_owner = ev.destinations.get("owning_party")

        if ev.event_type == "TransformationEvent":
            holder = ""
            inputs, outputs = _merged(ev.inputs), _merged(ev.outputs)
            for q in inputs:
                row = self._role(seq, ev, q, "input")
                holder = self._draw(row, q.lot, place, q.grams, src_owner) or holder
            for q in outputs:
                row = self._role(seq, ev, q, "output")
                self._create(ev, q, place)
                self._put(row, q.lot, place, q.grams, dst_owner or holder or party_of_place(place))
            for i in inputs:
                for o in outputs:
                    b.genealogy.add((o.lot, i.lot, ev.event_id))
            return

        quantities = _merged(ev.quantities)
        what = ev.reading
        if what == CREATION:
            for q in quantities:
                row = self._role(seq, ev, q, "created")
                self._create(ev, q, place)
                self._put(row, q.lot, place, q.grams, dst_owner or party_of_place(place))
        elif what == REMOVAL:
            for q in quantities:
                self._draw(self._role(seq, ev, q, "removed"), q.lot, place, q.grams, src_owner)
        elif what == ARRIVAL:
            for q in quantities:
                self._put(self._role(seq, ev, q, "arrived"), q.lot, place, q.grams, dst_owner or party_of_place(place))
        elif what in (DISPATCH, RECEIPT):
            self._transport(seq, ev, quantities, place)
        elif what == SALE:
            seller, buyer = src_owner, ev.destinations["owning_party"]
            for q in quantities:
                row = self._role(seq, ev, q, "sold")
                where = place or (self._held_at(q.lot, seller) if seller else None)
                if where:
                    self._draw(row, q.lot, where, q.grams, seller)
                    self._put(row, q.lot, where, q.grams, buyer)
        elif what == EXPORT:
            declaration_no = ev.declaration_no or ""
            abroad = DECLARATION_PREFIX + declaration_no
            for q in quantities:
                row = self._role(seq, ev, q, "exported")
                owner = self._draw(row, q.lot, place, q.grams, src_owner)
                self._put(row, q.lot, abroad, q.grams, owner)
                b.exports.append((ev.event_id, q.lot, declaration_no, place or None, q.grams, ev.event_time))
        else:
            for q in quantities:
                self._role(seq, ev, q, "observed")

    def _transport(self, seq: int, ev: ChainEvent, quantities: Sequence[LotQty], place: str) -> None:
        waybill = ev.waybill or ""
        src_owner = ev.sources.get("owning_party")
        if ev.reading == DISPATCH:
            for q in quantities:
                row = self._role(seq, ev, q, "shipped")
                owner = self._draw(row, q.lot, place, q.grams, src_owner)
                self._put(row, q.lot, waybill, q.grams, owner)
            dst = ev.destinations
            self.buf.dispatches.append(
                (
                    waybill,
                    place,
                    dst.get("location"),
                    dst.get("possessing_party") or dst.get("owning_party"),
                    ev.event_id,
                    ev.event_time,
                    sum(q.grams for q in quantities),
                )
            )
        else:
            for q in quantities:
                row = self._role(seq, ev, q, "received")
                owner = self._draw(row, q.lot, waybill, q.grams, src_owner)
                self._put(row, q.lot, place, q.grams, ev.destinations.get("owning_party") or owner)
            self.buf.receipts.append((waybill, ev.event_id, ev.event_time, place))

    def _role(self, seq: int, ev: ChainEvent, q: LotQty, role: str) -> list[Any]:
        """The event_lots row of a lot in one role; its lists are merged, so each (lot, role) comes once."""
        row = [seq, q.lot, role, ev.event_id, q.grams, ev.event_time, None, None, None, None]
        self.buf.event_lots.append(row)
        return row

    def _create(self, ev: ChainEvent, q: LotQty, place: str) -> None:
        row = self.buf.lots.get(q.lot)
        if row is not None:
            if row[_CREATED_EVENT] == ev.event_id:
                row[_MASS] += q.grams
                if row[_GRADE] is not None:
                    row[_ELEMENT_MG] = round(row[_MASS] * 1000 * row[_GRADE])
            return
        grade = ev.grade
        self.buf.lots[q.lot] = [
            q.lot,
            ev.material,
            self.element_of.get(ev.material or ""),
            grade,
            q.grams,
            round(q.grams * 1000 * grade) if grade is not None else None,
            ev.event_id,
            ev.stage,
            place or None,
            ev.event_time,
        ]

    def _draw(self, row: list[Any], lot: str, place: str, grams: int, owner: str | None) -> str:
        """Take goods from a place; without a named owner, from whoever holds most of the lot there."""
        who = owner if owner is not None else self._holder(lot, place)
        row[_FROM_PLACE], row[_FROM_OWNER] = place, who
        self._move(lot, place, who, -grams)
        return who

    def _put(self, row: list[Any], lot: str, place: str, grams: int, owner: str) -> None:
        row[_TO_PLACE], row[_TO_OWNER] = place, owner
        self._move(lot, place, owner, grams)

    def _move(self, lot: str, place: str, owner: str, delta: int) -> None:
        b = self.buf
        b.positions[(lot, place, owner)] += delta
        at = b.pending_at.get((lot, place))
        if at is None:
            b.pending_at[(lot, place)] = {owner: delta}
        else:
            at[owner] = at.get(owner, 0) + delta

    def _holder(self, lot: str, place: str) -> str:
        """Whoever holds most of a lot at a place now: its stored holdings (read for the batch) plus pending ones."""
        key = (lot, place)
        held = dict(self._base.get(key, {}))
        for owner, g in self.buf.pending_at.get(key, {}).items():
            held[owner] = held.get(owner, 0) + g
        best = max(((g, o) for o, g in held.items() if g > 0), default=None)
        return best[1] if best else party_of_place(place)

    def _retracted_already(self, event_ids: list[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(event_ids), _CHUNK):
            found.update(self.conn.execute(_RETRACTED_AMONG, {"ids": event_ids[i : i + _CHUNK]}).scalars())
        return found

    def _prefetch(self, lot_ids: set[str]) -> None:
        """Read the stored holdings of every lot a batch moves, in a few queries, not one per draw; knowing every
        holding it changes is what lets `_add_positions` delete the ones that reach zero, in any order."""
        ids = sorted(lot_ids)
        for i in range(0, len(ids), _CHUNK):
            for lot, place, owner, grams in self.conn.execute(_HOLDINGS_OF, {"ids": ids[i : i + _CHUNK]}).all():
                self._base.setdefault((lot, place), {})[owner] = grams
        self._prefetched.update(ids)

    def _held_at(self, lot: str, owner: str) -> str | None:
        """Where the seller holds a lot, for sales that name no place: the largest holding wins."""
        held: dict[str, int] = dict(self.conn.execute(_HELD_BY, {"lot": lot, "owner": owner}).all())
        for (lt, place), owners in self.buf.pending_at.items():
            if lt == lot and owner in owners:
                held[place] = held.get(place, 0) + owners[owner]
        best = max(((g, p) for p, g in held.items() if g > 0), default=None)
        return best[1] if best else None

    # --- storage helpers -----------------------------------------------------------------------------
    def _add_positions(self, deltas: dict[tuple[str, str, str], int]) -> None:
        """Add changes to the stored holdings, and delete the holdings that reach zero.

        Every lot changed has had its stored holdings read this batch (`_prefetch`), so the new amount is known
        here and an emptied holding is deleted by its key, whether the draw or the addition came first. The
        holdings read are kept equal to what is written, so later draws of the batch need no new read.
        """
        rows: list[tuple[str, str, str, int]] = []
        emptied: list[tuple[str, str, str]] = []
        for (lot, place, owner), g in deltas.items():
            if not g:
                continue
            if lot not in self._prefetched:
                raise AssertionError(f"holdings of lot {lot} changed without being read first")
            held = self._base.setdefault((lot, place), {})
            now = held.pop(owner, 0) + g
            if now:
                held[owner] = now
                rows.append((lot, place, owner, g))
            else:
                emptied.append((lot, place, owner))
        merge_values(self.conn, _add_to_position(self.conn.dialect.name), _POSITION_COLUMNS, rows)
        delete_keys(self.conn, positions, _POSITION_COLUMNS[:3], emptied)

    def _merge_shipments(self, dispatches: list[tuple[Any, ...]], receipts: list[tuple[Any, ...]]) -> None:
        """Fold dispatches and receipts into the shipment rows in the database itself, earliest of each winning
        (a later dispatch under the same waybill adds its grams): no row is read back into Python. Each merge
        takes at most one row per waybill, so a waybill's second dispatch of the batch goes in a second round,
        after its first, as if the two had come one by one."""
        dispatch, receipt = _shipment_merges(self.conn.dialect.name)
        for stmt, keys, rows in ((dispatch, _DISPATCH_COLUMNS, dispatches), (receipt, _RECEIPT_COLUMNS, receipts)):
            for merge in _rounds(rows):
                merge_values(self.conn, stmt, keys, merge)

    # --- corrections ---------------------------------------------------------------------------------
    def _retract(self, seq: int, ev: ChainEvent) -> None:
        """An errorDeclaration: undo everything the original produced; keep the event row, flagged."""
        c, eid = self.conn, ev.event_id
        row = c.execute(_EVENT_STATE, {"eid": eid}).first()
        if row is None:
            # Declared erroneous before (or without) the original arriving: it never counts.
            insert_values(c, events, _EVENT_COLUMNS, [self._event_row(seq, ev, retracted=True)])
            return
        original, waybill, retracted = row
        if retracted:
            # A further declaration is the newest record of the event: `seq` names it, for `latest_digests`.
            c.execute(_MARK_RETRACTED, {"eid": eid, "seq": seq})
            return
        undo: dict[tuple[str, str, str], int] = defaultdict(int)
        its_lots: set[str] = set()
        for lot, from_place, from_owner, to_place, to_owner, grams in c.execute(_MOVES_OF_EVENT, {"seq": original}):
            its_lots.add(lot)
            if from_place is not None:
                undo[(lot, from_place, from_owner)] += grams
            if to_place is not None:
                undo[(lot, to_place, to_owner)] -= grams
        its = {"eid": eid, "seq": original, "lots": sorted(its_lots)}
        for stmt in _UNDO:
            c.execute(stmt, its)
        self._prefetch(its_lots - self._prefetched)
        self._add_positions(undo)
        c.execute(_MARK_RETRACTED, {"eid": eid, "seq": seq})
        self._rebuild_shipment(waybill)

    def _rebuild_shipment(self, waybill: str | None) -> None:
        if not waybill:
            return
        c = self.conn
        c.execute(_DELETE_SHIPMENT, {"waybill": waybill})
        dispatches: list[tuple[Any, ...]] = []
        receipts: list[tuple[Any, ...]] = []
        for r in c.execute(_LIVE_ON_WAYBILL, {"waybill": waybill}).all():
            what = reading_of(r.event_type, r.action, r.biz_step, waybill, r.declaration_no, {})
            if what == DISPATCH:
                dispatches.append(
                    (waybill, r.place, r.dest_location, r.dest_party, r.event_id, r.event_time, int(r.shipped))
                )
            elif what == RECEIPT:
                receipts.append((waybill, r.event_id, r.event_time, r.place))
        self._merge_shipments(dispatches, receipts)


# The batch's reads, built once: a statement built per call spends more in SQLAlchemy than SQLite spends on it.
_CHUNK = 400  # values per IN list
_HOLDINGS_OF = select(positions.c.lot_id, positions.c.place, positions.c.owner, positions.c.grams).where(
    positions.c.lot_id.in_(bindparam("ids", expanding=True))
)
_HELD_BY = select(positions.c.place, positions.c.grams).where(
    positions.c.lot_id == bindparam("lot"), positions.c.owner == bindparam("owner")
)
# `retracted`, not `retracted IS true`: PostgreSQL answers the former from the partial index of retracted events.
_RETRACTED_AMONG = select(events.c.event_id).where(
    events.c.event_id.in_(bindparam("ids", expanding=True)), events.c.retracted
)
# Corrections.
_EVENT_STATE = select(events.c.seq, events.c.waybill, events.c.retracted).where(events.c.event_id == bindparam("eid"))
# The event itself, arriving after its errorDeclaration: on record now, still retracted.
_MARK_ORIGINAL = update(events).where(events.c.event_id == bindparam("eid")).values(original_seq=bindparam("original"))
_MARK_RETRACTED = (
    update(events).where(events.c.event_id == bindparam("eid")).values(retracted=True, seq=bindparam("seq"))
)
_MOVES_OF_EVENT = select(
    event_lots.c.lot_id,
    event_lots.c.from_place,
    event_lots.c.from_owner,
    event_lots.c.to_place,
    event_lots.c.to_owner,
    event_lots.c.grams,
).where(event_lots.c.seq == bindparam("seq"))
_UNDO = (  # each takes the event's id, its capture's seq and its lots
    delete(event_lots).where(event_lots.c.seq == bindparam("seq")),
    delete(exports).where(exports.c.event_id == bindparam("eid")),
    # The lots it made are among its lots: found by key, not by scanning every lot for its maker.
    delete(genealogy).where(
        genealogy.c.output_lot.in_(bindparam("lots", expanding=True)), genealogy.c.event_id == bindparam("eid")
    ),
    delete(lots).where(lots.c.lot_id.in_(bindparam("lots", expanding=True)), lots.c.created_event == bindparam("eid")),
)
_DELETE_SHIPMENT = delete(shipments).where(shipments.c.waybill == bindparam("waybill"))
_SHIPPED_GRAMS = (
    select(func.coalesce(func.sum(event_lots.c.grams), 0))
    .where(event_lots.c.seq == events.c.seq, event_lots.c.role == "shipped")
    .scalar_subquery()
)
_LIVE_ON_WAYBILL = (
    select(
        events.c.event_id,
        events.c.event_type,
        events.c.action,
        events.c.biz_step,
        events.c.declaration_no,
        func.coalesce(events.c.biz_location, events.c.read_point, "").label("place"),  # the place capture used
        events.c.dest_location,
        events.c.dest_party,
        events.c.event_time,
        _SHIPPED_GRAMS.label("shipped"),
    )
    .where(events.c.waybill == bindparam("waybill"), events.c.retracted.is_(False))
    .order_by(events.c.event_time)
)


def _earliest_wins(dialect: str, columns: tuple[str, ...], at: str) -> Insert:
    """Upsert of a shipment row's `columns` (the waybill first) that takes the new values only when its time
    `at` is earlier than the stored one; the grams of every dispatch under the waybill add up."""
    t = shipments
    ins = insert_or(dialect, t)
    x = ins.excluded
    first = or_(t.c[at].is_(None), x[at] < t.c[at])
    keep_first = {name: case((first, x[name]), else_=t.c[name]) for name in columns[1:]}
    if "grams" in keep_first:
        # Another dispatch under the waybill adds its grams, whichever of the two arrived first.
        another = (x.dispatch_event != t.c.dispatch_event, func.coalesce(t.c.grams, literal_column("0")) + x.grams)
        keep_first["grams"] = case(another, (first, x.grams), else_=t.c.grams)
    return ins.on_conflict_do_update(index_elements=[t.c.waybill], set_=keep_first)


@cache
def _shipment_merges(dialect: str) -> tuple[Insert, Insert]:
    """The upserts of a dispatch and of a receipt: the earliest of each names the shipment's origin and
    destination (its receipt)."""
    return (
        _earliest_wins(dialect, _DISPATCH_COLUMNS, "dispatched_at"),
        _earliest_wins(dialect, _RECEIPT_COLUMNS, "received_at"),
    )


@cache
def _add_to_position(dialect: str) -> Insert:
    """Adds a delta to a holding, creating it when new."""
    ins = insert_or(dialect, positions)
    return ins.on_conflict_do_update(
        index_elements=[positions.c.lot_id, positions.c.place, positions.c.owner],
        set_={"grams": positions.c.grams + ins.excluded.grams},
    )


def _rounds(rows: list[tuple[Any, ...]]) -> list[list[tuple[Any, ...]]]:
    """Rows split into rounds in which no first value (the key) comes twice, each key's rows in their order."""
    rounds: list[list[tuple[Any, ...]]] = []
    seen: dict[Any, int] = {}
    for row in rows:
        n = seen.get(row[0], 0)
        seen[row[0]] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(row)
    return rounds


def _off_profile(ev: ChainEvent) -> str | None:
    """The events row's record of a departure from the stage profile: how the event was read, and why."""
    if not ev.off_profile:
        return None
    departures = [[where, why.to_json()] for where, why in ev.off_profile]
    return orjson.dumps({"reading": ev.reading, "departures": departures}).decode()


def _merged(quantities: tuple[LotQty, ...]) -> Sequence[LotQty]:
    """A lot listed twice in one list is one quantity, their sum: the event moved that much of it, once."""
    if len(quantities) < 2 or len({q.lot for q in quantities}) == len(quantities):
        return quantities
    total: dict[str, int] = {}
    for q in quantities:
        total[q.lot] = total.get(q.lot, 0) + q.grams
    return [LotQty(lot, grams) for lot, grams in total.items()]


def _lots_of(items: Sequence[tuple[int, ChainEvent]]) -> set[str]:
    return {q.lot for _, ev in items for q in (*ev.quantities, *ev.inputs, *ev.outputs)}


def clear_projections(conn: Connection) -> None:
    for table in PROJECTION_TABLES:
        conn.execute(delete(table))


def newest_event_time(conn: Connection) -> datetime | None:
    return conn.execute(select(func.max(events.c.event_time)).where(events.c.retracted.is_(False))).scalar_one()
