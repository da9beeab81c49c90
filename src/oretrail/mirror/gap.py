"""`mirror.gap`: partners' reported imports from China against China's export declarations to them.

Per partner x controlled HS6 x month. Mirror analysis must not mistake bookkeeping for smuggling:

* HS roll-up: declarations carry 10-digit national codes, partners report HS6; declarations are summed to
  their first six digits.
* Shipping lag: goods declared at the end of May arrive, and are recorded by the partner, in June. Each
  partner month may draw on declarations of the same month and the `lag_months` before it, each declared
  kilogram explaining at most one partner kilogram; what no month drew by then expires.
* One gap, one alert: a declaration in the window of two months can explain either, so a surplus can often
  be put on more than one month. Months held to be in surplus are served after the months that are not and
  take all that is left to them: a gap month cannot swallow the consignment declared on the 29th that the
  next month records (one gap, two alerts), yet it consumes whatever of its window no other month needs,
  not only what expires with it (which left its own goods to the months after it, let each of them draw a
  month-older declaration than it received, and pushed a later gap onto the month after that one). When the
  months before it leave a month short, the blame goes to that month or to one competing for the same
  declarations, whichever leaves the smallest running unexplained surplus: goods arriving as soon as the
  data allow. A later surplus that an earlier gap month's goods can cover by re-timing the months in
  between, within the lag, is folded into the earlier alert.
* CIF/FOB: partners value imports CIF, China declares FOB, so the partner's value is expected between 1x
  and `cif_fob_max` x the declared value. Values are only a second opinion on a kilogram surplus
  (`value_confirms`), never a finding by themselves: unit prices move, weights do not.
* Tolerance: the surplus must exceed both `tolerance_pct` of the declared kilograms drawn and
  `tolerance_kg`; percent alone would raise on 2 kg against 1 kg, kilograms alone on 1 % of a large flow.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
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

    def in_surplus(self, partner_kg: float, drawn_kg: float) -> bool:
        """Beyond both tolerances, strictly; with nothing drawn the percent test is moot."""
        excess = partner_kg - drawn_kg
        return excess > self.tolerance_kg and (drawn_kg <= 0 or excess / drawn_kg * 100 > self.tolerance_pct)


@dataclass(frozen=True, slots=True)
class GapFinding:
    """A partner month with more imports from China than declarations can account for."""

    partner: str
    hs6: str
    period: str
    partner_kg: float
    partner_value_usd: float
    declared_kg_window: float  # all declarations of the window, drawn or not
    drawn_kg: float  # what is left for this month once the months not in surplus are explained
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


@dataclass(frozen=True, slots=True)
class _Flows:
    """One partner x HS6 series in kilograms per month index; declarations of a month share their window."""

    reported: dict[int, float]
    declared: dict[int, float]
    lag: int

    def drawn(self, served: Collection[int], until: int) -> dict[int, float]:
        """What each served month draws when they alone are served, in time order, oldest declarations first.

        Earliest deadline first: no other allocation explains more kilograms of the served months in any
        prefix of the series, so the total is the most they can be explained by at all."""
        queue: list[list[float]] = []  # [month, kg left], oldest first
        out: dict[int, float] = {}
        for month in range(min([*self.reported, *self.declared]), until + 1):
            if self.declared.get(month):
                queue.append([month, self.declared[month]])
            queue = [lot for lot in queue if lot[0] >= month - self.lag and lot[1] > 0]
            if month in served:
                out[month] = _take(queue, self.reported[month])
        return out

    def allocation(self, gaps: Collection[int], until: int) -> dict[int, float]:
        """Kilograms drawn per reported month up to `until`: the months not in `gaps` are explained first (they
        stand for no surplus, so they keep what their reports need); then each gap month, oldest first, takes
        the most that is still left for it. Each gap's share is the rise in what can be explained at all once
        it is served too, so the total explained is the most any allocation achieves."""
        normal = {m for m in self.reported if m <= until and m not in gaps}
        out = self.drawn(normal, until)
        served, explained = set(normal), sum(out.values())
        for gap in sorted(gaps):
            served.add(gap)
            total = sum(self.drawn(served, until).values())
            out[gap], explained = total - explained, total
        return out

    def running_surplus(self, drawn: dict[int, float], until: int) -> float:
        """The unexplained surplus summed month by month up to `until`: smaller when goods arrive sooner."""
        running = total = 0.0
        for month in sorted(m for m in self.reported if m <= until):
            running += self.reported[month] - drawn[month]
            total += running
        return total


def _take(queue: list[list[float]], need: float) -> float:
    got = 0.0
    for lot in queue:
        take = min(need - got, lot[1])
        lot[1] -= take
        got += take
        if got >= need:
            break
    return got


def _gaps(flows: _Flows, settings: GapSettings) -> list[int]:
    """The months held to be in surplus, decided month by month: a month that the months before it leave
    short accuses one month, itself or one that draws on the same declarations (the `lag_months` before it)
    and could have left them to it. The accused month must then be in surplus and the month explained; of
    those choices the one with the smallest running surplus wins, the latest on a tie."""
    gaps: list[int] = []
    for month in sorted(flows.reported):
        if not settings.in_surplus(flows.reported[month], flows.allocation(gaps, month)[month]):
            continue
        rivals = [m for m in flows.reported if month - settings.lag_months <= m < month and m not in gaps]
        choices = []
        for accused in [month, *rivals]:
            drawn = flows.allocation([*gaps, accused], month)
            if settings.in_surplus(flows.reported[accused], drawn[accused]) and (
                accused == month or not settings.in_surplus(flows.reported[month], drawn[month])
            ):
                choices.append((round(flows.running_surplus(drawn, month), 3), -accused))
        gaps.append(-min(choices)[1])
    return gaps


def _series(
    series: tuple[str, str],
    reported: dict[int, tuple[float, float]],
    declared: dict[int, list[Declaration]],
    settings: GapSettings,
) -> list[GapFinding]:
    flows = _Flows(
        {m: kg for m, (kg, _) in reported.items()},
        {m: sum(d.net_kg for d in ds) for m, ds in declared.items()},
        settings.lag_months,
    )
    gaps = _gaps(flows, settings)
    drawn = flows.allocation(gaps, max(reported))
    return [
        _finding(series, month, reported[month], drawn[month], declared, settings)
        for month in sorted(gaps)
        if settings.in_surplus(reported[month][0], drawn[month])
    ]


def _finding(
    series: tuple[str, str],
    month: int,
    reported: tuple[float, float],
    drawn_kg: float,
    declared: dict[int, list[Declaration]],
    settings: GapSettings,
) -> GapFinding:
    """The allocation is by month, not by consignment, so the drawn kilograms are valued at the window's
    average declared price."""
    partner_kg, partner_value = reported
    window = range(month - settings.lag_months, month + 1)
    in_window = [d for m in window for d in declared.get(m, [])]
    window_kg = sum(d.net_kg for d in in_window)
    drawn_value = drawn_kg * sum(d.value_usd for d in in_window) / window_kg if window_kg > 0 else 0.0
    excess = partner_kg - drawn_kg
    return GapFinding(
        partner=series[0],
        hs6=series[1],
        period=month_period(month),
        partner_kg=partner_kg,
        partner_value_usd=partner_value,
        declared_kg_window=window_kg,
        drawn_kg=drawn_kg,
        drawn_value_usd=round(drawn_value, 2),
        excess_kg=excess,
        excess_pct=round(excess / drawn_kg * 100, 2) if drawn_kg > 0 else None,
        value_confirms=partner_value > drawn_value * settings.cif_fob_max,
        window=tuple(month_period(m) for m in window),
        evidence=tuple(sorted(d.declaration_no for d in in_window)),
    )
