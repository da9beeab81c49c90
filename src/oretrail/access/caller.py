"""Who is asking: the one shape every permission check, visibility predicate and audit entry reads."""

from __future__ import annotations

from dataclasses import dataclass


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

    def describe(self) -> str:
        """The caller's scope in words, for a denial that must say why."""
        parts = [f"role {self.role}"]
        if self.province:
            parts.append(f"province {self.province}")
        if self.department:
            parts.append(f"department {self.department}")
        if self.parties:
            parts.append("parties " + ", ".join(self.parties))
        return ", ".join(parts)
