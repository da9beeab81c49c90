"""A real server for clients that speak HTTP from outside the process (schemathesis, the bruno CLI): uvicorn
on a free loopback port over a fresh SQLite database, stopped when the block ends; and an API account on
it, for clients that sign in with HTTP Basic."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oretrail.access.keys import issue_key
from oretrail.access.users import add_user
from oretrail.storage.engine import make_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Yields the base URL (no trailing slash)."""
    port = free_port()
    env = {**os.environ, "ORETRAIL_DB": f"sqlite:///{folder / 'server.db'}",
           "ORETRAIL_SIGNING_KEY": str(folder / "key.pem")}  # fmt: skip
    log = (folder / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "oretrail.api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/openapi.json", timeout=2):  # public: no sign-in
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {(folder / 'server.log').read_text()}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def api_account(folder: Path, name: str = "epcis-client", role: str = "central", **scope: object) -> tuple[str, str]:
    """An API account (HTTP Basic) on the database of `serve(folder)`, made as `oretrail users add --api`
    makes one; returns (user, password)."""
    password = f"{name}-{os.urandom(6).hex()}"
    engine = make_engine(f"sqlite:///{folder / 'server.db'}")
    try:
        with engine.begin() as conn:
            add_user(conn, name, role, password=password, api=True, **scope)  # type: ignore[arg-type]
    finally:
        engine.dispose()
    return name, password


def basic(user: str, password: str) -> dict[str, str]:
    import base64

    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def api_key(folder: Path, user: str) -> str:
    """An API key of `user` on the database of `serve(folder)` (`oretrail keys issue`): a Basic password that
    is never throttled, for clients that also try wrong passwords at the sign-in endpoint (schemathesis)."""
    engine = make_engine(f"sqlite:///{folder / 'server.db'}")
    try:
        with engine.begin() as conn:
            key = issue_key(conn, user, "tests").key
    finally:
        engine.dispose()
    return key
