"""The platform's one clock.

Times are stored as naive UTC on every engine (SQLite has no time zones, and PostgreSQL's `timestamp` then
compares the same way), so every stage that stamps a record asks here rather than calling `datetime.now`
with its own idea of the zone.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
