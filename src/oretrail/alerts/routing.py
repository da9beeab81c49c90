"""Who must act on an alert, and where: jurisdiction from the registry, departments from a fixed table.

The table is policy, not code: it is reproduced in docs/rules.md and a test keeps the two in step. A finer
rule id (`licence.mismatch.port`) is routed like its nearest listed parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Connection, select

from oretrail.registry.records import party_of_location
from oretrail.rules.base import Finding
from oretrail.storage.schema import enterprises, facilities

DEPARTMENTS_ALL = (
    "central",
    "commerce",
    "customs",
    "industry",
    "natural_resources",
    "public_security",
    "transport",
    "market_regulation",
    "tax",
)

# Rule → departments that must act, lead department first.
ROUTES: dict[str, tuple[str, ...]] = {
    "licence.missing": ("customs", "commerce"),
    "licence.overdrawn": ("commerce", "customs"),
    "licence.mismatch": ("customs", "commerce"),
    "licence.invalid": ("customs", "commerce"),
    "declaration.misclassified": ("customs", "commerce"),
    "declaration.unit_value": ("customs", "tax"),
    "trace.no_provenance": ("natural_resources", "industry", "customs"),
    "balance.transformation": ("industry", "natural_resources"),
    "balance.lot": ("industry", "natural_resources"),
    "transit.not_received": ("transport", "public_security"),
    "transit.diverted": ("transport", "public_security"),
    "party.unregistered": ("market_regulation", "commerce"),
    "screening.watchlist": ("central", "commerce"),
    "mirror.gap": ("central", "customs", "commerce"),
    # Finer signals whose ids have no listed parent (docs/mirror.md): routed like the family they belong to.
    "mirror.share_jump": ("central", "customs", "commerce"),
    "mirror.no_capacity": ("central", "customs", "commerce"),
    "licence.rerouted": ("commerce", "customs", "central"),
    "intake.off_profile": ("commerce", "industry"),
}
NATIONAL = "CN"
_CHUNK = 400


def departments(rule: str) -> tuple[str, ...]:
    parts = rule.split(".")
    while parts:
        found = ROUTES.get(".".join(parts))
        if found:
            return found
        parts.pop()
    return ("central",)


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
