"""Registry feed records (SPEC.md §1): enterprises and facilities sent by provincial commerce departments.

The registry is what every other check leans on (who may hold controlled material, where it may be), so
a record is refused at intake unless its identifiers are internally consistent: the party URI carries the
USCC it claims, the USCC passes its check digit, and a facility's URI names its owner's USCC.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from stdnum.cn import uscc as _uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from oretrail.errors import IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.ids import FACILITY_TYPES, LOCATION_CODE, LOCATION_PREFIX, PARTY_PREFIX, PORT_PREFIX, SGLN_PREFIX, STAGES
from oretrail.limits import NotJSON, read_json, too_long
from oretrail.registry.provinces import is_cn_province

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LOCODE = re.compile(r"^[A-Z]{2}[A-Z2-9]{3}$")


@dataclass(frozen=True, slots=True)
class Enterprise:
    party_id: str
    uscc: str
    name: str
    province: str
    stages: tuple[str, ...]
    registered: date | None


@dataclass(frozen=True, slots=True)
class Facility:
    location_id: str
    owner: str
    type: str
    province: str
    capacity_kg_per_year: float | None


NOT_OBJECT = Message("intake.registry.not_object", "a registry line must be a JSON object")
KIND = Message("intake.registry.kind", "must be 'enterprise' or 'facility', got {value!r}")
ID_USCC = Message("intake.registry.id_uscc", "must be {prefix}<uscc> with the record's uscc, i.e. {expected}")
NO_STAGES = Message("intake.registry.no_stages", "must be a non-empty list of stages")
UNKNOWN_STAGE = Message("intake.registry.unknown_stage", "unknown stage {value!r}; allowed: {allowed}")
STAGE_TWICE = Message("intake.registry.stage_twice", "lists a stage twice")
OWNER = Message("intake.registry.owner", "must be a party id {prefix}<USCC>")
FACILITY_TYPE = Message("intake.registry.facility_type", "unknown facility type {value!r}; allowed: {allowed}")
PORT_TYPE = Message("intake.registry.port_type", "a {prefix}<UN/LOCODE> id is for facilities of type port")
PORT_ID = Message("intake.registry.port_id", "must be {prefix}<UN/LOCODE>, e.g. {prefix}CNSHA")
LOCATION_ID = Message("intake.registry.location_id", "must be {location}<USCC>:<code>, {port}<UN/LOCODE> or a GS1 SGLN")
LOCATION_CODE_FORM = Message(
    "intake.registry.location_code", "must be {location}<USCC>:<code> with a non-empty code without spaces"
)
STRING = Message("intake.registry.string", "required, a non-empty string")
USCC_FORM = Message("intake.uscc.form", "USCC {value!r} must be written as 18 upper-case characters without separators")
USCC_CHECK = Message(
    "intake.uscc.check_digit", "USCC {value} fails its GB 32100-2015 check digit (expected {expected})"
)
USCC_LENGTH = Message("intake.uscc.length", "USCC {value!r} must have 18 characters")
USCC_CHARACTERS = Message("intake.uscc.characters", "USCC {value!r} has characters not allowed by GB 32100-2015")
PROVINCE = Message("intake.registry.province", "{value!r} is not an ISO 3166-2 subdivision of China (e.g. CN-JX)")
DATE_FORM = Message("intake.registry.date_form", "must be an ISO date YYYY-MM-DD, got {value!r}")
NOT_A_DATE = Message("intake.registry.not_a_date", "{value!r} is not a calendar date")
CAPACITY = Message("intake.registry.capacity", "must be a finite number >= 0 (kg per year), got {value!r}")


class _Reject(Exception):
    """Raised inside one record's checks; turned into an IntakeError carrying the line number."""

    def __init__(self, field: str, reason: Said) -> None:
        self.field = field
        self.reason = reason


def parse_registry(lines: Iterable[bytes | str], name: str) -> list[Enterprise | Facility]:
    """All records of a registry file, or IntakeError naming the first bad line (1-based) and field.

    Blank lines are skipped but still counted, so the line number matches what the sender sees in an
    editor. Unknown keys are refused: a misspelt optional key would otherwise vanish silently.
    """
    records: list[Enterprise | Facility] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(_record(line))
        except _Reject as bad:
            raise IntakeError(document=name, index=lineno, field=bad.field, reason=bad.reason, unit="line") from None
    return records


def _record(line: bytes | str) -> Enterprise | Facility:
    reason = too_long(line)
    if reason:
        raise _Reject("$", reason)
    try:
        obj = read_json(line)
    except NotJSON as exc:
        raise _Reject(exc.field or "$", exc.said) from None
    if not isinstance(obj, dict):
        raise _Reject("$", NOT_OBJECT())
    kind = obj.get("kind")
    if kind == "enterprise":
        return _enterprise(obj)
    if kind == "facility":
        return _facility(obj)
    raise _Reject("kind", KIND(value=kind))


def _enterprise(obj: dict[str, Any]) -> Enterprise:
    uscc = _valid_uscc(_string(obj, "uscc"), "uscc")
    party_id = _string(obj, "id")
    if party_id != PARTY_PREFIX + uscc:
        raise _Reject("id", ID_USCC(prefix=PARTY_PREFIX, expected=PARTY_PREFIX + uscc))
    stages = obj.get("stages")
    if not isinstance(stages, list) or not stages:
        raise _Reject("stages", NO_STAGES())
    for stage in stages:
        if stage not in STAGES:
            raise _Reject("stages", UNKNOWN_STAGE(value=stage, allowed=", ".join(STAGES)))
    if len(set(stages)) != len(stages):
        raise _Reject("stages", STAGE_TWICE())
    return Enterprise(
        party_id=party_id,
        uscc=uscc,
        name=_string(obj, "name"),
        province=_province(obj),
        stages=tuple(s for s in STAGES if s in stages),
        registered=_optional_date(obj, "registered"),
    )


def _facility(obj: dict[str, Any]) -> Facility:
    location_id = _string(obj, "id")
    _facility_id(location_id, obj.get("type"))
    owner = _string(obj, "owner")
    if not owner.startswith(PARTY_PREFIX):
        raise _Reject("owner", OWNER(prefix=PARTY_PREFIX))
    # The id names the enterprise that registered the facility; a later owner (after a sale) may differ.
    _valid_uscc(owner.removeprefix(PARTY_PREFIX), "owner")
    facility_type = obj.get("type")
    if facility_type not in FACILITY_TYPES:
        raise _Reject("type", FACILITY_TYPE(value=facility_type, allowed=", ".join(FACILITY_TYPES)))
    return Facility(
        location_id=location_id,
        owner=owner,
        type=facility_type,
        province=_province(obj),
        capacity_kg_per_year=_optional_capacity(obj),
    )


def _facility_id(location_id: str, facility_type: object) -> None:
    """SPEC.md §2 location forms: an oretrail facility URI, a port of exit by UN/LOCODE, or a GS1 SGLN."""
    if location_id.startswith(PORT_PREFIX):
        if facility_type != "port":
            raise _Reject("id", PORT_TYPE(prefix=PORT_PREFIX))
        if not _LOCODE.match(location_id.removeprefix(PORT_PREFIX)):
            raise _Reject("id", PORT_ID(prefix=PORT_PREFIX))
        return
    if location_id.startswith(SGLN_PREFIX):
        return
    if not location_id.startswith(LOCATION_PREFIX):
        raise _Reject("id", LOCATION_ID(location=LOCATION_PREFIX, port=PORT_PREFIX))
    uscc, sep, code = location_id.removeprefix(LOCATION_PREFIX).partition(":")
    if not sep or not LOCATION_CODE.match(code):
        raise _Reject("id", LOCATION_CODE_FORM(location=LOCATION_PREFIX))
    _valid_uscc(uscc, "id")


def _string(obj: dict[str, Any], field: str) -> str:
    value = obj.get(field)
    if not isinstance(value, str) or not value.strip():
        raise _Reject(field, STRING())
    return value


def _valid_uscc(value: str, field: str) -> str:
    if value != _uscc.compact(value):
        raise _Reject(field, USCC_FORM(value=value))
    try:
        _uscc.validate(value)
    except InvalidChecksum:
        expected = _uscc.calc_check_digit(value)
        raise _Reject(field, USCC_CHECK(value=value, expected=expected)) from None
    except InvalidLength:
        raise _Reject(field, USCC_LENGTH(value=value)) from None
    except ValidationError:
        raise _Reject(field, USCC_CHARACTERS(value=value)) from None
    return value


def _province(obj: dict[str, Any]) -> str:
    province = obj.get("province")
    if not isinstance(province, str) or not is_cn_province(province):
        raise _Reject("province", PROVINCE(value=province))
    return province


def _optional_date(obj: dict[str, Any], field: str) -> date | None:
    value = obj.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise _Reject(field, DATE_FORM(value=value))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Reject(field, NOT_A_DATE(value=value)) from None


def _optional_capacity(obj: dict[str, Any]) -> float | None:
    value = obj.get("capacity_kg_per_year")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise _Reject("capacity_kg_per_year", CAPACITY(value=value))
    return float(value)
