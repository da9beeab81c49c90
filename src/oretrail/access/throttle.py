"""Throttling password guessing: failed sign-ins counted per account and per client address over a
sliding window, in the database so every server process counts the same attempts.

Per account stops guessing one password; per address stops trying one password on many accounts. A
success clears the account's count. While throttled, not even a right password gets in: otherwise the
throttle would only slow guessing down, not stop it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, insert, select

from oretrail.clock import utcnow
from oretrail.storage.schema import signin_failures

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5
PER_CLIENT = 20


def wait_seconds(conn: Connection, username: str, client: str, now: datetime | None = None) -> int:
    """Seconds until this account may try again from this address; 0: go ahead."""
    now = now or utcnow()
    since = now - WINDOW
    waits = [0]
    for column, key, limit in (
        (signin_failures.c.username, username, PER_ACCOUNT),
        (signin_failures.c.client, client, PER_CLIENT),
    ):
        count, oldest = conn.execute(
            select(func.count(), func.min(signin_failures.c.at)).where(column == key, signin_failures.c.at > since)
        ).one()
        if count >= limit:
            # The window slides: when the oldest counted failure leaves it, one more attempt is allowed.
            waits.append(max(1, math.ceil((oldest + WINDOW - now).total_seconds())))
    return max(waits)


def record_failure(conn: Connection, username: str, client: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    conn.execute(insert(signin_failures).values(username=username[:64], client=client[:64], at=now))
    # Old attempts count for nothing; drop them so the table stays as small as the window.
    conn.execute(delete(signin_failures).where(signin_failures.c.at <= now - 2 * WINDOW))


def clear(conn: Connection, username: str) -> None:
    conn.execute(delete(signin_failures).where(signin_failures.c.username == username))
