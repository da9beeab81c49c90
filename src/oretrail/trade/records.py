"""Licences (Ministry of Commerce) and customs export declarations (GACC), SPEC.md §1, as JSON Lines: how a
line is read and checked. `trade/store.py` records and projects what this accepts.

Validation is complete before anything is written: a document with one bad line is rejected whole, naming the
line and field, because a half-loaded licence file would make the licence rules judge against a state that
never existed. Each accepted record goes to the ledger as received (idempotent by its number; a changed
record is a new version and the old one stays in the ledger) and is upserted into its table with the ledger
`seq` of the version it now reflects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

import pycountry
from stdnum.cn import uscc as uscc_number

from oretrail.errors import YEARS, IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.ids import PARTY_PREFIX
from oretrail.limits import EARLIEST_YEAR, LATEST_YEAR, MAX_GRAMS, MAX_VALUE_USD, NotJSON, read_json, too_long

STATUSES = ("approved", "revoked", "refused")
PGLN_PARTY = "urn:epc:id:pgln:"
_HS10 = re.compile(r"^\d{10}$")
_LICENCE_NO = re.compile(r"^[A-Z0-9][A-Z0-9/-]{3,63}$")
# GACC numbers: 4-digit customs office, 4-digit year, 1-digit import/export flag, 9-digit serial.
_DECLARATION_NO = re.compile(r"^\d{18}$")
# UN/LOCODE of a Chinese port: country CN and a 3-character location code (letters, digits 2-9).
_PORT = re.compile(r"^CN[A-Z2-9]{3}$")
_MATERIAL = re.compile(r"^[a-z]+\.[a-z][a-z0-9_]*$")
_PGLN = re.compile(r"^urn:epc:id:pgln:\d{6,12}\.\d*$")

LICENCE_FIELDS = {
    "licence_no": True,
    "exporter": True,
    "material": True,
    "hs_code": True,
    "quantity_kg": True,
    "destination": True,
    "consignee": True,
    "end_user": False,
    "end_use": False,
    "port": False,
    "valid_from": True,
    "valid_to": True,
    "status": True,
}
DECLARATION_FIELDS = {
    "declaration_no": True,
    "date": True,
    "exporter": True,
    "hs_code": True,
    "description": False,
    "net_kg": True,
    "value_usd": True,
    "destination": True,
    "consignee": True,
    "port": True,
    "licence_no": False,
}


NOT_OBJECT = Message("intake.trade.not_object", "a line must be one JSON object")
REQUIRED = Message("intake.trade.required", "required")
NOT_STRING = Message("intake.trade.not_string", "must be a non-empty string")
WHITE_SPACE = Message("intake.trade.white_space", "has leading or trailing white space")
FORM = Message("intake.trade.form", "{value!r} does not have the required form {pattern}")
NOT_A_DATE = Message("intake.trade.not_a_date", "{value!r} is not a date YYYY-MM-DD")
NOT_NUMBER = Message("intake.trade.not_number", "must be a finite number")
NOT_POSITIVE = Message("intake.trade.not_positive", "must be greater than zero")
NEGATIVE = Message("intake.trade.negative", "must not be negative")
TOO_MUCH_MONEY = Message("intake.trade.too_much_money", "{value} is more than USD {limit} for one record")
UNDER_A_GRAM = Message("intake.trade.under_a_gram", "is less than one gram")
TOO_HEAVY = Message("intake.trade.too_heavy", "is more than {tonnes} t for one record")
COUNTRY = Message("intake.trade.country", "{value!r} is not an ISO 3166-1 alpha-2 country code")
CHECK_DIGIT = Message("intake.trade.check_digit", "the USCC fails its GB 32100-2015 check digit")
PARTY = Message("intake.trade.party", "must be {prefix}<USCC> or a GS1 PGLN URN")
STATUS = Message("intake.trade.status", "{value!r} is not one of {allowed}")
VALID_TO = Message("intake.trade.valid_to", "{value} is before valid_from {valid_from}")


@dataclass(frozen=True, slots=True)
class Licence:
    licence_no: str
    exporter: str
    material: str
    hs_code: str
    quantity_g: int
    destination: str
    consignee: str
    end_user: str | None
    end_use: str | None
    port: str | None
    valid_from: date
    valid_to: date
    status: str


@dataclass(frozen=True, slots=True)
class Declaration:
    declaration_no: str
    date: date
    exporter: str
    hs_code: str
    description: str | None
    net_g: int
    value_usd: float
    destination: str
    consignee: str
    port: str
    licence_no: str | None


class _Line:
    """Field readers for one record that raise IntakeError naming document, line and field."""

    def __init__(self, document: str, index: int, obj: Any, fields: dict[str, bool]) -> None:
        self.document, self.index = document, index
        if not isinstance(obj, dict):
            self.fail("*", NOT_OBJECT())
        # Fields beyond SPEC.md §1 are kept in the ledger record and otherwise ignored: a department adding
        # its own annotations must not get a whole file refused.
        for name, required in fields.items():
            if required and obj.get(name) is None:
                self.fail(name, REQUIRED())
        self.obj: dict[str, Any] = obj

    def fail(self, name: str, reason: Said) -> NoReturn:
        raise IntakeError(document=self.document, index=self.index, field=name, reason=reason, unit="line")

    def text(self, name: str, pattern: re.Pattern[str] | None = None, optional: bool = False) -> str | None:
        value = self.obj.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(name, NOT_STRING())
        if value != value.strip():
            self.fail(name, WHITE_SPACE())
        if pattern is not None and not pattern.match(value):
            self.fail(name, FORM(value=value, pattern=pattern.pattern))
        return value

    def req(self, name: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.text(name, pattern)
        if value is None:
            self.fail(name, REQUIRED())
        return value

    def day(self, name: str) -> date:
        value = self.req(name)
        try:
            day = date.fromisoformat(value) if len(value) == 10 else None  # fromisoformat also takes "20250603"
        except ValueError:
            day = None
        if day is None:
            self.fail(name, NOT_A_DATE(value=value))
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            self.fail(name, YEARS(value=value, earliest=EARLIEST_YEAR, latest=LATEST_YEAR))
        return day

    def number(self, name: str, positive: bool = True) -> float:
        value = self.obj.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(name, NOT_NUMBER())
        if (value <= 0) if positive else (value < 0):
            self.fail(name, NOT_POSITIVE() if positive else NEGATIVE())
        return float(value)

    def money(self, name: str) -> float:
        value = self.number(name, positive=False)
        if value > MAX_VALUE_USD:
            self.fail(name, TOO_MUCH_MONEY(value=f"{value:g}", limit=f"{MAX_VALUE_USD:,.0f}"))
        return value

    def grams(self, name: str) -> int:
        grams = round(self.number(name) * 1000)
        if grams < 1:
            self.fail(name, UNDER_A_GRAM())
        if grams > MAX_GRAMS:
            self.fail(name, TOO_HEAVY(tonnes=f"{MAX_GRAMS // 10**6:,}"))
        return grams

    def country(self, name: str) -> str:
        value = self.req(name)
        if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
            self.fail(name, COUNTRY(value=value))
        return value

    def party(self, name: str) -> str:
        value = self.req(name)
        if value.startswith(PARTY_PREFIX):
            if not uscc_number.is_valid(value[len(PARTY_PREFIX) :]):
                self.fail(name, CHECK_DIGIT())
        elif not _PGLN.match(value):
            self.fail(name, PARTY(prefix=PARTY_PREFIX))
        return value


def _lines(document: str, lines: Iterable[str | bytes]) -> Iterable[tuple[int, Any]]:
    for index, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        reason = too_long(raw)
        if reason:
            raise IntakeError(document=document, index=index, field="*", reason=reason, unit="line")
        try:
            yield index, read_json(raw)
        except NotJSON as exc:
            raise IntakeError(
                document=document, index=index, field=exc.field or "*", reason=exc.said, unit="line"
            ) from None


def parse_licences(lines: Iterable[str | bytes], document: str) -> list[tuple[Licence, dict[str, Any]]]:
    out = []
    for index, obj in _lines(document, lines):
        ln = _Line(document, index, obj, LICENCE_FIELDS)
        material = ln.req("material", _MATERIAL)
        lic = Licence(
            licence_no=ln.req("licence_no", _LICENCE_NO),
            exporter=ln.party("exporter"),
            material=material,
            hs_code=ln.req("hs_code", _HS10),
            quantity_g=ln.grams("quantity_kg"),
            destination=ln.country("destination"),
            consignee=ln.req("consignee"),
            end_user=ln.text("end_user", optional=True),
            end_use=ln.text("end_use", optional=True),
            port=ln.text("port", _PORT, optional=True),
            valid_from=ln.day("valid_from"),
            valid_to=ln.day("valid_to"),
            status=ln.req("status"),
        )
        if lic.status not in STATUSES:
            ln.fail("status", STATUS(value=lic.status, allowed=", ".join(STATUSES)))
        if lic.valid_to < lic.valid_from:
            ln.fail("valid_to", VALID_TO(value=str(lic.valid_to), valid_from=str(lic.valid_from)))
        out.append((lic, obj))
    return out


def parse_declarations(lines: Iterable[str | bytes], document: str) -> list[tuple[Declaration, dict[str, Any]]]:
    out = []
    for index, obj in _lines(document, lines):
        ln = _Line(document, index, obj, DECLARATION_FIELDS)
        dec = Declaration(
            declaration_no=ln.req("declaration_no", _DECLARATION_NO),
            date=ln.day("date"),
            exporter=ln.party("exporter"),
            hs_code=ln.req("hs_code", _HS10),
            description=ln.text("description", optional=True),
            net_g=ln.grams("net_kg"),
            value_usd=ln.money("value_usd"),
            destination=ln.country("destination"),
            consignee=ln.req("consignee"),
            port=ln.req("port", _PORT),
            licence_no=ln.text("licence_no", _LICENCE_NO, optional=True),
        )
        out.append((dec, obj))
    return out
