"""NATS for the notification tests: the machine's server at 127.0.0.1:4222 (JetStream on), and a private
`nats-server` for the tests that stop and restart one. Under CI=true a missing server fails the run, as a
missing PostgreSQL does (tests/conftest.py); elsewhere it skips.

Each test publishes into a stream of its own (`T_<hex>` over `t_<hex>.oretrail.>`), deleted afterwards, so
tests running in parallel, and anything else using the server, never see each other's messages.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from oretrail.alerts.store import LEGACY, record_findings, settle_due
from oretrail.notify.jetstream import connect
from oretrail.registry.store import load_registry
from oretrail.rules.base import Finding
from oretrail.rules.config import Settings

NATS_URL = os.environ.get("ORETRAIL_TEST_NATS", "nats://127.0.0.1:4222")
PARTY = "urn:oretrail:party:uscc:91360700MA35F0AX28"
REGISTRY = orjson.dumps(
    {"kind": "enterprise", "id": PARTY, "uscc": "91360700MA35F0AX28", "name": "Ganzhou Example Rare Metals Co., Ltd.",
     "province": "CN-JX", "stages": ["mining", "smelting"], "registered": "2018-04-02"}
).decode()  # fmt: skip


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is required under CI=true")
    pytest.skip(what)


async def _jetstream_answers(url: str) -> None:
    nc = await connect(url)
    try:
        await nc.jetstream().account_info()
    finally:
        await nc.close()


@pytest.fixture(scope="session")
def nats_url() -> str:
    try:
        asyncio.run(_jetstream_answers(NATS_URL))
    except Exception as exc:  # pragma: no cover - depends on the machine
        _missing(f"NATS with JetStream at {NATS_URL} ({exc or type(exc).__name__})")
    return NATS_URL


@dataclass(frozen=True)
class Stream:
    url: str
    name: str
    prefix: str

    def subject(self, subject: str) -> str:
        return self.prefix + subject


async def _delete_stream(url: str, name: str) -> None:
    nc = await connect(url)
    try:
        await nc.jetstream().delete_stream(name)
    except Exception:
        pass  # never created: the test failed before publishing
    finally:
        await nc.close()


@pytest.fixture
def stream(nats_url: str) -> Iterator[Stream]:
    tag = uuid.uuid4().hex[:10]
    s = Stream(nats_url, f"T_{tag.upper()}", f"t_{tag}.")
    yield s
    asyncio.run(_delete_stream(nats_url, s.name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateServer:
    """A nats-server of the test's own, on a free port with its JetStream store in a temp folder, so the test
    can stop and restart it without touching the machine's server."""

    def __init__(self, store: Path) -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(binary).exists():
            _missing("the nats-server binary")
        self.binary, self.store, self.port = binary, store, free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                asyncio.run(_jetstream_answers(self.url))
                return
            except Exception:
                time.sleep(0.1)
        raise AssertionError(f"private nats-server on {self.url} did not come up")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[PrivateServer]:
    server = PrivateServer(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


def finding(n: int, *, rule: str = "licence.missing", anchor: datetime | None = None) -> Finding:
    """A finding about declaration D<n> by the Jiangxi enterprise: licence.missing goes to customs and
    commerce; with `anchor` it waits out the feed window (provisional), without it it settles at once."""
    return Finding(
        rule=rule,
        subject_kind="declaration",
        subject_id=f"D{n:06d}",
        message=LEGACY(text=f"declaration D{n:06d} cites no licence"),
        evidence=(),
        details={},
        party=PARTY,
        anchor=anchor,
    )


def register(engine: Engine) -> None:
    load_registry(engine, [REGISTRY], "registry.jsonl")


def raise_alerts(
    engine: Engine, settings: Settings, ns: range, *, anchor: datetime | None = None, settle: bool = True
) -> None:
    """Alerts for declarations `ns`, settled (when due) in the same transaction, as `judge` does."""
    with engine.begin() as conn:
        record_findings(conn, [finding(n, anchor=anchor) for n in ns], settings)
        if settle:
            settle_due(conn, datetime(2025, 7, 1))
