"""Publishing outbox rows to NATS JetStream, with the outbox id as `Nats-Msg-Id`.

The position (a row of `cursors`) moves only past rows JetStream has acknowledged. A row published whose
ack was lost, or whose position was not yet written when the publisher stopped, is sent again with the same
message id, and the stream's duplicate window drops the second copy: a durable consumer sees it once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import Engine

from oretrail.notify import outbox
from oretrail.notify.delivery import DeliveryError
from oretrail.notify.subjects import ROOT

DEFAULT_URL = "nats://127.0.0.1:4222"
STREAM = "ORETRAIL"
# How long JetStream remembers a message id. The position is written right after each acked batch, so a
# re-send can only follow a stop between the two; an hour leaves room for a database that was unreachable.
DUPLICATE_WINDOW_S = 3600.0


async def _quiet(_: Exception) -> None:
    """nats-py reports connection errors through a callback that logs them; the publisher reports its own."""


async def connect(url: str, timeout: float = 2.0) -> Client:
    """One connection attempt that fails instead of retrying inside the client. nats-py's initial connect
    loops forever with `max_reconnect_attempts=0` (0 is "no limit" there); 1 makes it give up after a retry."""
    return await nats.connect(
        url,
        allow_reconnect=False,
        connect_timeout=timeout,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.05,
        error_cb=_quiet,
    )


@dataclass
class JetStreamSink:
    """The JetStream destination: stream `stream` over `<prefix>oretrail.>`.

    `prefix` puts every subject under another root (tests and staging share a server with production
    without their streams overlapping); production leaves it empty."""

    engine: Engine
    url: str = DEFAULT_URL
    stream: str = STREAM
    prefix: str = ""
    batch: int = 256
    ack_timeout: float = 5.0
    connect_timeout: float = 2.0
    _nc: Client | None = field(default=None, repr=False)
    _js: JetStreamContext | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"nats:{self.stream}"

    @property
    def subjects(self) -> str:
        return f"{self.prefix}{ROOT}.>"

    async def connect(self) -> JetStreamContext:
        if self._js is not None and self._nc is not None and self._nc.is_connected:
            return self._js
        await self.close()
        try:
            # No reconnection inside the client: a lost connection fails the batch in flight, and the
            # publisher's own backoff reconnects and resumes from the database position.
            nc = await asyncio.wait_for(connect(self.url, self.connect_timeout), timeout=3 * self.connect_timeout)
        except Exception as exc:
            raise DeliveryError(f"NATS at {self.url} unreachable: {exc or type(exc).__name__}") from exc
        self._nc, self._js = nc, nc.jetstream(timeout=self.ack_timeout)
        try:
            await self.ensure_stream()
        except Exception as exc:
            await self.close()
            raise DeliveryError(f"stream {self.stream} on {self.url}: {exc}") from exc
        return self._js

    async def ensure_stream(self) -> None:
        """Create the stream if it is missing; an existing one is left as its operator configured it, as long
        as it takes our subjects."""
        assert self._js is not None
        try:
            info = await self._js.stream_info(self.stream)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.stream,
                    subjects=[self.subjects],
                    storage=StorageType.FILE,
                    duplicate_window=DUPLICATE_WINDOW_S,
                    description="oretrail notifications: settled alerts, escalations, shares, bulletins",
                )
            )
            return
        if self.subjects not in (info.config.subjects or []):
            raise DeliveryError(
                f"stream {self.stream} exists without subject {self.subjects} (has {info.config.subjects})"
            )

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None and not nc.is_closed:
            # A connection that died under us has nothing left to flush.
            with contextlib.suppress(Exception):
                await nc.close()

    async def step(self) -> int:
        """Publish the next batch after the position; returns how many rows it moved past (0: caught up)."""
        js = await self.connect()
        rows = await asyncio.to_thread(self._read)
        if not rows:
            return 0
        try:
            futures = [await js.publish_async(self.prefix + r.subject, r.payload, headers=_headers(r)) for r in rows]
            results: list[Any] = await asyncio.wait_for(
                asyncio.gather(*futures, return_exceptions=True), timeout=self.ack_timeout
            )
        except Exception as exc:
            await self.close()
            raise DeliveryError(f"publishing to {self.url} failed: {exc or type(exc).__name__}") from exc
        acked = 0
        for res in results:
            if isinstance(res, BaseException):
                break
            acked += 1
        if acked:
            await asyncio.to_thread(self._advance, rows[acked - 1].seq)
        if acked < len(rows):
            await self.close()
            raise DeliveryError(f"JetStream did not acknowledge outbox seq {rows[acked].seq}: {results[acked]}")
        return acked

    def _read(self) -> list[outbox.Stored]:
        with self.engine.connect() as conn:
            return outbox.after(conn, outbox.position(conn, self.name), self.batch)

    def _advance(self, seq: int) -> None:
        with self.engine.begin() as conn:
            outbox.advance(conn, self.name, seq)

    def pending(self) -> int:
        with self.engine.connect() as conn:
            return outbox.count_after(conn, outbox.position(conn, self.name))


def _headers(row: outbox.Stored) -> dict[str, str]:
    return {
        "Nats-Msg-Id": row.id,
        "Oretrail-Kind": row.kind,
        "Oretrail-Created-At": row.created_at.isoformat(timespec="seconds") + "Z",
        "Content-Type": "application/json",
    }
