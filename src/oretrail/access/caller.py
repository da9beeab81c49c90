"""Who is asking: the one shape every permission check, visibility predicate and audit entry reads."""

from __future__ import annotations

from dataclasses import dataclass

from oretrail.i18n.message import Message, Said

SCOPE = Message("access.scope", "{parts:list}")
SCOPE_ROLE = Message("access.scope.role", "role {role:term}")
SCOPE_PROVINCE = Message("access.scope.province", "province {province}")
SCOPE_DEPARTMENT = Message("access.scope.department", "department {department:term}")
SCOPE_PARTIES = Message("access.scope.parties", "parties {parties:list}")


@dataclass(frozen=True, slots=True)
class Caller:
    """A signed-in user as the platform sees them on this request.

    Built from the `users` row on every request (not from the token), so a grant or a disabling applies at
    once. `via` says how they proved it (token, key, basic), for the audit log.
    """

    user: str
    role: str
    province: str | None = None
    department: str | None = None
    parties: tuple[str, ...] = ()
    via: str = "token"

    def scope(self) -> Said:
        """The caller's scope in the reader's words, for a denial that must say why."""
        parts: list[Said] = [SCOPE_ROLE(role=self.role)]
        if self.province:
            parts.append(SCOPE_PROVINCE(province=self.province))
        if self.department:
            parts.append(SCOPE_DEPARTMENT(department=self.department))
        if self.parties:
            parts.append(SCOPE_PARTIES(parties=list(self.parties)))
        return SCOPE(parts=parts)

    def describe(self) -> str:
        """The caller's scope in English (audit entries, logs)."""
        return self.scope().render("en")
