"""The publisher: one loop that follows the outbox for every destination, each at its own durable position.

Destinations are JetStream (one stream) and each webhook subscription. One failing destination backs off
on its own (exponential, `delivery.Backoff`) while the others go on: a webhook receiver that is down does
not hold back NATS, and NATS being down does not hold back the webhooks. Nothing is kept in memory between
rounds that the database does not also hold, so a publisher stopped at any instant resumes where its
positions say, and what it re-sends carries the same message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine

from oretrail.notify import outbox, webhooks
from oretrail.notify.delivery import Backoff, DeliveryError
from oretrail.notify.jetstream import DEFAULT_URL, STREAM, JetStreamSink

log = logging.getLogger("oretrail.notify")


class Sink(Protocol):
    @property
    def name(self) -> str: ...

    async def step(self) -> int: ...

    def pending(self) -> int: ...


@dataclass
class Progress:
    """One destination's run: what it delivered, how often it failed, and the failures in a row now."""

    delivered: int = 0
    failed_attempts: int = 0
    failures_in_a_row: int = 0
    last_error: str | None = None
    next_at: float = 0.0
    caught_up: bool = False


@dataclass
class Outcome:
    progress: dict[str, Progress] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)  # rows each destination has still to deliver

    @property
    def complete(self) -> bool:
        return not any(self.pending.values())


@dataclass
class Publisher:
    """`nats_url` None: webhooks only. `follow`: run until `stop` is set; otherwise deliver what the outbox
    held at the start and return, giving a destination up after `max_failures` failures in a row."""

    engine: Engine
    nats_url: str | None = DEFAULT_URL
    stream: str = STREAM
    prefix: str = ""
    batch: int = 256
    interval: float = 0.5
    backoff: Backoff = field(default_factory=Backoff)
    max_failures: int | None = 5
    webhooks: bool = True
    sinks: dict[str, Sink] = field(default_factory=dict)
    outcome: Outcome = field(default_factory=Outcome)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        if self.nats_url is not None:
            sink = JetStreamSink(self.engine, self.nats_url, self.stream, self.prefix, self.batch)
            self.sinks[sink.name] = sink

    def _refresh_webhooks(self) -> None:
        """Subscriptions added or removed while the publisher runs are picked up at the next round."""
        if not self.webhooks:
            return
        with self.engine.connect() as conn:
            active = {f"webhook:{s.id}": s.id for s in webhooks.listed(conn, active_only=True)}
        for name in [n for n in self.sinks if n.startswith("webhook:") and n not in active]:
            del self.sinks[name]
        for name, sub_id in active.items():
            self.sinks.setdefault(name, webhooks.WebhookSink(self.engine, sub_id, self.batch))

    async def run(self, *, follow: bool = False, stop: asyncio.Event | None = None) -> Outcome:
        stop = stop or asyncio.Event()
        with self.engine.connect() as conn:
            target = outbox.head(conn)
        self._refresh_webhooks()
        try:
            while not stop.is_set():
                if follow:
                    self._refresh_webhooks()
                moved = await self._round()
                if not follow and self._finished(target):
                    break
                if not moved:
                    await self._pause(stop)
        finally:
            for sink in self.sinks.values():
                if isinstance(sink, JetStreamSink):
                    await sink.close()
            self.outcome.pending = {name: await asyncio.to_thread(s.pending) for name, s in self.sinks.items()}
        return self.outcome

    async def _round(self) -> int:
        moved = 0
        for name, sink in list(self.sinks.items()):
            p = self.outcome.progress.setdefault(name, Progress())
            if self.clock() < p.next_at or self._given_up(p):
                continue
            try:
                n = await sink.step()
            except DeliveryError as exc:
                p.failed_attempts += 1
                p.failures_in_a_row += 1
                p.last_error = str(exc)
                wait = self.backoff.delay(p.failures_in_a_row)
                p.next_at = self.clock() + wait
                log.warning("%s: %s; attempt %d failed, next in %.1f s", name, exc, p.failures_in_a_row, wait)
                continue
            if p.failures_in_a_row:
                log.info("%s: delivering again after %d failed attempts", name, p.failures_in_a_row)
            p.failures_in_a_row, p.next_at = 0, 0.0
            p.delivered += n
            p.caught_up = n == 0
            moved += n
        return moved

    def _given_up(self, p: Progress) -> bool:
        return self.max_failures is not None and p.failures_in_a_row >= self.max_failures

    def _finished(self, target: int) -> bool:
        """Every destination is past what the outbox held at the start, or has given up."""
        for name, p in self.outcome.progress.items():
            if self._given_up(p):
                continue
            if not p.caught_up and self._position(name) < target:
                return False
        return True

    def _position(self, name: str) -> int:
        with self.engine.connect() as conn:
            if name.startswith("webhook:"):
                sub = webhooks.get(conn, int(name.split(":", 1)[1]))
                return 0 if sub is None else sub.position
            return outbox.position(conn, name)

    async def _pause(self, stop: asyncio.Event) -> None:
        """Until the next poll, or sooner when a destination's backoff ends."""
        now = self.clock()
        waits = [p.next_at - now for p in self.outcome.progress.values() if p.next_at > now]
        wait = min([self.interval, *waits])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.01, wait))
