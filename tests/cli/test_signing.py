"""The signing key and the checkpoint file from the command line: `oretrail signing …`, `verify --checkpoints`,
and refusals that name the file (issue 17 §2 and §4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, delete
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.cli.common import EXIT_REFUSED, EXIT_TAMPERED
from oretrail.sim import simulate
from oretrail.storage.schema import checkpoints, ledger

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args))
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("signing")
    simulate(root / "data", scale=0.01, seed=3)
    return root / "data"


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path, Path]:
    """A database whose key and checkpoint file are in their default places beside it."""
    monkeypatch.delenv("ORETRAIL_SIGNING_KEY", raising=False)
    monkeypatch.delenv("ORETRAIL_CHECKPOINTS", raising=False)
    file = tmp_path / "o.db"
    return f"sqlite:///{file}", tmp_path / "o.db.signing.key", tmp_path / "o.db.checkpoints.jsonl"


def test_load_verify_against_a_copy_and_name_a_truncation(
    data: Path, db: tuple[str, Path, Path], tmp_path: Path
) -> None:
    url, key, witness = db
    for feed, src in (("registry", "registry.jsonl"), ("events", "events"), ("licences", "licences.jsonl")):
        code, _, stderr = run("load", feed, str(data / src), "--db", url)
        assert code == 0, stderr
    assert key.stat().st_mode & 0o777 == 0o600 and witness.exists()
    code, stdout, _ = run("signing", "show", "--db", url, "--format", "json")
    (only,) = orjson.loads(stdout)
    assert code == 0 and only["handed_over_by"] is None
    copy = tmp_path / "auditor.jsonl"
    shutil.copyfile(witness, copy)
    code, stdout, stderr = run("verify", "--db", url, "--checkpoints", str(copy), "--public-key", only["public_key"])
    assert code == 0 and "against the copy" in stdout, stderr
    engine = create_engine(url)
    with engine.begin() as conn:  # the administrator removes the last load and its checkpoint
        *_, kept, last = (orjson.loads(ln)["seq"] for ln in copy.read_bytes().splitlines() if b'"checkpoint"' in ln)
        conn.execute(delete(ledger).where(ledger.c.seq > kept))
        conn.execute(delete(checkpoints).where(checkpoints.c.seq > kept))
    engine.dispose()
    assert run("verify", "--db", url)[0] == 0  # the database alone cannot tell
    code, stdout, _ = run("verify", "--db", url, "--checkpoints", str(copy), "--format", "json")
    verdict = orjson.loads(stdout)
    assert code == EXIT_TAMPERED
    assert (verdict["fault"], verdict["checkpoint"], verdict["first_bad_seq"]) == ("truncated", last, kept + 1)
    assert verdict["copy_line"] is not None and "records removed" in verdict["problem"]
    code, _, stderr = run("--lang", "zh", "verify", "--db", url, "--checkpoints", str(copy))
    assert code == EXIT_TAMPERED and "被篡改" in stderr and "有记录被删除" in stderr
    code, _, stderr = run("verify", "--db", url, "--checkpoints", str(tmp_path / "nowhere.jsonl"))
    assert code == EXIT_REFUSED and "nowhere.jsonl" in stderr


def test_a_missing_or_open_key_file_is_refused_by_name(data: Path, db: tuple[str, Path, Path]) -> None:
    url, key, _ = db
    assert run("load", "registry", str(data / "registry.jsonl"), "--db", url)[0] == 0
    key.chmod(0o644)
    code, _, stderr = run("load", "licences", str(data / "licences.jsonl"), "--db", url)
    assert code == EXIT_REFUSED and key.name in stderr and "0644" in stderr
    key.unlink()
    code, _, stderr = run("load", "licences", str(data / "licences.jsonl"), "--db", url)
    assert code == EXIT_REFUSED and key.name in stderr and "missing" in stderr
    assert not key.exists()
    code, _, stderr = run("--lang", "zh", "load", "licences", str(data / "licences.jsonl"), "--db", url)
    assert code == EXIT_REFUSED and "缺失" in stderr


def test_init_then_rotate_and_verify_follows_the_hand_over(data: Path, db: tuple[str, Path, Path]) -> None:
    url, key, witness = db
    code, stdout, stderr = run("signing", "init", "--db", url, "--format", "json")
    assert code == 0, stderr
    first = orjson.loads(stdout)["public_key"]
    assert key.stat().st_mode & 0o777 == 0o600
    assert run("signing", "init", "--db", url)[0] == EXIT_REFUSED  # a key is never replaced by init
    assert run("load", "registry", str(data / "registry.jsonl"), "--db", url)[0] == 0
    code, stdout, stderr = run("signing", "rotate", "--db", url, "--format", "json")
    assert code == 0, stderr
    second = orjson.loads(stdout)
    assert second["public_key"] != first and second["since_seq"] > 0
    assert run("load", "licences", str(data / "licences.jsonl"), "--db", url)[0] == 0
    for trusted in (first, second["public_key"]):
        code, stdout, stderr = run("verify", "--db", url, "--checkpoints", str(witness), "--public-key", trusted)
        assert code == 0, stdout + stderr
    types = [orjson.loads(ln)["type"] for ln in witness.read_bytes().splitlines()]
    assert types.count("key") == 2
    code, stdout, _ = run("signing", "show", "--db", url, "--format", "json")
    assert [k["public_key"] for k in orjson.loads(stdout)] == [first, second["public_key"]]


def test_a_webhook_secret_file_must_be_private(db: tuple[str, Path, Path], tmp_path: Path) -> None:
    url, _, _ = db
    secret = tmp_path / "hook.secret"
    secret.write_text("a-long-enough-shared-secret\n")
    secret.chmod(0o644)
    code, _, stderr = run("notify", "subscribe", "http://127.0.0.1:9/hook", "--secret-file", str(secret), "--db", url)
    assert code == EXIT_REFUSED and "hook.secret" in stderr and "0644" in stderr
    secret.chmod(0o600)
    code, stdout, stderr = run(
        "notify", "subscribe", "http://127.0.0.1:9/hook", "--secret-file", str(secret), "--db", url, "--format", "json"
    )
    assert code == 0 and orjson.loads(stdout)["secret"] == "a-long-enough-shared-secret", stderr
