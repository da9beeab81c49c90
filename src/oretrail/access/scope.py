"""What a caller may see, as SQL: one predicate per object kind, built from the permission table.

Listing endpoints add the predicate to their query, so filtering happens in the database and a page is never
cut short after the fact; single reads ask the same predicate about one key, so a list and a read never
disagree. A permission's constraint becomes an AND of attribute predicates; several permissions OR together;
no permission is `false()`, an unconstrained one `true()`.

Province and ownership of a place come from the registry (`facilities`); a facility URI that the registry
does not list still names its owner's USCC (`ids.party_of_location`), which the party predicates match by
prefix. A port belongs to no province and no party: events at a port are seen through their parties only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true

from oretrail.access.caller import Caller
from oretrail.access.permissions import table
from oretrail.ids import LOCATION_PREFIX, PARTY_PREFIX
from oretrail.storage.schema import (
    alert_actions,
    alerts,
    bulletin_recipients,
    bulletins,
    declarations,
    enterprises,
    events,
    facilities,
    licences,
    lots,
    positions,
)

LOT_PREFIX = "urn:oretrail:lot:"

Predicate = Callable[[str, tuple[str, ...]], ColumnElement[bool]]


def _places_in(provinces: Sequence[str]) -> Select[tuple[str]]:
    return select(facilities.c.location_id).where(facilities.c.province.in_(provinces))


def _places_of(parties: Sequence[str]) -> Select[tuple[str]]:
    return select(facilities.c.location_id).where(facilities.c.owner.in_(parties))


def _usccs(parties: Sequence[str]) -> list[str]:
    return [p.removeprefix(PARTY_PREFIX) for p in parties if p.startswith(PARTY_PREFIX)]


def _named_by(column: ColumnElement[str], prefix: str, parties: Sequence[str]) -> list[ColumnElement[bool]]:
    """`column` is an oretrail URI minted under one of the parties' USCCs (`<prefix><USCC>:<code>`)."""
    return [column.startswith(f"{prefix}{u}:") for u in _usccs(parties)]


def _build(caller: Caller, action: str, kind: str, predicate: Predicate) -> ColumnElement[bool]:
    alternatives = table().constraints(caller, action, kind)
    if alternatives is None:
        return true()
    terms: list[ColumnElement[bool]] = []
    for constraint in alternatives:
        parts = [predicate(attribute, values) if values else false() for attribute, values in constraint.items()]
        terms.append(and_(*parts))
    return or_(*terms) if terms else false()


def _unknown(kind: str, attribute: str) -> ColumnElement[bool]:
    raise ValueError(f"constraint attribute {attribute!r} has no meaning for {kind} records")


def alerts_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    """Alerts the caller may read (or act on): by jurisdiction, by department (routed to it or shared with it
    through the workflow log), by the enterprise concerned, by rule family."""

    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":  # its own, or handed down to it by the centre (alerts/workflow.py)
            return or_(alerts.c.jurisdiction.in_(values), alerts.c.handed_to.in_(values))
        if attribute == "department":
            shared = exists().where(
                alert_actions.c.alert_id == alerts.c.id,
                alert_actions.c.action == "share",
                alert_actions.c.department.in_(values),
            )
            return or_(*[alerts.c.departments.contains(f'"{d}"') for d in values], shared)
        if attribute == "party":
            return alerts.c.party.in_(values)
        if attribute == "rule":
            return or_(*[(alerts.c.rule == r) | alerts.c.rule.startswith(r + ".") for r in values])
        return _unknown("alert", attribute)

    return _build(caller, action, "alert", predicate)


def bulletins_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    """Bulletins the caller may read (or acknowledge): issued by, or sent to, their department or province."""
    r = bulletin_recipients.c

    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            sent = exists().where(r.bulletin_id == bulletins.c.id, r.province.in_(values))
            return or_(bulletins.c.province.in_(values), sent)
        if attribute == "department":
            sent = exists().where(r.bulletin_id == bulletins.c.id, r.department.in_(values))
            return or_(bulletins.c.department.in_(values), sent)
        return _unknown("bulletin", attribute)

    return _build(caller, action, "bulletin", predicate)


def events_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    """Events the caller may read: those at a place in their province; for an enterprise, those at its own
    facilities, and those naming it as source or destination party or sending goods to its facilities."""

    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            places = _places_in(values)
            return or_(events.c.biz_location.in_(places), events.c.read_point.in_(places))
        if attribute == "party":
            owned = _places_of(values)
            return or_(
                events.c.biz_location.in_(owned),
                events.c.read_point.in_(owned),
                events.c.dest_location.in_(owned),
                events.c.source_party.in_(values),
                events.c.dest_party.in_(values),
                *_named_by(events.c.biz_location, LOCATION_PREFIX, values),
            )
        return _unknown("event", attribute)

    return _build(caller, action, "event", predicate)


def lots_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    """Lots made at a place in the caller's province or held there; for an enterprise, lots it made (at its
    facilities, or under its USCC) or holds. A holding is a positive position: drawing more of someone
    else's lot than was ever delivered (a negative position, which balance.lot reports) gives no view of it."""

    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            places = _places_in(values)
            held = select(positions.c.lot_id).where(positions.c.place.in_(places), positions.c.grams > 0)
            return or_(lots.c.created_location.in_(places), lots.c.lot_id.in_(held))
        if attribute == "party":
            held = select(positions.c.lot_id).where(positions.c.owner.in_(values), positions.c.grams > 0)
            return or_(
                lots.c.created_location.in_(_places_of(values)),
                lots.c.lot_id.in_(held),
                *_named_by(lots.c.created_location, LOCATION_PREFIX, values),
                *_named_by(lots.c.lot_id, LOT_PREFIX, values),
            )
        return _unknown("lot", attribute)

    return _build(caller, action, "lot", predicate)


def _exporter_predicate(kind: str, exporter: ColumnElement[str]) -> Predicate:
    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            return exporter.in_(select(enterprises.c.party_id).where(enterprises.c.province.in_(values)))
        if attribute == "party":
            return exporter.in_(values)
        return _unknown(kind, attribute)

    return predicate


def licences_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    """Licences by their exporter: its province, or the enterprise itself. An enterprise never sees another
    exporter's licence, dual-use or not."""
    return _build(caller, action, "licence", _exporter_predicate("licence", licences.c.exporter))


def declarations_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    """Customs declarations by their exporter, as licences."""
    return _build(caller, action, "declaration", _exporter_predicate("declaration", declarations.c.exporter))


def enterprises_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            return enterprises.c.province.in_(values)
        if attribute == "party":
            return enterprises.c.party_id.in_(values)
        return _unknown("registry", attribute)

    return _build(caller, action, "registry", predicate)


def facilities_visible(caller: Caller, action: str = "read") -> ColumnElement[bool]:
    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            return facilities.c.province.in_(values)
        if attribute == "party":
            return facilities.c.owner.in_(values)
        return _unknown("registry", attribute)

    return _build(caller, action, "registry", predicate)


def unconstrained(caller: Caller, action: str, kind: str) -> bool:
    """True when the caller may `action` every object of `kind` (no constraint narrows it)."""
    return bool(table().grants(caller, action, kind)) and table().constraints(caller, action, kind) is None


def supervised_visible(
    caller: Caller,
    enterprise: ColumnElement[str],
    action: str = "read",
    kind: str = "supervision",
    province: ColumnElement[str] | None = None,
) -> ColumnElement[bool]:
    """Supervision records (kind `supervision`) or monthly reports (`report`) by the enterprise they concern:
    its registered province, or the enterprise itself. `province`: a record's own province where it has one
    (a training, a plan), used instead of the enterprise's."""

    def predicate(attribute: str, values: tuple[str, ...]) -> ColumnElement[bool]:
        if attribute == "province":
            if province is not None:
                return province.in_(values)
            return enterprise.in_(select(enterprises.c.party_id).where(enterprises.c.province.in_(values)))
        if attribute == "party":
            return enterprise.in_(values)
        return _unknown(kind, attribute)

    return _build(caller, action, kind, predicate)
