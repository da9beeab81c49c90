"""Schemathesis against every operation of our own OpenAPI, signed in as two callers the central API account of
test_schemathesis.py is not (issue 17 §3): an administrator with the access token of the OAuth2 password flow,
and an enterprise with an API key. No answer may be 5xx and every answer must conform to the schema documented
for it. The feeds sent as JSON Lines or CSV get bodies from tests/api/schemathesis_media.py.

Each request is checked to have been made as the caller in the audit log: a run whose credentials stopped
working would otherwise pass on 401s."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from oretrail.access.users import add_user
from oretrail.storage.engine import make_engine
from oretrail.storage.schema import audit
from tests.api.epcis.server import api_key, serve

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long admin passphrase 7"
ENTERPRISE = "urn:oretrail:party:uscc:91360700MA35F0AX28"
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def _accounts(folder: Path) -> None:
    engine = make_engine(f"sqlite:///{folder / 'server.db'}")
    with engine.begin() as conn:
        add_user(conn, "root.admin", "admin", password=PASSWORD)
        add_user(conn, "firm.api", "enterprise", password=None, api=True, parties=(ENTERPRISE,))
    engine.dispose()


def _token(base: str) -> str:
    form = urllib.parse.urlencode({"grant_type": "password", "username": "root.admin", "password": PASSWORD})
    with urllib.request.urlopen(base + "/auth/token", form.encode(), timeout=60) as answer:
        return str(json.loads(answer.read())["access_token"])


def _run(folder: Path, base: str, header: str) -> dict[str, Any]:
    report = folder / f"report-{len(list(folder.glob('report-*')))}.json"
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{base}/openapi.json", "-n", "5", "--phases",
           "examples,fuzzing", "--mode", "positive", "--seed", "1", "-w", "1", "--suppress-health-check", "all",
           "--no-color", "--generation-database", "none", "-H", header, "--checks", CHECKS, "--report", "json",
           "--report-json-path", str(report)]  # fmt: skip
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_media", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=folder, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    out: dict[str, Any] = json.loads(report.read_text())
    out["_output"] = done.stdout[-6000:]
    return out


@pytest.mark.slow
def test_every_operation_as_an_administrator_and_as_an_enterprise(tmp_path: Path) -> None:
    with serve(tmp_path) as base:
        _accounts(tmp_path)  # on the database the server made
        admin = _run(tmp_path, base, f"Authorization: Bearer {_token(base)}")
        firm = _run(tmp_path, base, f"X-API-Key: {api_key(tmp_path, 'firm.api')}")
    engine = make_engine(f"sqlite:///{tmp_path / 'server.db'}")
    with engine.connect() as conn:
        by_actor = dict(conn.execute(select(audit.c.actor, func.count()).group_by(audit.c.actor)).all())
    engine.dispose()
    for who, report in (("root.admin", admin), ("firm.api", firm)):
        ops = report["operations"]
        assert ops["tested"] == ops["selected"] >= 100, report["_output"]  # every operation, JSON Lines too
        assert report["failures"] == [] and report["errors"] == [], report["_output"]
        assert by_actor.get(who, 0) >= 300, by_actor  # the requests were made as this caller
