"""A facility's status on any day, from the statuses inspections set and the schedule by which they lapse.

In the manner of the ICGLR's mine-site certification (rules/defaults.toml [facility]): green (certified)
lapses to blue after `green_months`; yellow (conditional) turns red after `yellow_months` unless a
re-inspection clears it; red (suspended) lasts at least `red_min_months` and until a re-inspection clears
it (a clearing inspection sooner takes effect when the minimum has run); blue (not inspected, or a lapsed
green) turns red after `blue_max_months`. A facility never inspected is blue from the programme's start.

It is a pure function of the inspection history and the calendar, so the rule, the dossier, the risk score
and the customs channels all read the same status for the same day, and nothing has to run at midnight for
a certificate to lapse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from oretrail.rules.config import Config

STATUSES = ("green", "yellow", "red", "blue")
FAR = date(9999, 12, 31)


@dataclass(frozen=True)
class Span:
    """One stretch of a status: `start` inclusive, `end` exclusive (FAR: open), and why it holds."""

    status: str
    start: date
    end: date
    cause: str  # inspection | lapse | never_inspected
    inspection: str | None = None  # the inspection that set it, or whose status lapsed into it

    def record(self) -> dict[str, object]:
        return {
            "status": self.status,
            "from": self.start.isoformat(),
            "until": None if self.end == FAR else self.end.isoformat(),
            "cause": self.cause,
            "inspection": self.inspection,
        }


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _lapses(status: str, start: date, inspection: str | None, cfg: Config) -> list[Span]:
    """What a status set on `start` becomes if nothing else happens."""
    if status == "green":
        blue = add_months(start, cfg.green_months)
        red = add_months(blue, cfg.blue_max_months)
        return [
            Span("green", start, blue, "inspection", inspection),
            Span("blue", blue, red, "lapse", inspection),
            Span("red", red, FAR, "lapse", inspection),
        ]
    if status == "yellow":
        red = add_months(start, cfg.yellow_months)
        return [Span("yellow", start, red, "inspection", inspection), Span("red", red, FAR, "lapse", inspection)]
    if status == "red":
        return [Span("red", start, FAR, "inspection", inspection)]
    raise ValueError(f"an inspection sets green, yellow or red, not {status!r}")


def timeline(history: Iterable[tuple[date, str, str]], cfg: Config) -> list[Span]:
    """The spans of a facility's status from `history`: (date, status, inspection id) as inspections set it,
    in any order. Two inspections on one day: the later id wins (ids are ordered by the inspectorate)."""
    spans: list[Span] = []
    start = cfg.programme_start
    blue_end = add_months(start, cfg.blue_max_months)
    planned = [Span("blue", date.min, blue_end, "never_inspected"), Span("red", blue_end, FAR, "lapse")]
    red_since: date | None = None
    for day, status, inspection in sorted(history, key=lambda h: (h[0], h[2])):
        effective = day
        current = next((s for s in planned if s.start <= day < s.end), None)
        if current is not None and current.status == "red" and current.cause == "inspection":
            red_since = current.start
        if status != "red" and red_since is not None and current is not None and current.status == "red":
            effective = max(day, add_months(red_since, cfg.red_min_months))  # the minimum runs first
        spans.extend(_cut(planned, effective))
        planned = _lapses(status, effective, inspection, cfg)
        red_since = effective if status == "red" else None
    spans.extend(planned)
    return [s for s in spans if s.start < s.end]


def _cut(planned: Sequence[Span], at: date) -> list[Span]:
    return [Span(s.status, s.start, min(s.end, at), s.cause, s.inspection) for s in planned if s.start < at]


def status_on(spans: Sequence[Span], day: date) -> Span:
    for s in spans:
        if s.start <= day < s.end:
            return s
    return spans[-1]


def red_spans(spans: Sequence[Span]) -> list[Span]:
    return [s for s in spans if s.status == "red"]
