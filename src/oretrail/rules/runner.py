"""Running the rules: over everything (a scan) or over what a captured batch touched (early warning).

Both run the same rule functions; a scoped run first widens the batch's subjects (`scope.expand`) and each
rule then filters on them. Findings come back sorted, so two runs over the same data compare equal whatever
order the data arrived in.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from queue import Empty, SimpleQueue

from sqlalchemy import Connection

from oretrail.rules import (
    balance_lot,
    balance_transformation,
    declaration_misclassified,
    declaration_unit_value,
    intake_off_profile,
    licence_invalid,
    licence_mismatch,
    licence_missing,
    licence_overdrawn,
    licence_rerouted,
    mirror_gap,
    mirror_no_capacity,
    mirror_share_jump,
    party_unregistered,
    screening_watchlist,
    supervision_late_report,
    supervision_overdue_action,
    supervision_report_mismatch,
    supervision_suspended_facility,
    trace_no_provenance,
    transit_diverted,
    transit_not_received,
)
from oretrail.rules.base import Catalogue, Context, Finding, sorted_findings
from oretrail.rules.config import Config, load_config
from oretrail.rules.rule import Rule
from oretrail.rules.scope import Scope, expand
from oretrail.storage.engine import readers, scan_settings

RULES: tuple[Rule, ...] = tuple(
    m.DECLARATION
    for m in (
        licence_missing,
        licence_overdrawn,
        licence_mismatch,
        licence_invalid,
        declaration_misclassified,
        declaration_unit_value,
        trace_no_provenance,
        balance_transformation,
        balance_lot,
        transit_not_received,
        transit_diverted,
        party_unregistered,
        screening_watchlist,
        licence_rerouted,
        mirror_gap,
        mirror_share_jump,
        mirror_no_capacity,
        intake_off_profile,
        supervision_overdue_action,
        supervision_late_report,
        supervision_report_mismatch,
        supervision_suspended_facility,
    )
)
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
SCOPE_KINDS: dict[str, str] = {r.id: r.scope_kind for r in RULES}
_BY_ID: dict[str, Rule] = {r.id: r for r in RULES}


def rule_of(rule_id: str) -> Rule | None:
    """The declaration a rule id belongs to; a finer id (`licence.mismatch.port`) belongs to its nearest parent."""
    parts = rule_id.split(".")
    while parts:
        found = _BY_ID.get(".".join(parts))
        if found is not None:
            return found
        parts.pop()
    return None


def default_catalogue() -> Catalogue:
    from oretrail.catalogue import load_catalogue  # imported late: the catalogue package loads a data file

    return load_catalogue()


def run_rules(
    conn: Connection,
    scope: Scope | None = None,
    config: Config | None = None,
    *,
    catalogue: Catalogue | None = None,
    rules: Sequence[str] | None = None,
    on_rule: Callable[[str, int, float], None] | None = None,
    workers: int = 1,
) -> list[Finding]:
    """Findings of every rule (or of `rules`), for all subjects (`scope=None`) or those a batch could change.

    Runs inside the caller's connection: capture calls it in the same transaction that stored the batch, so an
    alert exists the moment its evidence does. A full scan may instead run on `workers` connections side by
    side that read the same data (`storage.engine.readers`; the caller's connection when they cannot be had).
    `on_rule(rule, count, seconds)` lets a caller time or log each rule.
    """
    ctx = Context(conn, catalogue or default_catalogue(), config or load_config(), scoped=scope is not None)
    if scope is not None:
        # Even when empty: the scope table must never describe an earlier batch.
        expand(conn, scope, ctx.config.share_jump_trailing_months)
        if not scope:
            return []
    unknown = set(rules or ()) - set(RULE_IDS)
    if unknown:
        raise ValueError(f"unknown rule(s): {', '.join(sorted(unknown))}")
    chosen = [r for r in sorted(RULES, key=_longest_first) if rules is None or r.id in rules]
    opening: AbstractContextManager[list[Connection]] = readers(conn, workers) if scope is None else nullcontext([])
    with opening as others:
        contexts = [replace(ctx, conn=other) for other in others]
        with scan_settings(conn) if scope is None and not contexts else nullcontext():
            return sorted_findings(_run(contexts or [ctx], chosen, on_rule))


# The rules that took longest in a full scan of 10.5 million events on DuckDB (docs/benchmarks.md), started
# first so that side-by-side readers finish together instead of one starting the longest rule when the rest
# are done.
_LONGEST = ("supervision.late_report", "balance.transformation", "licence.rerouted", "trace.no_provenance")


def _longest_first(rule: Rule) -> int:
    return _LONGEST.index(rule.id) if rule.id in _LONGEST else len(_LONGEST)


def _run(
    contexts: list[Context], chosen: list[Rule], on_rule: Callable[[str, int, float], None] | None
) -> list[Finding]:
    """Each context takes the next rule not yet taken until none is left; the first runs in this thread."""
    todo: SimpleQueue[Rule] = SimpleQueue()
    for rule in chosen:
        todo.put(rule)
    found: list[Finding] = []

    def work(ctx: Context) -> None:
        while True:
            try:
                rule = todo.get_nowait()
            except Empty:
                return
            started = time.perf_counter()
            got = rule.find(ctx)
            if on_rule is not None:
                on_rule(rule.id, len(got), time.perf_counter() - started)
            found.extend(got)

    with ThreadPoolExecutor(max_workers=max(len(contexts) - 1, 1)) as pool:
        beside = [pool.submit(work, ctx) for ctx in contexts[1:]]
        work(contexts[0])
        for done in beside:
            done.result()
    return found
