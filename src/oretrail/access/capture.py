"""Whether a caller may capture what a document or feed file holds, record by record, before anything of it
is written.

A capture permission's constraint is checked against each record: an EPCIS event by the places where it
happens (`bizLocation`, `readPoint`), whose owner and province the registry gives (or, for a facility the
registry does not list, the USCC in its URI: `ids.party_of_location`); a registry record by its own party and
province; a licence or declaration by its exporter. Ports belong to nobody: an enterprise may report an
export at a port. An event at no place at all is its parties' (source or destination) to report. The first
record that no permission covers refuses the whole document, naming the record and the place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from oretrail.access.caller import Caller
from oretrail.access.permissions import table
from oretrail.i18n.message import Message, Said
from oretrail.ids import PORT_PREFIX, party_of_location
from oretrail.intake.epcis import CapturedEvent, read_document
from oretrail.registry.records import Enterprise, parse_registry
from oretrail.storage.schema import enterprises, facilities
from oretrail.trade.records import parse_declarations, parse_licences

# Which kind of object each feed of `feeds.FEEDS` writes, for the permission table.
FEED_KINDS: Mapping[str, str] = {
    "events": "event",
    "registry": "registry",
    "licences": "licence",
    "declarations": "declaration",
    "mirror": "mirror",
    "watchlist": "watchlist",
    "reports": "report",
    "supervision": "supervision",
}

Constraint = dict[str, tuple[str, ...]]


class CaptureDenied(PermissionError):
    """A record the caller may not capture: `record` names it (event id and index, or line), `reason` why."""

    def __init__(
        self, document: str, record: str | Said, reason: str | Said, index: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(DENIED(document=document, record=record, reason=reason))
        self.document = document
        self.record = record
        self.said = reason  # in the reader's language, where it is a message
        self.reason = str(reason)
        self.index = index  # the event's position in the document's eventList, when it is one event
        self.field = field  # the field that places it (bizLocation, readPoint), when there is one


@dataclass(frozen=True)
class Place:
    id: str
    owner: str | None  # None: nobody's (a port) or unknown
    province: str | None
    known: bool  # in the registry, or an oretrail facility URI naming its owner


def _places(conn: Connection, ids: Sequence[str]) -> dict[str, Place]:
    wanted = sorted(set(ids))
    found: dict[str, Place] = {}
    for i in range(0, len(wanted), 400):
        q = select(facilities.c.location_id, facilities.c.owner, facilities.c.province).where(
            facilities.c.location_id.in_(wanted[i : i + 400])
        )
        found.update((r.location_id, Place(r.location_id, r.owner, r.province, True)) for r in conn.execute(q))
    for place in wanted:
        if place not in found:
            owner = party_of_location(place)
            found[place] = Place(place, owner, None, owner is not None or place.startswith(PORT_PREFIX))
    return found


def _provinces_of(conn: Connection, parties: Sequence[str]) -> dict[str, str]:
    wanted = sorted(set(parties))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), 400):
        q = select(enterprises.c.party_id, enterprises.c.province).where(
            enterprises.c.party_id.in_(wanted[i : i + 400])
        )
        out.update((r.party_id, r.province) for r in conn.execute(q))
    return out


DENIED = Message("capture.denied", "{document}: {record}: {reason}")
PORT_ELSEWHERE = Message("capture.port_elsewhere", "{place} is a port in no province of yours")
NOT_REGISTERED = Message("capture.not_registered", "{place} is not in the registry, so it is not known to be yours")
OWNED_BY_OTHER = Message("capture.owned_by_other", "{place} belongs to {owner}, not to {parties:or}")
OTHER_PROVINCE = Message("capture.other_province", "{place} is in {where:province}, not in {provinces:or}")
UNREGISTERED_PROVINCE = Message("capture.unregistered_province", "{place} is in no registered province")
NO_PLACE_PARTY = Message("capture.no_place_party", "it happens at no place and names none of your parties")
NO_PLACE_PROVINCE = Message("capture.no_place_province", "it happens at no place, so in no province of yours")
NOTHING_COVERS = Message("capture.nothing_covers", "no permission covers it")
MAY_NOT_CAPTURE = Message("capture.may_not", "{user} may not capture {kind} records")
EVENT_AT = Message("capture.event_at", "event {index} ({event_id}) at {place}")
NO_PLACE = Message("capture.no_place", "no place")
WHOLE_DOCUMENT = Message("capture.whole_document", "the document")


def _place_fails(place: Place, constraint: Constraint) -> Said | None:
    """Why `constraint` does not cover an event at `place`; None when it does."""
    if place.id.startswith(PORT_PREFIX) and place.owner is None:
        # A port is nobody's: reporting an export there needs no ownership; a province constraint still binds.
        if "province" in constraint and place.province not in constraint["province"]:
            return PORT_ELSEWHERE(place=place.id)
        return None
    if not place.known:
        return NOT_REGISTERED(place=place.id)
    if "party" in constraint and place.owner not in constraint["party"]:
        return OWNED_BY_OTHER(place=place.id, owner=place.owner, parties=list(constraint["party"]))
    if "province" in constraint and place.province not in constraint["province"]:
        if not place.province:
            return UNREGISTERED_PROVINCE(place=place.id)
        return OTHER_PROVINCE(place=place.id, where=place.province, provinces=list(constraint["province"]))
    return None


def _first_failure(reasons: Sequence[str | Said | None]) -> str | Said | None:
    """None when some alternative holds, else the first alternative's reason."""
    if any(r is None for r in reasons):
        return None
    return next((r for r in reasons if r), NOTHING_COVERS())


def _event_denials(
    conn: Connection, data: bytes | list[CapturedEvent], name: str, alternatives: list[Constraint]
) -> list[CaptureDenied]:
    captured = read_document(data, name) if isinstance(data, bytes) else data
    places = _places(conn, [p for c in captured for p in (c.chain.biz_location, c.chain.read_point) if p])
    denied: list[CaptureDenied] = []
    for c in captured:
        ev = c.chain
        at = [places[p] for p in (ev.biz_location, ev.read_point) if p]
        reasons: list[str | Said | None] = []
        for constraint in alternatives:
            if at:
                reasons.append(next((r for p in at if (r := _place_fails(p, constraint))), None))
            else:
                named = set(ev.sources.values()) | set(ev.destinations.values())
                if "party" in constraint and not named & set(constraint["party"]):
                    reasons.append(NO_PLACE_PARTY())
                elif "province" in constraint:
                    reasons.append(NO_PLACE_PROVINCE())
                else:
                    reasons.append(None)
        reason = _first_failure(reasons)
        if reason is not None:
            where = ev.biz_location or ev.read_point or NO_PLACE()
            field = "bizLocation" if ev.biz_location else "readPoint" if ev.read_point else None
            record = EVENT_AT(index=c.position, event_id=ev.event_id, place=where)
            denied.append(CaptureDenied(name, record, reason, c.position, field))
    return denied


def _check_events(conn: Connection, data: bytes, name: str, alternatives: list[Constraint]) -> None:
    denied = _event_denials(conn, data, name, alternatives)
    if denied:
        raise denied[0]


def _check_registry(data: bytes, name: str, alternatives: list[Constraint]) -> None:
    for line, rec in enumerate(parse_registry(data.splitlines(), name), start=1):
        party = rec.party_id if isinstance(rec, Enterprise) else rec.owner
        ident = rec.party_id if isinstance(rec, Enterprise) else rec.location_id
        reasons: list[str | None] = []
        for constraint in alternatives:
            if "party" in constraint and party not in constraint["party"]:
                reasons.append(f"{ident} is {party}'s, not yours")
            elif "province" in constraint and rec.province not in constraint["province"]:
                reasons.append(f"{ident} is in {rec.province}, not in {' or '.join(constraint['province'])}")
            else:
                reasons.append(None)
        reason = _first_failure(reasons)
        if reason is not None:
            raise CaptureDenied(name, f"line {line} ({ident})", reason)


def _check_trade(conn: Connection, kind: str, data: bytes, name: str, alternatives: list[Constraint]) -> None:
    lines = data.splitlines()
    parsed = parse_licences(lines, name) if kind == "licence" else parse_declarations(lines, name)
    records = [
        (getattr(rec, "licence_no", None) or getattr(rec, "declaration_no", ""), rec.exporter) for rec, _ in parsed
    ]
    provinces = _provinces_of(conn, [exporter for _, exporter in records])
    for line, (ident, exporter) in enumerate(records, start=1):
        reasons: list[str | None] = []
        for constraint in alternatives:
            if "party" in constraint and exporter not in constraint["party"]:
                reasons.append(f"its exporter {exporter} is not yours")
            elif "province" in constraint and provinces.get(exporter) not in constraint["province"]:
                reasons.append(f"its exporter {exporter} is not registered in {' or '.join(constraint['province'])}")
            else:
                reasons.append(None)
        reason = _first_failure(reasons)
        if reason is not None:
            raise CaptureDenied(name, f"{kind} line {line} ({ident})", reason)


def _check_supervised(conn: Connection, kind: str, data: bytes, name: str, alternatives: list[Constraint]) -> None:
    """Reports and supervision records by the enterprise they concern and its registered province; a
    training by the province that held it; a closure by the enterprise of the action it closes."""
    from oretrail.storage.schema import corrective_actions
    from oretrail.supervision.records import Closure, Inspection, Training, parse_reports, parse_supervision

    lines = data.splitlines()
    subjects: list[tuple[str, str | None, str | None]] = []  # (record, party, province of its own)
    if kind == "report":
        subjects = [(f"line {i} ({rep.key})", rep.enterprise, None)
                    for i, (rep, _) in enumerate(parse_reports(lines, name), 1)]  # fmt: skip
    else:
        parsed = parse_supervision(lines, name)
        opened = {a.id: rec.enterprise for rec, _ in parsed if isinstance(rec, Inspection) for a in rec.actions}
        for i, (rec, _) in enumerate(parsed, 1):
            if isinstance(rec, Training):
                subjects.append((f"line {i} ({rec.id})", None, rec.province))
            elif isinstance(rec, Closure):
                party = (
                    opened.get(rec.action)
                    or conn.execute(
                        select(corrective_actions.c.enterprise).where(corrective_actions.c.id == rec.action)
                    ).scalar()
                )
                subjects.append((f"line {i} (closure of {rec.action})", party, None))
            else:
                subjects.append((f"line {i} ({rec.id})", rec.enterprise, None))
    provinces = _provinces_of(conn, [p for _, p, _ in subjects if p])
    for record, party, own in subjects:
        province = own or (provinces.get(party) if party else None)
        reasons: list[str | None] = []
        for constraint in alternatives:
            if "party" in constraint and party not in constraint["party"]:
                reasons.append(f"it concerns {party or 'no enterprise on record'}, not yours")
            elif "province" in constraint and province not in constraint["province"]:
                reasons.append(f"it concerns {province or 'no registered province'}, not "
                               f"{' or '.join(constraint['province'])}")  # fmt: skip
            else:
                reasons.append(None)
        reason = _first_failure(reasons)
        if reason is not None:
            raise CaptureDenied(name, record, reason)


def check_capture(conn: Connection, caller: Caller, feed: str, data: bytes, name: str) -> None:
    """Raise CaptureDenied for the first record of `data` the caller may not capture; IntakeError when the
    document cannot be read (the capture would refuse it the same way). Unconstrained callers are not read."""
    kind = FEED_KINDS[feed]
    alternatives = table().constraints(caller, "capture", kind)
    if alternatives is None:
        return
    if not alternatives:
        raise CaptureDenied(name, "the document", f"{caller.user} may not capture {kind} records")
    if kind == "event":
        _check_events(conn, data, name, alternatives)
    elif kind == "registry":
        _check_registry(data, name, alternatives)
    elif kind in ("licence", "declaration"):
        _check_trade(conn, kind, data, name, alternatives)
    elif kind in ("report", "supervision"):
        _check_supervised(conn, kind, data, name, alternatives)
    else:
        raise CaptureDenied(name, "the document", f"{kind} records have no attribute a constraint could check")


def event_denials(
    conn: Connection, caller: Caller, data: bytes | list[CapturedEvent], name: str
) -> list[CaptureDenied]:
    """Every event of an EPCIS document (its bytes, or its events as already read) the caller may not capture
    (not only the first), each with its index in the eventList: a capture job reports them all, and with
    `proceed` leaves out just those. Empty for an unconstrained caller, whose document is not read;
    IntakeError when the document cannot be read."""
    alternatives = table().constraints(caller, "capture", "event")
    if alternatives is None:
        return []
    if not alternatives:
        return [CaptureDenied(name, WHOLE_DOCUMENT(), MAY_NOT_CAPTURE(user=caller.user, kind="event"))]
    return _event_denials(conn, data, name, alternatives)
