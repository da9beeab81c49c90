"""Transshipment signals: finer rules beside `mirror.gap`, each under its own id.

* `mirror.share_jump` - a destination's share of China's exports of a controlled HS6 jumps against its own
  trailing history: goods bound for a restricted buyer are often re-addressed to a neighbour.
* `mirror.no_capacity` - a country with no known industry processing or consuming the element takes in
  large volumes (`capacity.toml`): the goods must be going on somewhere.
* `licence.rerouted` - after a licence was refused for an end user, a licence or a declaration for the
  same end user (fuzzy, through the screening normaliser) names another destination country.

Each is a pure function from plain records to findings; thresholds are arguments with documented defaults.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pycountry

from oretrail.mirror.gap import Declaration, month_index, month_period
from oretrail.screening.entities import WatchlistEntity
from oretrail.screening.matcher import DEFAULT_THRESHOLD, Hit, WatchlistIndex

CAPACITY_FILE = Path(__file__).with_name("capacity.toml")


@dataclass(frozen=True, slots=True)
class TradeFlow:
    """Kilograms of one HS6 exported to one destination in one month."""

    period: str
    destination: str
    hs6: str
    kg: float


def monthly_flows(declarations: Iterable[Declaration], controlled_hs6: Iterable[str]) -> list[TradeFlow]:
    """China's declarations rolled up to destination x HS6 x month, controlled HS6 only."""
    controlled = frozenset(controlled_hs6)
    totals: dict[tuple[str, str, str], float] = defaultdict(float)
    for d in declarations:
        if d.hs_code[:6] in controlled:
            totals[f"{d.date.year:04d}{d.date.month:02d}", d.destination, d.hs_code[:6]] += d.net_kg
    return [TradeFlow(p, dest, hs6, kg) for (p, dest, hs6), kg in sorted(totals.items())]


# --- mirror.share_jump -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShareJump:
    destination: str
    hs6: str
    period: str
    kg: float
    share: float
    trailing_share: float
    rule: str = "mirror.share_jump"

    @property
    def subject_id(self) -> str:
        return f"{self.destination}:{self.hs6}:{self.period}"


def share_jumps(
    flows: Iterable[TradeFlow],
    *,
    trailing_months: int = 6,
    ratio: float = 3.0,
    min_kg: float = 1000.0,
    min_history_months: int = 3,
    min_points: float = 0.0,
) -> list[ShareJump]:
    """Months where a destination's share exceeds `ratio` x its share over the trailing months and has
    risen by at least `min_points` (a fraction: 0.2 = 20 percentage points).

    `min_kg` keeps a jump from 1 kg to 5 kg quiet; `min_history_months` (months with any export of the
    HS6 in the trailing window) keeps the first months of a new trade from all looking like jumps.
    """
    by_hs6: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for f in flows:
        kg_by_dest = by_hs6[f.hs6][month_index(f.period)]
        kg_by_dest[f.destination] = kg_by_dest.get(f.destination, 0.0) + f.kg
    findings: list[ShareJump] = []
    for hs6, months in sorted(by_hs6.items()):
        totals = {m: sum(dests.values()) for m, dests in months.items()}
        for month in sorted(months):
            history = [m for m in range(month - trailing_months, month) if totals.get(m, 0.0) > 0]
            if len(history) < min_history_months:
                continue
            history_total = sum(totals[m] for m in history)
            for destination, kg in sorted(months[month].items()):
                if kg <= min_kg:
                    continue
                share = kg / totals[month]
                trailing = sum(months[m].get(destination, 0.0) for m in history) / history_total
                if share > ratio * trailing and share - trailing >= min_points:
                    findings.append(
                        ShareJump(destination, hs6, month_period(month), kg, round(share, 4), round(trailing, 4))
                    )
    return findings


# --- mirror.no_capacity ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NoCapacity:
    destination: str
    hs6: str
    period: str
    element: str
    kg: float
    rule: str = "mirror.no_capacity"

    @property
    def subject_id(self) -> str:
        return f"{self.destination}:{self.hs6}:{self.period}"


def load_capacity(path: Path = CAPACITY_FILE) -> dict[str, frozenset[str]]:
    """Element prefix -> countries with processing or consuming industry (groups such as `ree` fanned out).

    Each country must be an ISO 3166-1 alpha-2 code and carry its source: an entry without one is the
    memory-written kind of fact that named industrial countries idle, so the file is refused instead."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    capacity: dict[str, frozenset[str]] = {}
    for key, entry in data.items():
        sources = entry.get("countries")
        if not isinstance(sources, dict) or not sources:
            raise ValueError(f"{path.name} [{key}]: needs a [{key}.countries] table of country = source")
        for country, source in sources.items():
            if pycountry.countries.get(alpha_2=country) is None or country != country.upper():
                raise ValueError(f"{path.name} [{key}.countries]: {country!r} is not an ISO 3166-1 alpha-2 code")
            if not isinstance(source, str) or not source.strip():
                raise ValueError(f"{path.name} [{key}.countries] {country}: the source is missing")
        for element in entry.get("elements", [key]):
            capacity[element] = frozenset(sources)
    return capacity


def no_capacity(
    flows: Iterable[TradeFlow],
    element_of: Mapping[str, str],
    capacity: Mapping[str, frozenset[str]],
    *,
    min_kg: float = 1000.0,
) -> list[NoCapacity]:
    """Monthly flows above `min_kg` of an element to a country without known capacity for it.

    `element_of` maps HS6 to the catalogue's element prefix; an HS6 or element the mapping or the capacity
    file does not know raises nothing, since absence of data is not absence of industry.
    """
    findings: list[NoCapacity] = []
    for f in flows:
        element = element_of.get(f.hs6)
        if element is None or element not in capacity or f.kg <= min_kg:
            continue
        if f.destination not in capacity[element]:
            findings.append(NoCapacity(f.destination, f.hs6, f.period, element, f.kg))
    return findings


# --- licence.rerouted --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Licence:
    """The fields of a licence that re-routing needs; `valid_from` stands for the date of the decision."""

    licence_no: str
    status: str
    end_user: str
    consignee: str
    destination: str
    hs_code: str
    valid_from: dt.date


@dataclass(frozen=True, slots=True)
class Rerouted:
    subject_kind: str  # licence | declaration
    subject_id: str
    refused_licence: str
    refused_end_user: str
    refused_destination: str
    destination: str
    name: str  # the end user or consignee of the later licence or declaration
    score: float
    rule: str = "licence.rerouted"


def rerouted(
    licences: Iterable[Licence],
    declarations: Iterable[Declaration] = (),
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Rerouted]:
    """Later licences and declarations for a refused end user, through another country, for the same goods.

    Same goods is the same HS heading (four digits): the refused oxide may come back as the metal. Names
    are compared with the watch-list matcher, so "Apex Materials GmbH" refused for Germany and "APEX
    MATERIALS" consigned in Turkey meet.
    """
    # In licence-number order: the matcher keeps a bounded number of candidates per name, and refused licences
    # often share an end user's name, so which of them compete must not hang on the order a store returns rows
    # in (SQLite and DuckDB differed on 2 of 3,706 findings at scale 10 before this).
    licences = sorted(licences, key=lambda lic: lic.licence_no)
    refused = {lic.licence_no: lic for lic in licences if lic.status == "refused"}
    if not refused:
        return []
    index = WatchlistIndex(
        (
            WatchlistEntity(
                no, "LegalEntity", lic.end_user or lic.consignee, (lic.end_user or lic.consignee,), (), (), {}
            )
            for no, lic in refused.items()
        ),
        threshold=threshold,
    )
    later: list[tuple[str, str, dt.date, str, str, tuple[str, ...]]] = [
        ("licence", lic.licence_no, lic.valid_from, lic.destination, lic.hs_code, (lic.end_user, lic.consignee))
        for lic in licences
        if lic.status != "refused"
    ]
    later += [("declaration", d.declaration_no, d.date, d.destination, d.hs_code, (d.consignee,)) for d in declarations]
    findings: dict[tuple[str, str, str], Rerouted] = {}
    screened: dict[str, list[Hit]] = {}  # consignees recur across documents: screen each name once
    for kind, subject, date, destination, hs_code, names in later:
        for name in dict.fromkeys(n for n in names if n):
            if name not in screened:
                screened[name] = index.screen(name)
            for hit in screened[name]:
                before = refused[hit.entity_id]
                if (
                    before.valid_from <= date
                    and before.destination != destination
                    and before.hs_code[:4] == hs_code[:4]
                ):
                    key = (kind, subject, before.licence_no)
                    if key not in findings or findings[key].score < hit.score:
                        findings[key] = Rerouted(
                            kind, subject, before.licence_no, hit.matched_name, before.destination,
                            destination, name, hit.score,
                        )  # fmt: skip
    return sorted(findings.values(), key=lambda r: (r.subject_kind, r.subject_id, r.refused_licence))
