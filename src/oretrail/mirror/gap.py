"""`mirror.gap`: partners' reported imports from China against China's export declarations to them.

Per partner x controlled HS6 x month. Mirror analysis must not mistake bookkeeping for smuggling:

* HS roll-up: declarations carry 10-digit national codes, partners report HS6; declarations are summed to
  their first six digits.
* Shipping lag: goods declared at the end of May arrive, and are recorded by the partner, in June. Each
  partner month may draw on declarations of the same month and the `lag_months` before it; declarations
  are drawn oldest first and each kilogram once (a declaration that covered May cannot also cover June),
  and what is still undrawn after the lag expires. Drawing the oldest first is optimal here: it is the
  earliest-deadline-first rule, so no other allocation leaves a smaller surplus in any month.
* CIF/FOB: partners value imports CIF, China declares FOB, so the partner's value is expected between 1x
  and `cif_fob_max` x the declared value. Values are only a second opinion on a kilogram surplus
  (`value_confirms`), never a finding by themselves: unit prices move, weights do not.
* Tolerance: the surplus must exceed both `tolerance_pct` of the declared kilograms drawn and
  `tolerance_kg`; percent alone would raise on 2 kg against 1 kg, kilograms alone on 1 % of a large flow.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass

from oretrail.mirror.rows import IMPORT_FLOW, MirrorRow

RULE = "mirror.gap"
CHINA = "CN"


@dataclass(frozen=True, slots=True)
class Declaration:
    """The fields of a customs export declaration that reconciliation needs."""

    declaration_no: str
    date: dt.date
    destination: str
    hs_code: str
    net_kg: float
    value_usd: float
    consignee: str = ""


@dataclass(frozen=True, slots=True)
class GapSettings:
    tolerance_pct: float = 10.0
    tolerance_kg: float = 100.0
    lag_months: int = 1
    cif_fob_max: float = 1.10


@dataclass(frozen=True, slots=True)
class GapFinding:
    """A partner month with more imports from China than declarations can account for."""

    partner: str
    hs6: str
    period: str
    partner_kg: float
    partner_value_usd: float
    declared_kg_window: float  # all declarations of the window, drawn or not
    drawn_kg: float  # what this month could draw after earlier months took theirs
    drawn_value_usd: float
    excess_kg: float
    excess_pct: float | None  # None when nothing was declared to draw on
    value_confirms: bool  # the partner's value also exceeds the drawn FOB value times cif_fob_max
    window: tuple[str, ...]
    evidence: tuple[str, ...]  # declaration numbers of the window

    rule: str = RULE

    @property
    def subject_id(self) -> str:
        return f"{self.partner}:{self.hs6}:{self.period}"


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[4:]) - 1


def month_period(index: int) -> str:
    return f"{index // 12:04d}{index % 12 + 1:02d}"


@dataclass(slots=True)
class _Open:
    month: int
    number: str
    kg: float
    value_per_kg: float


def reconcile(
    rows: Iterable[MirrorRow],
    declarations: Iterable[Declaration],
    controlled_hs6: Iterable[str],
    settings: GapSettings | None = None,
) -> list[GapFinding]:
    """Findings for every partner x controlled HS6 x month whose surplus exceeds both tolerances."""
    settings = settings or GapSettings()
    controlled = frozenset(controlled_hs6)
    reported: dict[tuple[str, str], dict[int, tuple[float, float]]] = defaultdict(dict)
    for row in rows:
        if row.flow == IMPORT_FLOW and row.partner == CHINA and row.cmd in controlled:
            kg, value = reported[row.reporter, row.cmd].get(month_index(row.period), (0.0, 0.0))
            reported[row.reporter, row.cmd][month_index(row.period)] = (kg + row.net_kg, value + row.value_usd)
    declared: dict[tuple[str, str], dict[int, list[Declaration]]] = defaultdict(lambda: defaultdict(list))
    for d in declarations:
        if d.hs_code[:6] in controlled:
            declared[d.destination, d.hs_code[:6]][d.date.year * 12 + d.date.month - 1].append(d)
    findings: list[GapFinding] = []
    for series, months in sorted(reported.items()):
        findings.extend(_series(series, months, declared.get(series, {}), settings))
    return findings


def _could_draw(queue: deque[_Open], need: float) -> tuple[float, float]:
    """Kilograms and value this month would draw, oldest first, if it took everything it may."""
    kg = value = 0.0
    for item in queue:
        if kg >= need:
            break
        take = min(need - kg, item.kg)
        kg += take
        value += take * item.value_per_kg
    return kg, value


def _draw(queue: deque[_Open], need: float, until: int) -> None:
    """Draw `need` kilograms oldest first from declarations of months up to `until`."""
    while need > 0 and queue and queue[0].month <= until:
        head = queue[0]
        take = min(need, head.kg)
        head.kg -= take
        need -= take
        if head.kg <= 0:
            queue.popleft()


def _series(
    series: tuple[str, str],
    reported: dict[int, tuple[float, float]],
    declared: dict[int, list[Declaration]],
    settings: GapSettings,
) -> list[GapFinding]:
    partner, hs6 = series
    first = min([*reported, *declared])
    queue: deque[_Open] = deque()
    findings: list[GapFinding] = []
    for month in range(first, max(reported) + 1):
        for d in sorted(declared.get(month, []), key=lambda d: (d.date, d.declaration_no)):
            queue.append(_Open(month, d.declaration_no, d.net_kg, d.value_usd / d.net_kg if d.net_kg else 0.0))
        while queue and queue[0].month < month - settings.lag_months:
            queue.popleft()
        if month not in reported:
            continue
        partner_kg, partner_value = reported[month]
        drawn_kg, drawn_value = _could_draw(queue, partner_kg)
        excess = partner_kg - drawn_kg
        pct = excess / drawn_kg * 100 if drawn_kg > 0 else None
        gap = excess > settings.tolerance_kg and (pct is None or pct > settings.tolerance_pct)
        # A month in surplus whatever it draws keeps its hands off what later months can still use: its
        # surplus is unexplained in any case, and drawing the later months' declarations would only pass
        # it on to them as a second alert for one gap. It takes only what expires now.
        _draw(queue, partner_kg, until=month - settings.lag_months if gap else month)
        if not gap:
            continue
        window = range(month - settings.lag_months, month + 1)
        in_window = [d for m in window for d in declared.get(m, [])]
        findings.append(
            GapFinding(
                partner=partner,
                hs6=hs6,
                period=month_period(month),
                partner_kg=partner_kg,
                partner_value_usd=partner_value,
                declared_kg_window=sum(d.net_kg for d in in_window),
                drawn_kg=drawn_kg,
                drawn_value_usd=round(drawn_value, 2),
                excess_kg=excess,
                excess_pct=None if pct is None else round(pct, 2),
                value_confirms=partner_value > drawn_value * settings.cif_fob_max,
                window=tuple(month_period(m) for m in window),
                evidence=tuple(sorted(d.declaration_no for d in in_window)),
            )
        )
    return findings
