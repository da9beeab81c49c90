"""One way to judge: run the rules over a scope, record what they find, withdraw what they no longer find,
settle what has waited long enough.

Every entry point calls this and nothing else: capture (what a group of documents touched), the trade feeds
(the licences and declarations a file changed), the whole-list feeds (their rules over everything), the scan,
rebuild and the API. Before, the alert lifecycle was composed four ways, and a threshold changed for `scan`
was not the one applied when evidence landed; now the settings are built once at the entry point and passed
here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection

from oretrail.alerts.store import alert_id, ids_of_rules, reconcile, record_findings, settle_due
from oretrail.alerts.workflow import escalate_overdue
from oretrail.clock import utcnow
from oretrail.i18n.message import Message
from oretrail.rules.base import Finding
from oretrail.rules.config import Settings
from oretrail.rules.runner import RULE_IDS, run_rules
from oretrail.rules.scope import Scope

NO_LONGER = Message("workflow.withdrawn.scan", "withdrawn: a full judgement no longer finds it")
CLEARED = Message(
    "workflow.withdrawn.evidence",
    "withdrawn: later evidence (a correction, or a record that arrived since) clears the finding",
)


@dataclass
class Judged:
    findings: list[Finding] = field(default_factory=list)
    new: list[str] = field(default_factory=list)  # alerts raised by this judgement
    withdrawn: int = 0
    reinstated: int = 0
    settled: int = 0

    def add(self, other: Judged) -> None:
        self.findings.extend(other.findings)
        self.new.extend(other.new)
        self.withdrawn += other.withdrawn
        self.reinstated += other.reinstated
        self.settled += other.settled


def judge(
    conn: Connection,
    scope: Scope | None,
    settings: Settings,
    *,
    rules: Sequence[str] | None = None,
    settle: bool = True,
    find: Callable[[list[str]], list[Finding]] | None = None,
    workers: int = 1,
) -> Judged:
    """Judge `scope` (None: everything) with the chosen rules (default all), in the caller's transaction.

    Only the alerts the run could see are reconciled: a scoped run judges the alerts whose subjects lie in
    its widened scope (exactly the subjects its findings are complete for, tests/rules/test_scope.py), a
    full run every alert of its rules. `settle=False` leaves settling to the end of a larger unit of work (a
    load of many documents settles once, after its last group, so nothing settles on evidence the same load
    is still bringing). `workers`: a full run's rules on that many readers side by side (`run_rules`).

    `find(rules)`: the findings of a full run computed elsewhere (another engine over the columnar export,
    `oretrail.engines`), recorded, reconciled and settled here exactly as the store's own."""
    chosen = list(RULE_IDS if rules is None else rules)
    if find is not None:
        if scope is not None:
            raise ValueError("findings from another engine are a full judgement: scope must be None")
        findings = find(chosen)
    else:
        findings = run_rules(conn, scope, settings.config, catalogue=settings.catalogue, rules=chosen, workers=workers)
    recorded = record_findings(conn, findings, settings)
    judged = ids_of_rules(conn, chosen, scoped=scope is not None) if scope is None or scope else []
    reason = NO_LONGER() if scope is None else CLEARED()
    withdrawn, reinstated = reconcile(conn, [alert_id(*f.ident) for f in findings], judged, reason)
    out = Judged(findings, recorded.new, withdrawn, reinstated)
    if settle:
        out.settled = _settle(conn, settings)
    return out


def settle(conn: Connection, settings: Settings) -> int:
    """Settle what is due by the settling clock, without judging anything anew (`oretrail settle`, the end
    of a load); then alerts nobody acknowledged in time go to the centre (alerts/workflow.py)."""
    return _settle(conn, settings)


def _settle(conn: Connection, settings: Settings) -> int:
    now = settings.as_of or utcnow()
    settled = settle_due(conn, now)
    escalate_overdue(conn, now)
    return settled
