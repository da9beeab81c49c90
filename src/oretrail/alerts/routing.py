"""Who must act on an alert, and where: jurisdiction from the registry, departments from the rule's declaration.

The departments are policy declared with each rule (`rules/rule.py`); docs/rules.md reproduces them and a test
keeps the two in step. A finer rule id (`licence.mismatch.port`) is routed like its nearest declared parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Connection, select

from oretrail.ids import party_of_location
from oretrail.rules.base import Finding
from oretrail.rules.rule import DEPARTMENTS
from oretrail.rules.runner import rule_of
from oretrail.storage.schema import enterprises, facilities

DEPARTMENTS_ALL = DEPARTMENTS
NATIONAL = "CN"
_CHUNK = 400


def departments(rule: str) -> tuple[str, ...]:
    """Who must act, as the rule declares it; an id no rule declares goes to the coordination office."""
    declared = rule_of(rule)
    return declared.departments if declared is not None else ("central",)


def _lookup(
    conn: Connection, column: ColumnElement[str], province: ColumnElement[str], keys: Iterable[str]
) -> dict[str, str]:
    wanted = sorted({k for k in keys if k})
    out: dict[str, str] = {}
    for i in range(0, len(wanted), _CHUNK):
        out.update((k, p) for k, p in conn.execute(select(column, province).where(column.in_(wanted[i : i + _CHUNK]))))
    return out


def jurisdictions(conn: Connection, findings: Sequence[Finding]) -> list[str]:
    """Province of the facility concerned, else of its owner, else of the enterprise concerned, else CN."""
    fac = _lookup(conn, facilities.c.location_id, facilities.c.province, (f.location or "" for f in findings))
    parties = [f.party or "" for f in findings] + [party_of_location(f.location or "") or "" for f in findings]
    ent = _lookup(conn, enterprises.c.party_id, enterprises.c.province, parties)
    out = []
    for f in findings:
        loc = f.location or ""
        out.append(fac.get(loc) or ent.get(party_of_location(loc) or "") or ent.get(f.party or "") or NATIONAL)
    return out
