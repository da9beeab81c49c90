"""The permission table (permissions.toml) read into data, and the question it answers: may this caller do
this action on this kind of object, and under which constraints.

Permissions are data, not code, so who may see what can be reviewed, diffed and documented from one file;
docs/access.md's table is generated from it and a test keeps the two equal. The evaluation of a constraint
against stored rows lives in `scope.py` (SQL, per object kind) and `capture.py` (records being captured).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from oretrail.access.caller import Caller
from oretrail.i18n.message import Message, Said

ACTIONS = ("read", "capture", "act", "issue")
KINDS = (
    "event", "lot", "registry", "licence", "declaration", "alert", "mirror", "watchlist", "ledger", "audit",
    "bulletin", "supervision", "report",
)  # fmt: skip
ATTRIBUTES = ("province", "department", "party", "rule")
# What a constraint may name, per kind: the attributes `scope.py` can turn into a predicate on that kind's rows.
# Kinds without attributes (partner statistics, the watch list, the ledger, the audit log) are all or nothing.
ATTRIBUTES_OF: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "event": frozenset({"province", "party"}),
        "lot": frozenset({"province", "party"}),
        "registry": frozenset({"province", "party"}),
        "licence": frozenset({"province", "party"}),
        "declaration": frozenset({"province", "party"}),
        "alert": frozenset({"province", "department", "party", "rule"}),
        "mirror": frozenset(),
        "watchlist": frozenset(),
        "ledger": frozenset(),
        "audit": frozenset(),
        "bulletin": frozenset({"province", "department"}),
        # reviews, inspections, corrective actions, trainings, risk scores, plans, dossiers: the enterprise
        # concerned and its registered province (a plan or a training: its own province)
        "supervision": frozenset({"province", "party"}),
        "report": frozenset({"province", "party"}),  # monthly reports: the reporting enterprise
    }
)
CALLER_VALUES = {"$province", "$department", "$parties"}
ROLE_NEEDS = ("province", "department", "parties")


class PermissionTableError(ValueError):
    """permissions.toml says something the access layer cannot enforce; the message names the entry."""


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    title: str
    needs: tuple[str, ...]  # caller attributes a user of this role must have


@dataclass(frozen=True, slots=True)
class Permission:
    role: str
    actions: frozenset[str]
    kinds: frozenset[str]
    constraint: Mapping[str, tuple[str, ...]]  # attribute -> allowed values ($-names resolved per caller)
    departments: frozenset[str] | None = None  # only callers of these departments

    def applies(self, caller: Caller, action: str, kind: str) -> bool:
        return (
            self.role == caller.role
            and action in self.actions
            and (kind in self.kinds or "*" in self.kinds)
            and (self.departments is None or caller.department in self.departments)
        )

    def resolved(self, caller: Caller) -> dict[str, tuple[str, ...]]:
        """The constraint with the caller's own values put in for `$province`, `$department`, `$parties`."""
        out: dict[str, tuple[str, ...]] = {}
        for attribute, values in self.constraint.items():
            resolved: list[str] = []
            for v in values:
                if v == "$province":
                    resolved.extend([caller.province] if caller.province else [])
                elif v == "$department":
                    resolved.extend([caller.department] if caller.department else [])
                elif v == "$parties":
                    resolved.extend(caller.parties)
                else:
                    resolved.append(v)
            out[attribute] = tuple(resolved)
        return out


@dataclass(frozen=True, slots=True)
class Table:
    roles: Mapping[str, Role]
    permissions: tuple[Permission, ...]

    def grants(self, caller: Caller, action: str, kind: str) -> list[Permission]:
        """The permissions that let `caller` do `action` on `kind`; empty: denied outright."""
        return [p for p in self.permissions if p.applies(caller, action, kind)]

    def constraints(self, caller: Caller, action: str, kind: str) -> list[dict[str, tuple[str, ...]]] | None:
        """None: unconstrained (every object of the kind). Otherwise the alternatives, one dict per permission
        (attributes that must all hold); an empty list denies."""
        found = self.grants(caller, action, kind)
        if any(not p.constraint for p in found):
            return None
        return [p.resolved(caller) for p in found]


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise PermissionTableError(f"{where}: expected a string or a non-empty list of strings, got {value!r}")


def parse_table(data: Mapping[str, object]) -> Table:
    """Check every entry before anything uses the table: an unknown action, kind or attribute would otherwise
    grant nothing (or everything) without a word."""
    raw_roles = data.get("roles")
    if not isinstance(raw_roles, dict) or not raw_roles:
        raise PermissionTableError("[roles] is missing")
    roles: dict[str, Role] = {}
    for name, spec in raw_roles.items():
        needs = tuple(spec.get("needs", ()))
        bad = set(needs) - set(ROLE_NEEDS)
        if bad:
            raise PermissionTableError(f"roles.{name}.needs: unknown {sorted(bad)}; one of {ROLE_NEEDS}")
        roles[name] = Role(name, str(spec.get("title", name)), needs)
    perms: list[Permission] = []
    raw_perms = data.get("permission", [])
    if not isinstance(raw_perms, list):
        raise PermissionTableError("[[permission]] must be an array of tables")
    for i, entry in enumerate(raw_perms):
        where = f"permission[{i}]"
        role = entry.get("role")
        if role not in roles:
            raise PermissionTableError(f"{where}.role: {role!r} is not among [roles]")
        actions = _strings(entry.get("actions"), f"{where}.actions")
        if set(actions) - set(ACTIONS):
            raise PermissionTableError(f"{where}.actions: unknown {sorted(set(actions) - set(ACTIONS))}")
        kinds = _strings(entry.get("kinds"), f"{where}.kinds")
        if set(kinds) - {*KINDS, "*"}:
            raise PermissionTableError(f"{where}.kinds: unknown {sorted(set(kinds) - {*KINDS, '*'})}")
        constraint: dict[str, tuple[str, ...]] = {}
        for attribute, value in dict(entry.get("constraint", {})).items():
            if attribute not in ATTRIBUTES:
                raise PermissionTableError(f"{where}.constraint: unknown attribute {attribute!r}; one of {ATTRIBUTES}")
            values = _strings(value, f"{where}.constraint.{attribute}")
            for v in values:
                if v.startswith("$") and v not in CALLER_VALUES:
                    raise PermissionTableError(f"{where}.constraint.{attribute}: unknown caller value {v}")
            constraint[attribute] = values
        for kind in KINDS if "*" in kinds else kinds:
            if set(constraint) - ATTRIBUTES_OF[kind]:
                raise PermissionTableError(
                    f"{where}.constraint: {sorted(set(constraint) - ATTRIBUTES_OF[kind])} means nothing for {kind} "
                    f"records (they have {sorted(ATTRIBUTES_OF[kind]) or 'no attributes'})"
                )
        departments = entry.get("departments")
        perms.append(
            Permission(
                role,
                frozenset(actions),
                frozenset(kinds),
                MappingProxyType(constraint),
                frozenset(_strings(departments, f"{where}.departments")) if departments is not None else None,
            )
        )
    return Table(MappingProxyType(roles), tuple(perms))


@cache
def table() -> Table:
    """The packaged permission table, read and checked once."""
    data = tomllib.loads(files("oretrail.access").joinpath("permissions.toml").read_text(encoding="utf-8"))
    return parse_table(data)


DENIED = Message(
    "access.denied", "{user} ({scope}) may not {action} {kind} records: no permission of the role allows it"
)


# The verbs and kinds of the table as a denial names them ("may not capture supervision records").
ACTION_WORDS = {action: Message(f"access.action.{action}", action) for action in ACTIONS}
KIND_WORDS = {kind: Message(f"access.kind.{kind}", kind) for kind in KINDS}


def denial(caller: Caller, action: str, kind: str) -> Said | None:
    """Why `caller` may not `action` any `kind` at all; None when some permission allows it."""
    if table().grants(caller, action, kind):
        return None
    return DENIED(user=caller.user, scope=caller.scope(), action=ACTION_WORDS[action](), kind=KIND_WORDS[kind]())
