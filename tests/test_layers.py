"""No import runs against the data's way through the system (docs/architecture.md).

Each stage reads the ones before it and nothing after it, so a change downstream (a rule, an alert's
wording, a view) can never break intake or the ledger, and the shared vocabulary sits on the ground floor.
Imports inside functions count too: a lazy import against the flow is still a dependency against it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import oretrail

# Lower floors first; a module may import from its own floor and the floors below it.
FLOORS: tuple[frozenset[str], ...] = tuple(
    frozenset(names.split())
    for names in (
        # the ground floor: vocabulary every stage shares, and the one reader of secret files
        "clock errors ids limits model catalogue storage i18n secretfiles",
        "notify",  # the outbox any stage writes in its own transaction, and the publisher that follows it
        "intake",  # EPCIS documents read and checked
        "ledger",  # append-only, hash-chained records
        "registry trade",  # record feeds: recorded in the ledger, projected into their tables
        "chain",  # lots, positions, shipments, genealogy from the ledger's events
        "screening",  # the watch list and the name matcher
        "mirror",  # partners' statistics, read against screening's entities
        "rules",  # one module per rule
        "alerts bulletins",  # recorded, routed, settled, acted on; warnings sent at once
        "supervision",
        "export engines",  # the projections as columnar files, and the rules on other engines over them
        "pipeline feeds",  # the entry points that compose the stages for a batch
        "reports",
        "sim",  # writes feeds as senders would, and loads them through the entry points
        "access",  # who is asking, what they may see and do, and the audit log of it
        "output api cli web __init__ __main__",  # the views
    )
)
ROOT = Path(oretrail.__file__).parent


def floor(unit: str) -> int:
    for i, names in enumerate(FLOORS):
        if unit in names:
            return i
    raise AssertionError(f"{unit} is on no floor of FLOORS: place it there")


def unit_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def imported_units(path: Path) -> set[str]:
    units = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "oretrail":
                names = [f"oretrail.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        units.update(n.split(".")[1] for n in names if n.startswith("oretrail."))
    return units


def test_every_import_follows_the_data():
    against = []
    for path in sorted(ROOT.rglob("*.py")):
        here = unit_of(path)
        for there in imported_units(path) - {here}:
            if floor(there) > floor(here):
                against.append(f"{path.relative_to(ROOT)} imports oretrail.{there}")
    assert against == []


def test_the_check_sees_an_import_against_the_flow(tmp_path):
    module = tmp_path / "x.py"
    module.write_text("def f():\n    from oretrail.alerts.store import record_findings\n")
    assert imported_units(module) == {"alerts"}
    assert floor("alerts") > floor("chain")
