"""What a rule is, declared once in its own module: id, scope, who acts, how severe, when it settles, wording.

Before this shape a rule's identity was spread over the runner's list, a routing table, the severity module,
the explanations, the docs and the scope test; adding a rule meant editing five files in step. Now each rule
module ends with one `Rule(...)`, and the runner, routing, severity, explanations, settling and the docs'
tables all read it from there (a test holds docs/rules.md to the declarations).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from oretrail.i18n.message import Message

if TYPE_CHECKING:
    from oretrail.rules.base import Context, Finding

DEPARTMENTS = (
    "central",
    "commerce",
    "customs",
    "industry",
    "natural_resources",
    "public_security",
    "transport",
    "market_regulation",
    "tax",
)  # SPEC.md §4, in that order


class Settling(Enum):
    """When the evidence that could clear a finding has had its chance to arrive (docs/rules.md §Settling).

    Evidence arrives per enterprise and month, not in global time order, so a finding raised while a
    counterpart's report may still be on its way is `provisional`; it settles, and reaches an officer, at
    `settles_at`, computed from the finding's `anchor` (the latest data time it rests on):
    - REPORT: the chain events that could clear it are due by the monthly reporting deadline of the anchor's
      month (`settling.report_deadline_days` after the month ends);
    - FEED: a licence or customs record, due from the department's daily feed within
      `settling.feed_days` of the anchor;
    - IMMEDIATE: nothing still to come can clear it (a watch-list hit, partner statistics published months
      after the declarations they are compared with).
    """

    REPORT = "report"
    FEED = "feed"
    IMMEDIATE = "immediate"


class Severity(Enum):
    STAKE = "stake"  # by value at stake and licence control (alerts/severity.py)
    SIGNAL = "signal"  # a statistical pointer that proves nothing alone: always low


class Queue(Enum):
    ALERTS = "alerts"  # an officer's queue: notified once settled
    LEADS = "leads"  # listed apart until the signal has shown its precision on data it was not tuned on


@dataclass(frozen=True)
class Rule:
    id: str
    scope_kind: str  # the scope-table kind its subjects are filtered by (rules/scope.py); = subject ids
    find: Callable[[Context], list[Finding]]
    departments: tuple[str, ...]  # who must act, lead department first
    settling: Settling
    title: str  # what it finds, in a line (English; 简体中文 in the catalogue under `<id>.title`)
    check: str  # what an officer checks first (catalogue key `<id>.check`)
    thresholds: tuple[str, ...] = ()  # defaults.toml keys it reads, `section.key`
    severity: Severity = Severity.STAKE
    queue: Queue = Queue.ALERTS
    rejudged_by: tuple[str, ...] = ()  # whole-list feeds whose load re-judges it over everything

    def __post_init__(self) -> None:
        unknown = set(self.departments) - set(DEPARTMENTS)
        if unknown or not self.departments:
            raise ValueError(f"{self.id}: departments must be from SPEC.md §4, got {self.departments}")
        Message(f"{self.id}.title", self.title)
        Message(f"{self.id}.check", self.check)

    def said(self, part: str, lang: str = "en") -> str:
        """`title` or `check` in the reader's language."""
        return Message(f"{self.id}.{part}", getattr(self, part)).render(lang)
