"""The strategic-mineral reading of one EPCIS event (SPEC.md §2), free of JSON and of storage.

Intake turns every accepted event into a `ChainEvent`; projections and rules only ever see this shape,
so a change in how a document spells something stays inside intake. The shapes are named tuples: immutable
like a frozen dataclass, but built in C, which matters at a million events (a frozen dataclass of this
size costs about 4 µs to build, a named tuple under 1 µs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from oretrail.ids import BTT_BOL, BTT_DECLARATION, DECLARATION_PREFIX

if TYPE_CHECKING:
    from oretrail.i18n.message import Said

_NONE: Mapping[str, str] = MappingProxyType({})


class LotQty(NamedTuple):
    lot: str
    grams: int  # integer grams: exact sums on every engine


class ErrorDeclaration(NamedTuple):
    declaration_time: datetime
    reason: str | None
    corrective_event_ids: tuple[str, ...]


class ChainEvent(NamedTuple):
    event_id: str
    event_type: str  # ObjectEvent, AggregationEvent, TransactionEvent, TransformationEvent, AssociationEvent
    event_time: datetime  # naive UTC
    action: str | None = None
    biz_step: str | None = None  # CBV short name ('shipping') or the full URI of a non-CBV step
    stage: str | None = None  # ot:stage, None for events outside the profile
    biz_location: str | None = None
    read_point: str | None = None
    quantities: tuple[LotQty, ...] = ()  # quantityList (and childQuantityList)
    inputs: tuple[LotQty, ...] = ()  # inputQuantityList
    outputs: tuple[LotQty, ...] = ()  # outputQuantityList
    material: str | None = None  # ilmd ot:material, for every lot the event creates
    grade: float | None = None  # ilmd ot:grade, mass fraction of the material's element
    sources: Mapping[str, str] = _NONE  # CBV source type short name → id
    destinations: Mapping[str, str] = _NONE
    biz_transactions: tuple[tuple[str, str], ...] = ()  # (type short name or URI, id)
    error_declaration: ErrorDeclaration | None = None
    # Where the event departs from the stage profile of SPEC.md §2, as (field, reason) pairs, the reason a
    # message so that the officer reads it in their language: stored and read for what it does all the same,
    # and judged by the rule intake.off_profile.
    off_profile: tuple[tuple[str, Said], ...] = ()

    def transaction(self, kind: str) -> str | None:
        for t, tid in self.biz_transactions:
            if t == kind:
                return tid
        return None

    @property
    def waybill(self) -> str | None:
        return self.transaction(BTT_BOL)

    @property
    def declaration_no(self) -> str | None:
        ref = self.transaction(BTT_DECLARATION)
        if ref is None:
            return None
        return ref[len(DECLARATION_PREFIX) :] if ref.startswith(DECLARATION_PREFIX) else ref

    @property
    def reading(self) -> str:
        """What the event does to the chain (READINGS), whatever its stage says."""
        return reading_of(
            self.event_type, self.action, self.biz_step, self.waybill, self.declaration_no, self.destinations
        )


# What an event does to the chain, whatever its stage says (docs/projections.md). Intake names the reading in
# its profile departures and the projector applies it, so both always agree.
TRANSFORMATION = "transformation"
CREATION = "creation"
REMOVAL = "removal"
DISPATCH = "dispatch"
RECEIPT = "receipt"
ARRIVAL = "arrival"
EXPORT = "export"
SALE = "sale"
OBSERVATION = "observation"
READINGS: Mapping[str, str] = MappingProxyType(
    {
        TRANSFORMATION: "its inputs consumed and its outputs created at its place",
        CREATION: "its lots created at its place",
        REMOVAL: "its lots drawn from its place, to nowhere on record",
        DISPATCH: "its lots dispatched from its place under its waybill",
        RECEIPT: "its lots received at its place from its waybill",
        ARRIVAL: "its lots arrived at its place, from nowhere on record",
        EXPORT: "its lots exported from its place under its customs declaration",
        SALE: "its lots passed to the buyer (owning_party)",
        OBSERVATION: "an observation: nothing moved",
    }
)
# CBV 2.0 business steps that take goods out of a place (shipping: the goods leave for another party's
# location; departing: the conveyance leaves the place with them) and that bring goods in (receiving: taken
# into inventory; arriving: the conveyance arrives with them). Other steps (loading, storing, inspecting,
# ...) happen within one place and move nothing between places.
OUTBOUND_STEPS = frozenset({"shipping", "departing"})
INBOUND_STEPS = frozenset({"receiving", "arriving"})


def reading_of(
    event_type: str,
    action: str | None,
    biz_step: str | None,
    waybill: str | None,
    declaration_no: str | None,
    destinations: Mapping[str, str],
) -> str:
    """What an event does, from EPCIS semantics alone (EPCIS 2.0 §7.4, CBV 2.0 §7.1), never from ot:stage.

    A TransformationEvent consumes its inputs and creates its outputs. An ObjectEvent ADD brings its lots
    into being where it happens and a DELETE takes them out of it. An OBSERVE moves goods only under a step
    that moves them: outbound under a customs declaration is an export, under a waybill a dispatch, under
    neither the goods leave the place for nowhere on record (drawn); inbound under a waybill is its receipt,
    without one the goods arrive from nowhere on record. A TransactionEvent ADD that names the new owner
    passes ownership. Anything else is an observation.
    """
    if event_type == "TransformationEvent":
        return TRANSFORMATION
    if event_type == "TransactionEvent":
        return SALE if action == "ADD" and "owning_party" in destinations else OBSERVATION
    if event_type != "ObjectEvent":
        return OBSERVATION
    if action == "ADD":
        return CREATION
    if action == "DELETE":
        return REMOVAL
    if biz_step in OUTBOUND_STEPS:
        if declaration_no:
            return EXPORT
        return DISPATCH if waybill else REMOVAL
    if biz_step in INBOUND_STEPS:
        return RECEIPT if waybill else ARRIVAL
    return OBSERVATION
