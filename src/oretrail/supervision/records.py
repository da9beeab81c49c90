"""The two supervision feeds as their senders write them, checked field by field before anything is stored.

`reports` (enterprises, JSON Lines): one object per enterprise and month, the month's flows per material.
`supervision` (provincial inspectorates, JSON Lines; `kind` says which): compliance reviews against the ICP
template, inspections (checklist results, linked alerts, facility status, corrective actions), closures of
corrective actions, and training sessions with attendance. A bad record refuses the whole file, naming the
line, the field and the reason: a supervision record is evidence, and half a file of it is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from oretrail.errors import YEARS, IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.ids import LOCATION_PREFIX, PARTY_PREFIX, SGLN_PREFIX
from oretrail.limits import EARLIEST_YEAR, LATEST_YEAR, NotJSON, read_json, too_long
from oretrail.registry.provinces import is_cn_province
from oretrail.rules.monthly_flows import FLOWS
from oretrail.supervision.template import LEVELS, template

KINDS = ("review", "inspection", "closure", "training")
BASES = ("risk", "random", "follow_up", "complaint")
RESULTS = ("pass", "minor", "major", "n/a")
SET_STATUSES = ("green", "yellow", "red")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_PARTY = re.compile(rf"^{re.escape(PARTY_PREFIX)}[0-9A-Z]{{18}}$")
_PERIOD = re.compile(r"^(\d{4})-?(0[1-9]|1[0-2])$")
_DOC_REF = 512

NOT_OBJECT = Message("intake.supervision.not_object", "a record is a JSON object")
TEXT = Message("intake.supervision.text", "text of 1 to {limit} characters")
IDENT = Message(
    "intake.supervision.ident", "an identifier: letters, digits, '.', '_', ':' or '-', at most 64 characters"
)
PARTY = Message("intake.supervision.party", "a party id {prefix}<USCC>")
DATE = Message("intake.supervision.date", "a date, YYYY-MM-DD")
TEXTS = Message("intake.supervision.texts", "a list of texts of at most {limit} characters")
ONE_OF = Message("intake.supervision.one_of", "one of {allowed}")
TEMPLATE_VERSION = Message(
    "intake.supervision.template_version", "template version {value!r} is not known; the current one is {current}"
)
ELEMENTS = Message("intake.supervision.elements", "an object: element id -> {{level, findings, evidence}}")
NOT_AN_ELEMENT = Message("intake.supervision.not_an_element", "not an element of template {version}")
UNASSESSED = Message(
    "intake.supervision.unassessed", "every element of the template must be assessed: {{level, findings, evidence}}"
)
LEVEL = Message("intake.supervision.level", "a maturity level 0-4 (icp_template.toml [levels])")
LONG_TEXT = Message("intake.supervision.long_text", "text of at most 5,000 characters")
EVIDENCE = Message("intake.supervision.evidence", "a list of document references")
FACILITY = Message("intake.supervision.facility", "a facility id ({prefix}<USCC>:<code> or an SGLN)")
PROVINCE = Message("intake.supervision.province", "an ISO 3166-2 code of a province of China, such as CN-JX")
PROVINCE_OR_CENTRE = Message(
    "intake.supervision.province_or_centre", "an ISO 3166-2 code of a province of China, such as CN-JX, or CN"
)
ITEMS = Message("intake.supervision.items", "a non-empty list of {{item, result, note}}: what the inspection checked")
ITEM = Message("intake.supervision.item", "a checklist item of template {version}: icp.<element> or facility.<check>")
FACILITY_CHECK = Message("intake.supervision.facility_check", "a facility check needs the inspection's facility")
STATUS_WITHOUT_FACILITY = Message(
    "intake.supervision.status_without_facility", "a status is set on a facility: name it in `facility`"
)
ACTION = Message("intake.supervision.action", "{{id, item, text, due?}}")
ACTION_ITEM = Message("intake.supervision.action_item", "the checklist item it corrects")
DUE = Message("intake.supervision.due", "{due} is not after the inspection ({day})")
ACTION_IDS = Message("intake.supervision.action_ids", "two corrective actions with one id")
TITLE = Message("intake.supervision.title", 'the title, or {{"zh": ..., "en": ...}}')
GUIDANCE = Message("intake.supervision.guidance", "{value} is not a guidance document (oretrail supervision guidance)")
ATTENDANCE = Message("intake.supervision.attendance", "a non-empty list of {{enterprise, attendees}}")
ATTENDEES = Message("intake.supervision.attendees", "a whole number from 1 to {limit}")
PERIOD = Message("intake.reports.period", "the month reported, YYYY-MM")
FILED_AT = Message("intake.reports.filed_at", "a date and time with its offset, e.g. 2025-07-08T10:00:00+08:00")
NO_OFFSET = Message("intake.reports.no_offset", "give the offset (+08:00 for Beijing time)")
FILED_YEARS = Message("intake.reports.filed_years", "outside the years {earliest}-{latest}")
LINES = Message(
    "intake.reports.lines",
    "a list of {{material, produced_kg, received_kg, consumed_kg, shipped_kg, exported_kg}}",
)
MATERIAL = Message("intake.reports.material", "a material code of the catalogue (oretrail catalogue)")
MATERIAL_TWICE = Message("intake.reports.material_twice", "{value} is reported twice")
KILOGRAMS = Message("intake.reports.kilograms", "kilograms, a number not below zero")
PERIOD_TWICE = Message("intake.reports.period_twice", "{value} is reported twice in one file")
MAX_ATTENDEES = 100_000  # of one enterprise at one session: beyond any hall, and within any integer column


@dataclass(frozen=True)
class Review:
    id: str
    enterprise: str
    reviewer: str
    date: date
    template: str
    elements: dict[str, dict[str, Any]]  # element -> {level, findings, evidence}


@dataclass(frozen=True)
class Action:
    id: str
    item: str
    text: str
    due: date


@dataclass(frozen=True)
class Inspection:
    id: str
    enterprise: str
    facility: str | None
    province: str
    inspector: str
    date: date
    basis: str
    plan: str | None
    items: tuple[dict[str, str], ...]
    alerts: tuple[str, ...]
    facility_status: str | None
    actions: tuple[Action, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Closure:
    action: str
    date: date
    by: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Training:
    id: str
    date: date
    province: str
    topic: str
    title: dict[str, str]
    guidance: tuple[str, ...]
    attendance: tuple[tuple[str, int], ...]


SupervisionRecord = Review | Inspection | Closure | Training


@dataclass(frozen=True)
class Report:
    enterprise: str
    period: str  # YYYYMM
    filed_at: datetime | None  # naive UTC; None: when the platform received it
    lines: tuple[dict[str, Any], ...]  # {material, produced_g, received_g, consumed_g, shipped_g, exported_g}

    @property
    def key(self) -> str:
        return f"{self.enterprise}:{self.period}"


class _Line:
    """Field access on one record that refuses with the document, line and field named."""

    def __init__(self, document: str, line: int, obj: Any) -> None:
        self.document, self.line = document, line
        if not isinstance(obj, dict):
            raise self.fail(None, NOT_OBJECT())
        self.obj = obj

    def fail(self, field: str | None, reason: Said) -> IntakeError:
        return IntakeError(self.document, self.line, field, reason, unit="line")

    def text(self, key: str, *, optional: bool = False, limit: int = 500) -> str | None:
        value = self.obj.get(key)
        if value is None and optional:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise self.fail(key, TEXT(limit=limit))
        return value.strip()

    def ident(self, key: str) -> str:
        value = self.obj.get(key)
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(key, IDENT())
        return value

    def party(self, key: str) -> str:
        value = self.obj.get(key)
        if not isinstance(value, str) or not _PARTY.match(value):
            raise self.fail(key, PARTY(prefix=PARTY_PREFIX))
        return value

    def day(self, key: str, *, optional: bool = False) -> date | None:
        value = self.obj.get(key)
        if value is None and optional:
            return None
        try:
            day = date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
        except ValueError:
            day = None
        if day is None:
            raise self.fail(key, DATE())
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise self.fail(key, YEARS(value=value, earliest=EARLIEST_YEAR, latest=LATEST_YEAR))
        return day

    def strings(self, key: str, limit: int = _DOC_REF) -> tuple[str, ...]:
        value = self.obj.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= limit for v in value):
            raise self.fail(key, TEXTS(limit=limit))
        return tuple(value)

    def choice(self, key: str, allowed: Iterable[str], *, optional: bool = False) -> str | None:
        value = self.obj.get(key)
        allowed = tuple(allowed)
        if value is None and optional:
            return None
        if value not in allowed:
            raise self.fail(key, ONE_OF(allowed=", ".join(allowed)))
        return str(value)


def _lines(lines: Iterable[bytes | str], document: str) -> Iterable[_Line]:
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        reason = too_long(raw)
        if reason:
            raise IntakeError(document, n, None, reason, unit="line")
        try:
            obj = read_json(raw)
        except NotJSON as exc:
            raise IntakeError(document, n, exc.field, exc.said, unit="line") from None
        yield _Line(document, n, obj)


def _review(r: _Line) -> Review:
    t = template()
    version = r.obj.get("template", t.version)
    if version != t.version:
        raise r.fail("template", TEMPLATE_VERSION(value=version, current=t.version))
    raw = r.obj.get("elements")
    if not isinstance(raw, dict):
        raise r.fail("elements", ELEMENTS())
    unknown = set(raw) - {e.id for e in t.elements}
    if unknown:
        raise r.fail(f"elements.{sorted(unknown)[0]}", NOT_AN_ELEMENT(version=t.version))
    elements: dict[str, dict[str, Any]] = {}
    for e in t.elements:
        got = raw.get(e.id)
        where = f"elements.{e.id}"
        if not isinstance(got, dict):
            raise r.fail(where, UNASSESSED())
        level = got.get("level")
        if level not in LEVELS or isinstance(level, bool):
            raise r.fail(f"{where}.level", LEVEL())
        findings = got.get("findings", "")
        if not isinstance(findings, str) or len(findings) > 5000:
            raise r.fail(f"{where}.findings", LONG_TEXT())
        evidence = got.get("evidence", [])
        if not isinstance(evidence, list) or not all(isinstance(v, str) and 0 < len(v) <= _DOC_REF for v in evidence):
            raise r.fail(f"{where}.evidence", EVIDENCE())
        elements[e.id] = {"level": level, "findings": findings, "evidence": list(evidence)}
    return Review(r.ident("id"), r.party("enterprise"), str(r.text("reviewer", limit=128)),
                  _day(r, "date"), version, elements)  # fmt: skip


def _day(r: _Line, key: str) -> date:
    value = r.day(key)
    assert value is not None
    return value


def _place(r: _Line, key: str) -> str | None:
    value = r.obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith((LOCATION_PREFIX, SGLN_PREFIX)) or len(value) > 512:
        raise r.fail(key, FACILITY(prefix=LOCATION_PREFIX))
    return value


def _province(r: _Line, key: str, allow_centre: bool = False) -> str:
    value = r.obj.get(key)
    if allow_centre and value == "CN":
        return "CN"
    if not (isinstance(value, str) and is_cn_province(value)):
        raise r.fail(key, PROVINCE_OR_CENTRE() if allow_centre else PROVINCE())
    return value


def _inspection(r: _Line, action_days: int) -> Inspection:
    t = template()
    day = _day(r, "date")
    facility = _place(r, "facility")
    items = []
    raw_items = r.obj.get("items", [])
    if not isinstance(raw_items, list) or not raw_items:
        raise r.fail("items", ITEMS())
    for i, item in enumerate(raw_items):
        where = f"items[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("item"), str) or item["item"] not in t.items:
            raise r.fail(f"{where}.item", ITEM(version=t.version))
        if item.get("result") not in RESULTS:
            raise r.fail(f"{where}.result", ONE_OF(allowed=", ".join(RESULTS)))
        note = item.get("note", "")
        if not isinstance(note, str) or len(note) > 5000:
            raise r.fail(f"{where}.note", LONG_TEXT())
        if str(item["item"]).startswith("facility.") and facility is None:
            raise r.fail(f"{where}.item", FACILITY_CHECK())
        items.append({"item": item["item"], "result": item["result"], "note": note})
    status = r.choice("facility_status", SET_STATUSES, optional=True)
    if status is not None and facility is None:
        raise r.fail("facility_status", STATUS_WITHOUT_FACILITY())
    actions = []
    for i, a in enumerate(r.obj.get("actions", []) or []):
        where = f"actions[{i}]"
        sub = _Line(r.document, r.line, a) if isinstance(a, dict) else None
        if sub is None:
            raise r.fail(where, ACTION())
        try:
            ident = sub.ident("id")
            item = sub.obj.get("item")
            if not isinstance(item, str) or item not in t.items:
                raise sub.fail("item", ACTION_ITEM())
            text = str(sub.text("text", limit=5000))
            due = sub.day("due", optional=True) or day + timedelta(days=action_days)
        except IntakeError as exc:
            raise IntakeError(r.document, r.line, f"{where}.{exc.field}", exc.said or exc.reason, unit="line") from None
        if due <= day:
            raise r.fail(f"{where}.due", DUE(due=str(due), day=str(day)))
        actions.append(Action(ident, str(item), text, due))
    if len({a.id for a in actions}) != len(actions):
        raise r.fail("actions", ACTION_IDS())
    alerts = r.strings("alerts", 64)
    return Inspection(
        r.ident("id"), r.party("enterprise"), facility, _province(r, "province"),
        str(r.text("inspector", limit=128)), day, str(r.choice("basis", BASES)),
        r.obj.get("plan") and r.ident("plan"), tuple(items), alerts, status, tuple(actions),
    )  # fmt: skip


def _closure(r: _Line) -> Closure:
    return Closure(r.ident("action"), _day(r, "date"), str(r.text("by", limit=128)), r.strings("evidence"))


def _training(r: _Line) -> Training:
    from oretrail.supervision.template import guidance_doc

    title = r.obj.get("title")
    if isinstance(title, str) and title.strip():
        title = {"zh" if re.search(r"[\u4e00-\u9fff]", title) else "en": title.strip()}
    if (not isinstance(title, dict) or not title or set(title) - {"zh", "en"}
            or not all(isinstance(v, str) and v.strip() for v in title.values())):  # fmt: skip
        raise r.fail("title", TITLE())
    docs = r.strings("guidance", 64)
    for i, d in enumerate(docs):
        if guidance_doc(d) is None:
            raise r.fail(f"guidance[{i}]", GUIDANCE(value=d))
    attendance = []
    raw = r.obj.get("attendance")
    if not isinstance(raw, list) or not raw:
        raise r.fail("attendance", ATTENDANCE())
    for i, a in enumerate(raw):
        if not isinstance(a, dict) or not (isinstance(a.get("enterprise"), str) and _PARTY.match(a["enterprise"])):
            raise r.fail(f"attendance[{i}].enterprise", PARTY(prefix=PARTY_PREFIX))
        n = a.get("attendees", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_ATTENDEES:
            raise r.fail(f"attendance[{i}].attendees", ATTENDEES(limit=f"{MAX_ATTENDEES:,}"))
        attendance.append((a["enterprise"], n))
    return Training(r.ident("id"), _day(r, "date"), _province(r, "province", allow_centre=True),
                    str(r.text("topic", limit=32)), {k: str(v) for k, v in title.items()}, docs,
                    tuple(attendance))  # fmt: skip


def parse_supervision(
    lines: Iterable[bytes | str], document: str, action_days: int = 90
) -> list[tuple[SupervisionRecord, dict[str, Any]]]:
    """Every record with its raw object (what the ledger keeps), or IntakeError for the first bad one."""
    out: list[tuple[SupervisionRecord, dict[str, Any]]] = []
    for r in _lines(lines, document):
        kind = r.choice("kind", KINDS)
        rec: SupervisionRecord
        if kind == "review":
            rec = _review(r)
        elif kind == "inspection":
            rec = _inspection(r, action_days)
        elif kind == "closure":
            rec = _closure(r)
        else:
            rec = _training(r)
        out.append((rec, r.obj))
    return out


def ledger_key(rec: SupervisionRecord) -> tuple[str, str]:
    if isinstance(rec, Closure):
        return "closure", rec.action
    return type(rec).__name__.lower(), rec.id


def parse_reports(lines: Iterable[bytes | str], document: str) -> list[tuple[Report, dict[str, Any]]]:
    from oretrail.catalogue import load_catalogue

    materials = load_catalogue().materials
    out = []
    for r in _lines(lines, document):
        party = r.party("enterprise")
        m = _PERIOD.match(str(r.obj.get("period", "")))
        if not m:
            raise r.fail("period", PERIOD())
        filed_at = None
        if r.obj.get("filed_at") is not None:
            try:
                moment = datetime.fromisoformat(str(r.obj["filed_at"]).replace("Z", "+00:00"))
            except ValueError:
                raise r.fail("filed_at", FILED_AT()) from None
            if moment.tzinfo is None:
                raise r.fail("filed_at", NO_OFFSET())
            if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
                raise r.fail("filed_at", FILED_YEARS(earliest=EARLIEST_YEAR, latest=LATEST_YEAR))
            filed_at = (moment - moment.utcoffset()).replace(tzinfo=None)  # type: ignore[operator]
        raw = r.obj.get("lines")
        if not isinstance(raw, list):
            raise r.fail("lines", LINES())
        lines_out = []
        seen = set()
        for i, line in enumerate(raw):
            where = f"lines[{i}]"
            if (
                not isinstance(line, dict)
                or not isinstance(line.get("material"), str)
                or line["material"] not in materials
            ):
                raise r.fail(f"{where}.material", MATERIAL())
            if line["material"] in seen:
                raise r.fail(f"{where}.material", MATERIAL_TWICE(value=line["material"]))
            seen.add(line["material"])
            out_line: dict[str, Any] = {"material": line["material"]}
            for flow in FLOWS:
                kg = line.get(f"{flow}_kg", 0)
                if not isinstance(kg, int | float) or isinstance(kg, bool) or kg < 0 or kg != kg or kg > 1e12:
                    raise r.fail(f"{where}.{flow}_kg", KILOGRAMS())
                out_line[f"{flow}_g"] = round(kg * 1000)
            lines_out.append(out_line)
        out.append((Report(party, m.group(1) + m.group(2), filed_at, tuple(lines_out)), r.obj))
    keys = [rep.key for rep, _ in out]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise IntakeError(document, None, "period", PERIOD_TWICE(value=dup), unit="line")
    return out
