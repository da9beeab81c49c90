"""EPCIS 2.0 JSON / JSON-LD intake: validation layers 1–3 of DESIGN.md, and the chain reading of each event.

Refused, with an IntakeError naming the document, the event's index in the eventList, the field and the
reason, is only what is not valid EPCIS 2.0 or cannot be read at all; the first refused event refuses the
whole document (EPCIS capture is all or nothing) and nothing of it is stored:
- layer 1, structure: our own JSON Schema (epcis_schema.json, compiled with jsonschema-rs with `format`
  checked, because `format: uri` is what refuses bare non-CBV words and un-namespaced extension keys);
- layer 2, vocabulary: CBV business steps, dispositions, transaction, source/destination and error-reason
  types; extension prefixes that @context does not declare; oretrail keys unknown at their level, an unknown
  `ot:stage`, an `ot:material` that is not a catalogue code, an `ot:grade` outside (0, 1];
- quantities of an event with `ot:stage`: a quantity or unit missing, a unit other than KGM, TNE, GRM, a
  quantity not above zero or under half a gram (the chain reads mass, and these have none it can read);
- times: unreadable, or more than an hour after the clock;
- two different parties of one source/destination type in a staged event (which of them sold?);
- one eventID with two different contents in one document, except an event and its correction.

Everything else about the shape of a staged event is layer 3, the stage profile of SPEC.md §2, and refuses
nothing: the event is stored, read for what it does (`ChainEvent.reading`), and its departures from the
profile travel on `ChainEvent.off_profile` for the rule intake.off_profile: the event type, action,
bizStep, quantity lists, bizLocation, business transaction, source and destination parties, a missing
eventID (the derived one is used), lots created without `ot:material` / `ot:grade` in ilmd, and an event
without `ot:stage` that moves goods. docs/feeds.md keeps the same list for senders.

Layer 4 (registry, lots, plausibility) is not here on purpose: an event that is well formed but suspicious
is evidence, and the rules judge it after it is stored. Layer 2 reads the JSON-LD namespaces (so `ot:stage`
works whatever prefix a document binds to the oretrail namespace), folds CBV spellings and converts
quantities to integer grams.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib.resources import files
from typing import Any, NamedTuple

import jsonschema_rs
import orjson
import rfc8785

from oretrail.catalogue import load_catalogue
from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.ids import BTT_BOL, BTT_DECLARATION, BTT_INVOICE, STAGES
from oretrail.intake import vocabulary as voc
from oretrail.limits import EARLIEST_YEAR, MAX_GRAMS, NotJSON, check_names
from oretrail.model import (
    CREATION,
    OBSERVATION,
    TRANSFORMATION,
    ChainEvent,
    ErrorDeclaration,
    LotQty,
)

GRAMS_PER_UNIT: Mapping[str, int] = {"KGM": 1000, "TNE": 1_000_000, "GRM": 1}
_FLOAT_EXACT_ENOUGH = 2.0**40  # grams: below it a float product errs by less than 0.001 g
FUTURE_TOLERANCE = timedelta(hours=1)  # clocks drift; an event an hour ahead is a wrong clock, not a lie
GENERATED_ID_PREFIX = "urn:oretrail:event:sha256:"

_SCHEMA: dict[str, Any] = orjson.loads(files("oretrail.intake").joinpath("epcis_schema.json").read_bytes())
_VALIDATOR = jsonschema_rs.Draft7Validator(_SCHEMA, validate_formats=True)
_EVENTS_PATH = {
    "EPCISDocument": ("epcisBody", "eventList"),
    "EPCISQueryDocument": ("epcisBody", "queryResults", "resultsBody", "eventList"),
}
# The oretrail keys known at each level of an event; anywhere else an oretrail key is a mistake.
_EVENT_OT_KEYS = frozenset({"stage"})
_ILMD_OT_KEYS = frozenset({"material", "grade"})
_NO_OT_KEYS: frozenset[str] = frozenset()

# What a refusal says, in the sender's words (EPCIS field names and CBV terms stay as the standard spells them).
NOT_A_DOCUMENT = Message("intake.epcis.not_a_document", "{what} is not accepted: send events in an EPCISDocument")
SAME_ID = Message("intake.epcis.same_id", "{event_id} is also event {other}, with different content")
TOO_LARGE = Message(
    "intake.epcis.too_large",
    "document is {size} bytes, over the limit of {limit} bytes ({mib} MiB); split it into smaller documents",
)
MALFORMED = Message("intake.epcis.malformed", "malformed JSON at line {line} column {column}: {error}")
NOT_AN_OBJECT = Message("intake.epcis.not_an_object", "expected an EPCISDocument object, got a JSON {kind}")
UNDECLARED_PREFIX = Message(
    "intake.epcis.undeclared_prefix",
    "extension key '{key}' uses the prefix '{prefix}', which @context does not declare",
)
UNKNOWN_OT_KEY = Message("intake.epcis.unknown_ot_key", "unknown oretrail key '{key}' (known here: {known})")
OT_KEY_TWICE = Message("intake.epcis.ot_key_twice", "oretrail {local} is given twice ('{first}' and '{key}')")
UNKNOWN_STAGE = Message("intake.epcis.unknown_stage", "unknown stage {stage} (use one of {stages})")
NO_EVENT_ID = Message("intake.epcis.no_event_id", "no eventID, and none can be computed ({error}); give the event one")
BAD_TIME = Message("intake.epcis.bad_time", "'{value}' is not a valid time, or not one that can be read in UTC")
TOO_OLD = Message("intake.epcis.too_old", "{value} is before {year}: no record of this platform can be that old")
IN_FUTURE = Message("intake.epcis.in_future", "{value} is in the future (more than 1 hour after {limit} UTC)")
MATERIAL_NOT_CODE = Message(
    "intake.epcis.material_not_code", "material must be a catalogue code such as 'ga.metal', got {material}"
)
UNKNOWN_MATERIAL = Message("intake.epcis.unknown_material", "'{material}' is not a material code of the catalogue")
NO_QUANTITY = Message("intake.epcis.no_quantity", "missing quantity")
NO_UNIT = Message("intake.epcis.no_unit", "missing unit (use KGM, TNE or GRM)")
UNKNOWN_UNIT = Message("intake.epcis.unknown_unit", "unknown unit '{uom}' (use KGM, TNE or GRM)")
# Layer 3: departures from the stage profile (stored with the event as messages, read in the reader's language).
DEPARTS_NO_STAGE = Message("intake.departs.no_stage", "missing: every event that moves goods names its stage")
DEPARTS_NO_EVENT_ID = Message(
    "intake.departs.no_event_id", "missing: stored as {event_id}, the id a correction of it must name"
)
DEPARTS_TYPE = Message("intake.departs.type", "{stage:a} event is {expected:a}, not {got:a}")
DEPARTS_AT_READ_POINT = Message("intake.departs.at_read_point", "its readPoint {place}")
DEPARTS_NO_PLACE = Message("intake.departs.no_place", "no place at all")
DEPARTS_BIZ_LOCATION = Message(
    "intake.departs.biz_location", "{stage:a} event names its bizLocation ({place}); read at {where}"
)
DEPARTS_ILMD = Message("intake.departs.ilmd", "the lots it creates have no {missing:or}: their content is unknown")
DEPARTS_ACTION = Message("intake.departs.action", "{stage:a} event has action {expected}, not {got}")
DEPARTS_BIZ_STEP = Message("intake.departs.biz_step", "{stage:a} event has bizStep {expected:or}, not {got}")
DEPARTS_NO_LOTS = Message(
    "intake.departs.no_lots", "{stage:a} event lists its lots in {key}, and this one lists none there"
)
DEPARTS_TRANSACTION = Message(
    "intake.departs.transaction", "{stage:a} event carries a business transaction of type {kind}, not this one"
)
DEPARTS_PARTY = Message("intake.departs.party", "{stage:a} event names the {kind} in its {key}")
NOT_POSITIVE = Message("intake.epcis.not_positive", "quantity must be positive, got {quantity}")
TOO_MUCH = Message("intake.epcis.too_much", "{quantity} {uom} is more than {tonnes} t in one lot")
TOO_LITTLE = Message("intake.epcis.too_little", "{quantity} {uom} is less than half a gram")
BAD_GRADE = Message("intake.epcis.bad_grade", "grade must be a mass fraction above 0 and at most 1, got {grade}")
SECOND_PARTY = Message("intake.epcis.second_party", "a second {kind} ({party}) besides {first}")
REQUIRED = Message("intake.epcis.required", "required field is missing")
UNKNOWN_FIELD = Message("intake.epcis.unknown_field", "unknown field, not part of EPCIS 2.0")
SCHEMA_MISMATCH = Message("intake.epcis.schema_mismatch", "{value} is not {description}")


def _descriptions(node: Any) -> dict[str, Message]:
    """Every description of our schema (epcis_schema.json, written by us) as a message, so that a refusal quoting
    it reads in the sender's language. Keyed by the text's digest: a description changed in the schema is a new
    message, which `oretrail i18n check` reports untranslated until its Chinese is written."""
    found: dict[str, Message] = {}
    if isinstance(node, dict):
        text = node.get("description")
        if isinstance(text, str):
            digest = hashlib.sha256(text.encode()).hexdigest()[:12]
            found[text] = Message(f"intake.epcis.schema.{digest}", text)
        for value in node.values():
            found |= _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            found |= _descriptions(value)
    return found


DESCRIBED = _descriptions(_SCHEMA)
NOT_NAMESPACED = Message(
    "intake.epcis.not_namespaced",
    "'{key}' is not an EPCIS field here; an extension needs a namespace "
    "(prefix:name with the prefix declared in @context, or a full IRI)",
)


class CapturedEvent(NamedTuple):
    position: int  # index in the document's eventList
    event_id: str
    # The event object as received (eventID filled in if it had none), carrying the document's @context
    # when it has none of its own: stored alone in the ledger, it must still resolve its prefixes.
    body: dict[str, Any]
    chain: ChainEvent


@cache
def material_codes() -> frozenset[str]:
    """The material codes of the controlled-item catalogue, which `ot:material` must name."""
    return frozenset(load_catalogue().materials)


def read_document(data: bytes, name: str, now: datetime | None = None) -> list[CapturedEvent]:
    """Every event of an EPCISDocument (or of an EPCISQueryDocument's results), validated and read.

    Raises IntakeError on the first problem. `now` (naive UTC or aware; default the wall clock) bounds
    eventTime: more than an hour later is refused as "in the future". Events repeated within the document
    with identical content are returned once; the same eventID with other content is refused, except an
    event and its correction (the same event plus an errorDeclaration, EPCIS 2.0 §7.4.1).
    """
    doc = _parse(data, name)
    kind = doc.get("type")
    if not isinstance(kind, str) or kind not in _EVENTS_PATH:
        what = f"a bare {kind}" if isinstance(kind, str) and kind in voc.EVENT_TYPES else f"type {_show(kind)}"
        raise IntakeError(name, None, "type", NOT_A_DOCUMENT(what=what))
    if not _VALIDATOR.is_valid(doc):
        raise _schema_refusal(doc, name, _EVENTS_PATH[kind])
    events: Any = doc
    for key in _EVENTS_PATH[kind]:
        events = events[key]

    reader = _Reader(
        prefixes=voc.context_prefixes(doc["@context"], dict(voc.STANDARD_PREFIXES)),
        latest=_naive_utc(now or datetime.now(UTC)) + FUTURE_TOLERANCE,
        materials=material_codes(),
    )
    try:
        reader.extensions(doc, "", _NO_OT_KEYS)
        if "epcisHeader" in doc:
            reader.extensions(doc["epcisHeader"], "epcisHeader.", _NO_OT_KEYS)
    except _Bad as bad:
        raise IntakeError(name, None, bad.field, bad.reason) from None

    captured: list[CapturedEvent] = []
    seen: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, event in enumerate(events):
        try:
            chain = reader.event(event)
        except _Bad as bad:
            raise IntakeError(name, index, bad.field, bad.reason) from None
        earlier = seen.setdefault(chain.event_id, [])
        if any(body == event for _, body in earlier):
            continue  # a re-send inside the document
        for other, body in earlier:
            if not _correction_pair(body, event):
                raise IntakeError(name, index, "eventID", SAME_ID(event_id=chain.event_id, other=other))
        earlier.append((index, event))
        body = event if "@context" in event else {"@context": doc["@context"], **event}
        captured.append(CapturedEvent(index, chain.event_id, body, chain))
    return captured


def _correction_pair(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True when one event is the other sent again with an errorDeclaration."""
    if ("errorDeclaration" in a) == ("errorDeclaration" in b):
        return False
    return {k: v for k, v in a.items() if k != "errorDeclaration"} == {
        k: v for k, v in b.items() if k != "errorDeclaration"
    }


class _Bad(Exception):
    """A refusal inside one event; read_document adds the document name and the event index."""

    def __init__(self, field: str | None, reason: str | Said) -> None:
        super().__init__(str(reason))
        self.field = field
        self.reason = reason


_IN_EVENT = re.compile(r"^epcisBody\.(?:queryResults\.resultsBody\.)?eventList\[(\d+)\]\.?(.*)$")


def _parse(data: bytes, name: str) -> dict[str, Any]:
    if len(data) > MAX_DOCUMENT_BYTES:
        raise IntakeError(name, None, None, TOO_LARGE(size=f"{len(data):,}", limit=f"{MAX_DOCUMENT_BYTES:,}",
                                                   mib=MAX_DOCUMENT_BYTES // 2**20))  # fmt: skip
    if data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark, as some editors write
        data = data[3:]
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise IntakeError(name, None, None, MALFORMED(line=exc.lineno, column=exc.colno, error=exc.msg)) from None
    try:
        if isinstance(doc, dict | list):
            check_names(data, doc)  # a name repeated in one object is refused, not read as its last value
    except NotJSON as exc:
        where = _IN_EVENT.match(exc.field or "")  # a value inside an event: name the event, then the field
        if where:
            raise IntakeError(name, int(where[1]), where[2] or None, exc.said) from None
        raise IntakeError(name, None, exc.field, exc.said) from None
    if not isinstance(doc, dict):
        raise IntakeError(name, None, None, NOT_AN_OBJECT(kind=_json_kind(doc)))
    return doc


class _Reader:
    """Layers 2 and 3 for the events of one document, sharing its namespaces, clock and catalogue."""

    def __init__(self, prefixes: dict[str, str], latest: datetime, materials: frozenset[str]) -> None:
        self.prefixes = prefixes
        self.latest = latest
        self.materials = materials

    def event(self, ev: dict[str, Any]) -> ChainEvent:
        own = ev.get("@context")  # an event's own @context adds to the document's
        prefixes = self.prefixes if own is None else voc.context_prefixes(own, dict(self.prefixes))
        ot = self.extensions(ev, "", _EVENT_OT_KEYS, prefixes)
        for key in ("readPoint", "bizLocation", "errorDeclaration"):
            if key in ev and len(ev[key]) > 1:  # a bare {"id": ...} has no extension keys
                self.extensions(ev[key], key + ".", _NO_OT_KEYS, prefixes)
        for i, element in enumerate(ev.get("sensorElementList", ())):
            self.extensions(element, f"sensorElementList[{i}].", _NO_OT_KEYS, prefixes)
            if "sensorMetadata" in element:
                self.extensions(
                    element["sensorMetadata"], f"sensorElementList[{i}].sensorMetadata.", _NO_OT_KEYS, prefixes
                )
            for j, report in enumerate(element["sensorReport"]):
                self.extensions(report, f"sensorElementList[{i}].sensorReport[{j}].", _NO_OT_KEYS, prefixes)
        lot_data = self.extensions(ev.get("ilmd", {}), "ilmd.", _ILMD_OT_KEYS, prefixes)

        stage = self._stage(ot)
        strict = stage is not None
        had_id = "eventID" in ev
        chain = ChainEvent(
            event_id=self._event_id(ev),
            event_type=ev["type"],
            event_time=self._time(ev["eventTime"], "eventTime"),
            action=ev.get("action"),
            biz_step=_optional_term(voc.BIZ_STEP, ev, "bizStep", prefixes),
            stage=stage,
            biz_location=ev["bizLocation"]["id"] if "bizLocation" in ev else None,
            read_point=ev["readPoint"]["id"] if "readPoint" in ev else None,
            quantities=_lots(ev, "quantityList", strict) + _lots(ev, "childQuantityList", strict),
            inputs=_lots(ev, "inputQuantityList", strict),
            outputs=_lots(ev, "outputQuantityList", strict),
            material=self._material(lot_data),
            grade=_grade(lot_data),
            sources=_parties(ev, "sourceList", "source", strict, prefixes),
            destinations=_parties(ev, "destinationList", "destination", strict, prefixes),
            biz_transactions=_transactions(ev, prefixes),
            error_declaration=self._error_declaration(ev.get("errorDeclaration"), prefixes),
        )
        _optional_term(voc.DISPOSITION, ev, "disposition", prefixes)
        for part, values in ev.get("persistentDisposition", {}).items():
            for i, value in enumerate(values):
                _term(voc.DISPOSITION, value, prefixes, "persistentDisposition", part, i)
        departures = _departures(chain, ev, lot_data)
        if strict and not had_id:
            departures.insert(0, ("eventID", DEPARTS_NO_EVENT_ID(event_id=chain.event_id)))
        return chain._replace(off_profile=tuple(departures)) if departures else chain

    def extensions(
        self,
        obj: dict[str, Any],
        path: str,
        ot_keys: frozenset[str],
        prefixes: Mapping[str, str] | None = None,
    ) -> dict[str, tuple[str, Any]]:
        """Check the namespaced keys of `obj`; return its oretrail keys as local name → (key, value).

        The schema has already refused keys that are neither EPCIS fields nor URI-shaped, so every key
        with a colon is an extension: its prefix must be declared (or the key a full IRI), and a key in the
        oretrail namespace must be one we know at this level.
        """
        prefixes = self.prefixes if prefixes is None else prefixes
        found: dict[str, tuple[str, Any]] = {}
        for key, value in obj.items():
            if ":" not in key:
                continue
            prefix, _, rest = key.partition(":")
            if prefix in prefixes and not rest.startswith("//"):
                iri = prefixes[prefix] + rest
            elif voc.is_full_iri(key):
                iri = key
            else:
                raise _Bad(path + key, UNDECLARED_PREFIX(key=key, prefix=prefix))
            if not iri.startswith(voc.OT_NS):
                continue
            local = iri[len(voc.OT_NS) :]
            if local not in ot_keys:
                known = ", ".join(sorted(ot_keys)) or "none"
                raise _Bad(path + key, UNKNOWN_OT_KEY(key=key, known=known))
            if local in found:
                raise _Bad(path + key, OT_KEY_TWICE(local=local, first=found[local][0], key=key))
            found[local] = (key, value)
        return found

    def _stage(self, ot: dict[str, tuple[str, Any]]) -> str | None:
        if "stage" not in ot:
            return None
        key, stage = ot["stage"]
        if stage not in STAGES:
            raise _Bad(key, UNKNOWN_STAGE(stage=_show(stage), stages=", ".join(STAGES)))
        return stage

    def _event_id(self, ev: dict[str, Any]) -> str:
        """The eventID, or for an event without one (EPCIS 2.0 makes it optional) a digest of its canonical form,
        so that a re-send is still recognised as the same event."""
        if "eventID" in ev:
            return ev["eventID"]
        try:
            canonical = rfc8785.dumps(ev)
        except rfc8785.CanonicalizationError as exc:
            raise _Bad("eventID", NO_EVENT_ID(error=str(exc))) from None
        ev["eventID"] = GENERATED_ID_PREFIX + hashlib.sha256(canonical).hexdigest()
        return ev["eventID"]

    def _time(self, value: str, field: str) -> datetime:
        try:
            moment = _utc_of(value)
        except (ValueError, OverflowError):  # 0001-01-01T00:00:00+14:00 is before the first representable instant
            raise _Bad(field, BAD_TIME(value=value)) from None
        if moment.year < EARLIEST_YEAR:
            raise _Bad(field, TOO_OLD(value=value, year=EARLIEST_YEAR))
        if moment > self.latest:
            limit = self.latest - FUTURE_TOLERANCE
            raise _Bad(field, IN_FUTURE(value=value, limit=f"{limit:%Y-%m-%d %H:%M}"))
        return moment

    def _material(self, lot_data: dict[str, tuple[str, Any]]) -> str | None:
        if "material" not in lot_data:
            return None
        key, material = lot_data["material"]
        if not isinstance(material, str):
            raise _Bad(f"ilmd.{key}", MATERIAL_NOT_CODE(material=_show(material)))
        if material not in self.materials:
            raise _Bad(f"ilmd.{key}", UNKNOWN_MATERIAL(material=material))
        return material

    def _error_declaration(
        self, declaration: dict[str, Any] | None, prefixes: Mapping[str, str]
    ) -> ErrorDeclaration | None:
        if declaration is None:
            return None
        return ErrorDeclaration(
            declaration_time=self._time(declaration["declarationTime"], "errorDeclaration.declarationTime"),
            reason=_optional_term(voc.ERROR_REASON, declaration, "reason", prefixes, "errorDeclaration"),
            corrective_event_ids=tuple(declaration.get("correctiveEventIDs", ())),
        )


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _utc_of(value: str) -> datetime:
    """Naive UTC of an ISO 8601 time. The two spellings EPCIS documents use (`Z` and `±hh:mm`) are read as a
    local part minus a remembered offset: converting through a timezone object costs six times the parse."""
    if value[-1:] == "Z":
        moment = datetime.fromisoformat(value[:-1])
    elif value[-3:-2] == ":" and value[-6:-5] in ("+", "-"):
        moment = datetime.fromisoformat(value[:-6]) - _offset(value[-6:])
    else:
        return _naive_utc(datetime.fromisoformat(value))
    if moment.tzinfo is not None:
        raise ValueError(f"two time zones in {value}")
    return moment


@cache
def _offset(suffix: str) -> timedelta:
    offset = datetime.fromisoformat("2000-01-01T00:00:00" + suffix).utcoffset()
    if offset is None:
        raise ValueError(f"not an offset: {suffix}")
    return offset


def _term(vocabulary: voc.Vocabulary, value: str, prefixes: Mapping[str, str], *path: str | int) -> str:
    """The folded term; `path` names the field, spelled out only for a refusal (the common bare CBV word costs
    no more than a set lookup)."""
    try:
        return vocabulary.normalise(value, prefixes)
    except voc.VocabularyError as exc:
        raise _Bad(_json_path(list(path)), exc.said) from None


def _optional_term(
    vocabulary: voc.Vocabulary, obj: Mapping[str, Any], key: str, prefixes: Mapping[str, str], *within: str | int
) -> str | None:
    value = obj.get(key)
    return None if value is None else _term(vocabulary, value, prefixes, *within, key)


def _lots(ev: dict[str, Any], key: str, strict: bool) -> tuple[LotQty, ...]:
    """Integer grams per lot. Profile events must state every quantity in a mass unit; other events keep
    only the positive quantities we can convert, since the chain reads mass and nothing else."""
    elements = ev.get(key)
    if not elements:
        return ()
    lots = []
    for i, element in enumerate(elements):
        quantity, uom = element.get("quantity"), element.get("uom")
        factor = GRAMS_PER_UNIT.get(uom) if uom is not None else None
        if strict:
            if quantity is None:
                raise _Bad(f"{key}[{i}].quantity", NO_QUANTITY())
            if uom is None:
                raise _Bad(f"{key}[{i}].uom", NO_UNIT())
            if factor is None:
                raise _Bad(f"{key}[{i}].uom", UNKNOWN_UNIT(uom=uom))
            if quantity <= 0:
                raise _Bad(f"{key}[{i}].quantity", NOT_POSITIVE(quantity=quantity))
        elif factor is None or quantity is None or quantity <= 0:
            continue
        grams = _grams(quantity, factor)
        if grams > MAX_GRAMS:  # not a quantity of this world, on or off the stage profile
            raise _Bad(f"{key}[{i}].quantity", TOO_MUCH(quantity=quantity, uom=uom, tonnes=f"{MAX_GRAMS // 10**6:,}"))
        if grams == 0:
            if strict:
                raise _Bad(f"{key}[{i}].quantity", TOO_LITTLE(quantity=quantity, uom=uom))
            continue
        lots.append(LotQty(element["epcClass"], grams))
    return tuple(lots)


def _grams(quantity: int | float, factor: int) -> int:
    """A positive quantity in integer grams, rounded half up on its decimal spelling (1939.84 t is exactly
    1,939,840,000 g, whatever the binary float says). Below 2**40 g the float product is within 0.001 g of the
    decimal one, so it decides alone unless it lies near half a gram; only then is the decimal detour
    (six times dearer) taken."""
    if type(quantity) is int:
        return quantity * factor
    if not math.isfinite(quantity):
        return MAX_GRAMS + 1  # refused by the caller as too large
    product = quantity * factor
    if product < _FLOAT_EXACT_ENOUGH:
        whole = math.floor(product)
        if abs(product - whole - 0.5) > 0.25:
            return whole if product - whole < 0.5 else whole + 1
    return int((Decimal(str(quantity)) * factor).to_integral_value(ROUND_HALF_UP))


def _grade(lot_data: dict[str, tuple[str, Any]]) -> float | None:
    if "grade" not in lot_data:
        return None
    key, grade = lot_data["grade"]
    if isinstance(grade, bool) or not isinstance(grade, int | float) or not 0 < grade <= 1:
        raise _Bad(f"ilmd.{key}", BAD_GRADE(grade=_show(grade)))
    return float(grade)


def _parties(ev: dict[str, Any], key: str, id_key: str, strict: bool, prefixes: Mapping[str, str]) -> dict[str, str]:
    """CBV source/destination type → id. Two different parties of one type make a profile event ambiguous
    (who sold?), so they are refused there; other events keep the first."""
    parties: dict[str, str] = {}
    for i, entry in enumerate(ev.get(key, ())):
        kind = _term(voc.SOURCE_DEST_TYPE, entry["type"], prefixes, key, i, "type")
        if kind in parties:
            if strict and parties[kind] != entry[id_key]:
                raise _Bad(f"{key}[{i}]", SECOND_PARTY(kind=kind, party=entry[id_key], first=parties[kind]))
            continue
        parties[kind] = entry[id_key]
    return parties


def _transactions(ev: dict[str, Any], prefixes: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """(type, id) pairs; an untyped business transaction (EPCIS allows it) has the type ''."""
    return tuple(
        (
            _optional_term(voc.BIZ_TRANSACTION_TYPE, entry, "type", prefixes, "bizTransactionList", i) or "",
            entry["bizTransaction"],
        )
        for i, entry in enumerate(ev.get("bizTransactionList", ()))
    )


@dataclass(frozen=True, slots=True)
class _Profile:
    """What SPEC.md §2 says an event of one stage is and must carry."""

    event_type: str
    action: str | None
    biz_steps: tuple[str, ...]  # empty: any
    transaction: str | None
    quantity_lists: tuple[str, ...]
    biz_location: str | None  # what the location is, for the message; None: not required
    sources: tuple[str, ...] = ()
    destinations: tuple[str, ...] = ()


_TRANSFORMATION = _Profile(
    "TransformationEvent", None, (), None, ("inputQuantityList", "outputQuantityList"), "the plant"
)
_PROFILES: Mapping[str, _Profile] = {
    "mining": _Profile("ObjectEvent", "ADD", ("commissioning",), None, ("quantityList",), "the mine"),
    "smelting": _TRANSFORMATION,
    "processing": _TRANSFORMATION,
    "manufacturing": _TRANSFORMATION,
    "transportation": _Profile(
        "ObjectEvent", "OBSERVE", ("shipping", "receiving"), BTT_BOL, ("quantityList",), None
    ),
    "sales": _Profile(
        "TransactionEvent", "ADD", (), BTT_INVOICE, ("quantityList",), None, ("owning_party",),
        ("owning_party",),
    ),
    "export": _Profile(
        "ObjectEvent", "OBSERVE", ("departing",), BTT_DECLARATION, ("quantityList",), "the port of exit"
    ),
}  # fmt: skip
# Where the lot is going belongs to a dispatch: without it a diversion cannot be seen. Who will hold it (SPEC
# names the possessing_party too) is read when present and not asked for, since the carrier changes nothing
# the chain reads.
_SHIPPING_DESTINATIONS = ("location",)


def _departures(chain: ChainEvent, ev: dict[str, Any], lot_data: dict[str, tuple[str, Any]]) -> list[tuple[str, Said]]:
    """Layer 3: where a valid event departs from the stage profile of SPEC.md §2, as (field, reason) pairs, the
    reason a message read in the officer's language.

    Nothing here refuses: an event that is valid EPCIS 2.0 is evidence, and is stored and read for what it does
    (`ChainEvent.reading`, which the rule's message and the capture report name); each reason says what the
    profile expects of the stage and what the event has instead. When the event type is not the stage's, the
    rest of the stage's shape (action, step, lists) cannot be compared and only the type is named. An event
    without `ot:stage` is plain EPCIS (SPEC.md §2: other vocabulary is accepted); it departs from the profile
    only when it moves goods, since every chain event carries a stage.
    """
    out: list[tuple[str, Said]] = []
    stage = chain.stage
    if stage is None:
        if chain.reading != OBSERVATION:
            out.append(("ot:stage", DEPARTS_NO_STAGE()))
    else:
        p = _PROFILES[stage]
        if chain.event_type != p.event_type:
            out.append(("type", DEPARTS_TYPE(stage=stage, expected=p.event_type, got=chain.event_type)))
        else:
            out.extend(_shape_departures(chain, ev, p, stage))
        if p.biz_location is not None and chain.biz_location is None:
            where = DEPARTS_AT_READ_POINT(place=chain.read_point) if chain.read_point else DEPARTS_NO_PLACE()
            out.append(("bizLocation", DEPARTS_BIZ_LOCATION(stage=stage, place=p.biz_location, where=where)))
    created = {CREATION: chain.quantities, TRANSFORMATION: chain.outputs}.get(chain.reading)
    if created:
        missing = [f"ot:{local}" for local in ("material", "grade") if local not in lot_data]
        if missing:
            out.append(("ilmd", DEPARTS_ILMD(missing=missing)))
    return out


def _shape_departures(chain: ChainEvent, ev: dict[str, Any], p: _Profile, stage: str) -> list[tuple[str, Said]]:
    out: list[tuple[str, Said]] = []
    if p.action is not None and chain.action != p.action:
        out.append(("action", DEPARTS_ACTION(stage=stage, expected=p.action, got=chain.action)))
    if p.biz_steps and chain.biz_step not in p.biz_steps:
        out.append(("bizStep", DEPARTS_BIZ_STEP(stage=stage, expected=list(p.biz_steps), got=_show(chain.biz_step))))
    for key in p.quantity_lists:
        if not ev.get(key):
            out.append((key, DEPARTS_NO_LOTS(stage=stage, key=key)))
    if p.transaction is not None and chain.transaction(p.transaction) is None:
        out.append(("bizTransactionList", DEPARTS_TRANSACTION(stage=stage, kind=p.transaction)))
    destinations = p.destinations + (_SHIPPING_DESTINATIONS if chain.biz_step == "shipping" else ())
    for key, needed, have in (
        ("sourceList", p.sources, chain.sources),
        ("destinationList", destinations, chain.destinations),
    ):
        for kind in needed:
            if kind not in have:
                out.append((key, DEPARTS_PARTY(stage=chain.biz_step or stage, kind=kind, key=key)))
    return out


def _schema_refusal(doc: dict[str, Any], name: str, events_path: tuple[str, ...]) -> IntakeError:
    """The layer-1 error an officer can act on: the earliest event's first error, with a plain reason."""
    depth = len(events_path)

    def position(err: jsonschema_rs.ValidationError) -> tuple[int | None, list[str | int]]:
        path = list(err.instance_path)
        if len(path) > depth and tuple(path[:depth]) == events_path:
            return int(path[depth]), path[depth + 1 :]
        return None, path

    located = [(position(e), e) for e in _VALIDATOR.iter_errors(doc)]
    (index, path), err = min(located, key=lambda item: -1 if item[0][0] is None else item[0][0])
    reason = _plain_reason(err, path)
    return IntakeError(name, index, _json_path(path) or None, reason)


def _plain_reason(err: jsonschema_rs.ValidationError, path: list[str | int]) -> str | Said:
    """Turns a schema error into the sender's words; may extend `path` to point at the key at fault."""
    kind = err.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        path.append(kind.property)
        return REQUIRED()
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        path.append(kind.unexpected[0])
        return UNKNOWN_FIELD()
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        key = str(kind.error.instance)  # the offending property name: always a string
        path.append(key)
        return NOT_NAMESPACED(key=key)
    node: Any = _SCHEMA
    for step in list(err.schema_path)[:-1]:
        node = node[step]
    description = node.get("description") if isinstance(node, dict) else None
    if description is None:
        return err.message if len(err.message) <= 200 else err.message[:197] + "..."
    described = DESCRIBED[description]()
    if isinstance(err.instance, dict | list):
        return described
    return SCHEMA_MISMATCH(value=_show(err.instance), description=described)


def _json_path(path: list[str | int]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def _show(value: object) -> str:
    return repr(value) if isinstance(value, str) else orjson.dumps(value).decode()


def _json_kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
