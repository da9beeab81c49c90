"""Licences (Ministry of Commerce) and customs export declarations (GACC), SPEC.md §1, as JSON Lines.

Validation is complete before anything is written: a document with one bad line is rejected whole, naming the
line and field, because a half-loaded licence file would make the licence rules judge against a state that
never existed. Each accepted record goes to the ledger as received (idempotent by its number; a changed
record is a new version and the old one stays in the ledger) and is upserted into its table with the ledger
`seq` of the version it now reflects.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NoReturn

import orjson
import pycountry
from sqlalchemy import Connection, Engine, func, select
from stdnum.cn import uscc as uscc_number

from oretrail.intake.errors import IntakeError
from oretrail.ledger.store import LedgerWriter, Pending, Record
from oretrail.storage.schema import declarations, licences
from oretrail.storage.upsert import upsert

STATUSES = ("approved", "revoked", "refused")
USCC_PARTY = "urn:oretrail:party:uscc:"
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


@dataclass
class LoadResult:
    new: int = 0
    unchanged: int = 0
    changed: int = 0
    keys: list[str] = field(default_factory=list)  # numbers of new or changed records, for the rules' scope

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "unchanged": self.unchanged, "changed": self.changed}


class _Line:
    """Field readers for one record that raise IntakeError naming document, line and field."""

    def __init__(self, document: str, index: int, obj: Any, fields: dict[str, bool]) -> None:
        self.document, self.index = document, index
        if not isinstance(obj, dict):
            self.fail("*", "a line must be one JSON object")
        # Fields beyond SPEC.md §1 are kept in the ledger record and otherwise ignored: a department adding
        # its own annotations must not get a whole file refused.
        for name, required in fields.items():
            if required and obj.get(name) is None:
                self.fail(name, "required")
        self.obj: dict[str, Any] = obj

    def fail(self, name: str, reason: str) -> NoReturn:
        raise IntakeError(document=self.document, index=self.index, field=name, reason=reason, unit="line")

    def text(self, name: str, pattern: re.Pattern[str] | None = None, optional: bool = False) -> str | None:
        value = self.obj.get(name)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "must be a non-empty string")
        if value != value.strip():
            self.fail(name, "has leading or trailing white space")
        if pattern is not None and not pattern.match(value):
            self.fail(name, f"{value!r} does not have the required form {pattern.pattern}")
        return value

    def req(self, name: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.text(name, pattern)
        if value is None:
            self.fail(name, "required")
        return value

    def day(self, name: str) -> date:
        value = self.req(name)
        try:
            if len(value) == 10:  # fromisoformat alone would also take "20250603"
                return date.fromisoformat(value)
        except ValueError:
            pass
        self.fail(name, f"{value!r} is not a date YYYY-MM-DD")

    def number(self, name: str, positive: bool = True) -> float:
        value = self.obj.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            self.fail(name, "must be a finite number")
        if (value <= 0) if positive else (value < 0):
            self.fail(name, "must be greater than zero" if positive else "must not be negative")
        return float(value)

    def grams(self, name: str) -> int:
        grams = round(self.number(name) * 1000)
        if grams < 1:
            self.fail(name, "is less than one gram")
        return grams

    def country(self, name: str) -> str:
        value = self.req(name)
        if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
            self.fail(name, f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value

    def party(self, name: str) -> str:
        value = self.req(name)
        if value.startswith(USCC_PARTY):
            if not uscc_number.is_valid(value[len(USCC_PARTY) :]):
                self.fail(name, "the USCC fails its GB 32100-2015 check digit")
        elif not _PGLN.match(value):
            self.fail(name, f"must be {USCC_PARTY}<USCC> or a GS1 PGLN URN")
        return value


def _lines(document: str, lines: Iterable[str | bytes]) -> Iterable[tuple[int, Any]]:
    for index, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            yield index, orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise IntakeError(
                document=document, index=index, field="*", reason=f"not valid JSON: {exc}", unit="line"
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
            ln.fail("status", f"{lic.status!r} is not one of {', '.join(STATUSES)}")
        if lic.valid_to < lic.valid_from:
            ln.fail("valid_to", f"{lic.valid_to} is before valid_from {lic.valid_from}")
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
            value_usd=ln.number("value_usd", positive=False),
            destination=ln.country("destination"),
            consignee=ln.req("consignee"),
            port=ln.req("port", _PORT),
            licence_no=ln.text("licence_no", _LICENCE_NO, optional=True),
        )
        out.append((dec, obj))
    return out


def _store(conn: Connection, kind: str, table: Any, key: str, records: list[tuple[Any, dict[str, Any]]]) -> LoadResult:
    writer = LedgerWriter(conn)
    latest = writer.latest_digests(table.c[key], (getattr(r, key) for r, _ in records))
    result = LoadResult()
    pending: dict[str, tuple[Any, Pending]] = {}
    for rec, obj in records:
        number = getattr(rec, key)
        p = Pending.of(kind, number, obj)
        if latest.get(number) == p.digest:
            result.unchanged += 1
            continue
        if number in pending:
            pending.pop(number)  # the file's last version of a number is the one that stands
        elif number in latest:
            result.changed += 1
        else:
            result.new += 1
        pending[number] = (rec, p)
    stored = writer.append([p for _, p in pending.values()])
    _upsert(conn, table, key, [(rec, r.seq) for (rec, _), r in zip(pending.values(), stored, strict=True)])
    result.keys = sorted(pending)
    return result


def _upsert(conn: Connection, table: Any, key: str, items: list[tuple[Any, int]]) -> None:
    rows = [{f: getattr(rec, f) for f in rec.__slots__} | {"seq": seq} for rec, seq in items]
    if rows:
        upsert(conn, table, list({r[key]: r for r in rows}.values()))


def project_trade(conn: Connection, records: Sequence[Record]) -> None:
    """Licence and declaration rows from ledger records, for rebuild (newest version wins)."""
    for kind, table, key, parse in (
        ("licence", licences, "licence_no", parse_licences),
        ("declaration", declarations, "declaration_no", parse_declarations),
    ):
        mine = [r for r in records if r.kind == kind]
        if mine:
            parsed = parse([r.body for r in mine], f"ledger {kind} records")
            _upsert(conn, table, key, [(rec, r.seq) for (rec, _), r in zip(parsed, mine, strict=True)])


Hook = Callable[[Connection, LoadResult], None]


def load_licences(engine: Engine, lines: Iterable[str | bytes], name: str, then: Hook | None = None) -> LoadResult:
    """Validate all, then store all in one transaction; `then` runs inside it (the CLI raises alerts there)."""
    records = parse_licences(lines, name)
    with engine.begin() as conn:
        result = _store(conn, "licence", licences, "licence_no", records)
        if then is not None:
            then(conn, result)
    return result


def load_declarations(engine: Engine, lines: Iterable[str | bytes], name: str, then: Hook | None = None) -> LoadResult:
    records = parse_declarations(lines, name)
    with engine.begin() as conn:
        result = _store(conn, "declaration", declarations, "declaration_no", records)
        if then is not None:
            then(conn, result)
    return result


@dataclass(frozen=True)
class Drawdown:
    licence_no: str
    quantity_g: int
    drawn_g: int
    uses: int

    @property
    def remaining_g(self) -> int:
        return self.quantity_g - self.drawn_g


def drawdown(conn: Connection, licence_nos: Iterable[str] | None = None) -> list[Drawdown]:
    """Per licence: what the declarations citing it have drawn, how many did, and what is left (negative
    when overdrawn)."""
    used = (
        select(
            declarations.c.licence_no,
            func.sum(declarations.c.net_g).label("drawn"),
            func.count().label("uses"),
        )
        .where(declarations.c.licence_no.is_not(None))
        .group_by(declarations.c.licence_no)
        .subquery()
    )
    q = (
        select(
            licences.c.licence_no,
            licences.c.quantity_g,
            func.coalesce(used.c.drawn, 0).label("drawn"),
            func.coalesce(used.c.uses, 0).label("uses"),
        )
        .outerjoin(used, used.c.licence_no == licences.c.licence_no)
        .order_by(licences.c.licence_no)
    )
    if licence_nos is not None:
        q = q.where(licences.c.licence_no.in_(sorted(set(licence_nos))))
    return [Drawdown(r.licence_no, int(r.quantity_g), int(r.drawn), int(r.uses)) for r in conn.execute(q)]
