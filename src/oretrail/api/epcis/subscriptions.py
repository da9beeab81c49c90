"""Delivering a named query's new events to its subscribers: webhooks (signed `GS1-Signature`) and websockets.

A subscription's position is the last ledger seq its receiver has acknowledged. A delivery carries the
matching events after it, in ledger order, at most `BATCH` at a time; only a 2xx answer moves the position
to the last event sent, in a transaction of its own. So an event is never skipped (a failed delivery is
tried again from the same position, after a back-off) and never sent again once acknowledged (an answer
lost before the position is written is the one case of a repeat; each delivery's `GS1-Delivery-ID` header,
`<subscriptionID>:<first seq>-<last seq>`, lets a receiver drop it).

A subscription belongs to the caller who made it, and carries only what its owner may see (`visibility.
owner_filter`), read again at every delivery: a grant applies at the next delivery, and a disabled owner
gets nothing (its position stays, so an owner enabled again gets what was held back). An event the owner may
not see when its turn comes is passed over for good.

`GS1-Signature` is the hex HMAC-SHA256 of the exact request body under the subscription's
`signatureToken` (the binding leaves the scheme to the implementation and names HMAC-SHA256 as one).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, func, select, update

from oretrail.api.epcis import query as eq
from oretrail.api.epcis.common import query_document, served, version_headers
from oretrail.api.epcis.index import bodies, catch_up
from oretrail.api.epcis.visibility import owner_filter
from oretrail.clock import utcnow
from oretrail.storage.schema import epcis_events, epcis_queries, epcis_subscriptions, ledger

BATCH = 500
TIMEOUT = 10.0  # seconds a receiver has to answer
BACKOFF = (1.0, 5.0, 30.0, 120.0, 600.0)  # seconds before the next try after 1, 2, ... failures
SCHEDULE_FIELDS = ("second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek")
_RANGES = {"second": (0, 59), "minute": (0, 59), "hour": (0, 23), "dayOfMonth": (1, 31), "month": (1, 12),
           "dayOfWeek": (1, 7)}  # fmt: skip


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def position_at(conn: Connection, moment: datetime | None) -> int:
    """The last ledger seq recorded before `moment` (None: the head): where a new subscription starts."""
    q = select(func.max(ledger.c.seq))
    if moment is not None:
        q = q.where(ledger.c.recorded_at < moment)
    return int(conn.execute(q).scalar() or 0)


# --- schedules (cron-like, EPCIS 1.2 §8.2.5.3) --------------------------------------------------------
def parse_schedule_field(name: str, spec: str) -> frozenset[int]:
    """`5`, `1,5,7`, `[1-5]`, `0/30` (from 0 every 30) → the values it admits; ValueError otherwise."""
    low, high = _RANGES[name]
    out: set[int] = set()
    for part in str(spec).split(","):
        part = part.strip()
        if part.startswith("[") and part.endswith("]") and "-" in part:
            a, b = (int(x) for x in part[1:-1].split("-", 1))
            out.update(range(a, b + 1))
        elif "/" in part:
            start, step = (int(x) for x in part.split("/", 1))
            if step <= 0:
                raise ValueError(f"{name}: step must be positive")
            out.update(range(start, high + 1, step))
        else:
            out.add(int(part))
    if not out or min(out) < low or max(out) > high:
        raise ValueError(f"{name}: values must lie in {low}..{high}")
    return frozenset(out)


def schedule_matches(schedule: Mapping[str, str], moment: datetime) -> bool:
    """Whether `moment` (to the second) is one the schedule fires at; fields not given admit any value,
    except `second`, which defaults to 0 when coarser fields are given (a schedule fires once a minute,
    not sixty times)."""
    now = {"second": moment.second, "minute": moment.minute, "hour": moment.hour, "dayOfMonth": moment.day,
           "month": moment.month, "dayOfWeek": moment.isoweekday()}  # fmt: skip
    for name in SCHEDULE_FIELDS:
        spec = schedule.get(name)
        if spec is None:
            if name == "second" and now["second"] != 0:
                return False
            continue
        if now[name] not in parse_schedule_field(name, spec):
            return False
    return True


# --- one delivery ---------------------------------------------------------------------------------------
@dataclass
class Batch:
    """The events a subscriber gets next: their seqs, the document to send, and the position after them."""

    seqs: list[int]
    document: dict[str, Any]
    position: int


def next_batch(conn: Connection, sub: Any, params: dict[str, Any], limit: int = BATCH) -> Batch:
    """The next events for `sub` (a subscription row, or a websocket's cursor: `id`, `query_name`,
    `position`, `owner`), as far as its owner may see them now."""
    parsed = eq.parse(params)
    q = select(epcis_events.c.seq).where(epcis_events.c.seq > sub.position, *parsed.where)
    visible = owner_filter(conn, sub.owner)
    if visible is not None:
        q = q.where(visible)
    seqs = list(conn.execute(q.order_by(epcis_events.c.seq).limit(limit)).scalars())
    events = [served(body, at) for _, body, at in bodies(conn, seqs)]
    position = seqs[-1] if seqs else sub.position
    return Batch(seqs, query_document(events, sub.query_name, sub.id), position)


Sender = Callable[[str, bytes, dict[str, str]], int]


def http_send(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST and return the status; a network failure is status 0."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, ValueError):
        return 0


def deliver(engine: Engine, sub: Any, params: dict[str, Any], send: Sender, *, empty: bool = False) -> int | None:
    """Send one batch to a webhook subscriber; move its position only on a 2xx. Returns how many events were
    acknowledged, None when there was nothing to send; raises DeliveryFailed on any other answer."""
    with engine.connect() as conn:
        batch = next_batch(conn, sub, params)
    if not batch.seqs and not empty:
        return None
    body = orjson.dumps(batch.document)
    headers = {"Content-Type": "application/json", **version_headers()}
    first = batch.seqs[0] if batch.seqs else sub.position
    headers["GS1-Delivery-ID"] = f"{sub.id}:{first}-{batch.position}"
    if sub.secret:
        headers["GS1-Signature"] = signature(sub.secret, body)
    status = send(sub.dest, body, headers)
    now = utcnow()
    with engine.begin() as conn:
        if 200 <= status < 300:
            conn.execute(
                update(epcis_subscriptions)
                .where(epcis_subscriptions.c.id == sub.id, epcis_subscriptions.c.position == sub.position)
                .values(position=batch.position, last_notified_at=now, last_error=None)
            )
            return len(batch.seqs)
        conn.execute(
            update(epcis_subscriptions)
            .where(epcis_subscriptions.c.id == sub.id)
            .values(last_error=f"{now.isoformat()}: {sub.dest} answered {status or 'nothing'}")
        )
    raise DeliveryFailed(status)


class DeliveryFailed(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"receiver answered {status}")
        self.status = status


# --- the delivery loop ------------------------------------------------------------------------------------
class Deliverer:
    """A thread that delivers every webhook subscription: at once for `stream` ones when captures land
    (`wake`), on their schedule for the others; with back-off per subscription after a failure."""

    def __init__(self, engine: Engine, send: Sender = http_send, tick: float = 1.0) -> None:
        self.engine = engine
        self.send = send
        self.tick = tick
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._failures: dict[str, tuple[int, float]] = {}  # subscription → (failures, not before)
        self._fired: dict[str, datetime] = {}  # scheduled subscription → the second it last fired
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="epcis-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=TIMEOUT + 5)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.tick)
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                time.sleep(self.tick)

    def run_once(self, now: datetime | None = None) -> int:
        """One pass over every subscription; returns how many deliveries were acknowledged."""
        catch_up(self.engine)
        now = (now or utcnow()).replace(microsecond=0)
        with self.engine.connect() as conn:
            subs = conn.execute(select(epcis_subscriptions)).all()
            queries = {n: orjson.loads(q) for n, q in conn.execute(select(epcis_queries.c.name, epcis_queries.c.query))}
        done = 0
        for sub in subs:
            if sub.query_name not in queries or self._backing_off(sub.id):
                continue
            due, empty = self._due(sub, now)
            if not due:
                continue
            try:
                current = sub
                while (
                    sent := deliver(self.engine, current, queries[sub.query_name], self.send, empty=empty)
                ) is not None:
                    done += 1
                    if sent < BATCH:
                        break
                    empty = False
                    with self.engine.connect() as conn:
                        current = conn.execute(
                            select(epcis_subscriptions).where(epcis_subscriptions.c.id == sub.id)
                        ).one()
                self._failures.pop(sub.id, None)
            except DeliveryFailed:
                count = self._failures.get(sub.id, (0, 0.0))[0] + 1
                self._failures[sub.id] = (count, time.monotonic() + BACKOFF[min(count, len(BACKOFF)) - 1])
        return done

    def _backing_off(self, sub_id: str) -> bool:
        failures = self._failures.get(sub_id)
        return failures is not None and time.monotonic() < failures[1]

    def _due(self, sub: Any, now: datetime) -> tuple[bool, bool]:
        """(deliver now?, send even an empty result?)"""
        if sub.stream:
            return True, False
        schedule = orjson.loads(sub.schedule or "{}")
        if self._fired.get(sub.id) == now or not schedule_matches(schedule, now):
            return False, False
        self._fired[sub.id] = now
        return True, bool(sub.report_if_empty)
