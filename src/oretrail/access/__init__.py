"""Identity, access by role and jurisdiction, and the audit log (issue 13 §2–3; docs/access.md)."""
