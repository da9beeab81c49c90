"""`oretrail users`, `oretrail keys` and `oretrail audit`: the first administrator, keys shown once, the audit
log filtered and verified."""

from __future__ import annotations

from pathlib import Path

import orjson
from sqlalchemy import create_engine, select, update
from typer.testing import CliRunner

from oretrail.access.keys import key_user
from oretrail.cli import app
from oretrail.cli.common import EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_TAMPERED
from oretrail.storage.schema import audit, users

runner = CliRunner()


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args), input=stdin)
    return res.exit_code, res.stdout, res.stderr


def test_users_keys_and_audit(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'a.db'}"
    code, out, err = run("users", "add", "chief", "--role", "central", "--password-stdin", "--db", db,
                         stdin="a long enough password\n")  # fmt: skip
    assert code == 0, err
    with create_engine(db).connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$") and "a long enough" not in stored
    code, _, err = run("users", "add", "jx", "--role", "provincial", "--province", "CN-JX", "--no-password", "--db", db)
    assert code == EXIT_REFUSED and "needs department" in err
    code, _, err = run("users", "add", "jx", "--role", "provincial", "--province", "CN-XX", "--department",
                       "commerce", "--no-password", "--db", db)  # fmt: skip
    assert code == EXIT_REFUSED and "CN-XX" in err
    assert run("users", "add", "jx", "--role", "provincial", "--province", "CN-JX", "--department", "commerce",
               "--no-password", "--db", db)[0] == 0  # fmt: skip
    code, out, _ = run("users", "grant", "jx", "--department", "customs", "--format", "json", "--db", db)
    assert code == 0 and orjson.loads(out)["department"] == "customs"
    assert run("users", "grant", "nobody", "--role", "central", "--db", db)[0] == EXIT_NOT_FOUND
    code, out, _ = run("users", "list", "--format", "jsonl", "--db", db)
    listed = [orjson.loads(line) for line in out.splitlines()]
    assert [u["name"] for u in listed] == ["chief", "jx"] and all("password_hash" not in u for u in listed)

    code, out, _ = run("keys", "issue", "jx", "--label", "JX system", "--format", "json", "--db", db)
    issued = orjson.loads(out)
    assert code == 0 and issued["key"].startswith("otk_")
    engine = create_engine(db)
    with engine.connect() as conn:
        assert key_user(conn, issued["key"]) == ("jx", issued["key_id"])
    code, out, _ = run("keys", "list", "--format", "jsonl", "--db", db)
    assert issued["key"] not in out and orjson.loads(out)["status"] == "active"
    assert run("keys", "revoke", issued["key_id"], "--db", db)[0] == 0
    assert orjson.loads(run("keys", "list", "--format", "jsonl", "--db", db)[1])["status"] == "revoked"
    assert run("keys", "revoke", "nokey", "--db", db)[0] == EXIT_NOT_FOUND
    assert run("users", "disable", "jx", "--db", db)[0] == 0

    code, out, _ = run("audit", "--action", "keys", "--format", "jsonl", "--db", db)
    assert [orjson.loads(line)["action"] for line in out.splitlines()] == ["keys.issue", "keys.revoke"]
    code, out, _ = run("audit", "--user", "cli:nobody", "--format", "json", "--db", db)
    assert orjson.loads(out) == []
    code, out, _ = run("audit", "--verify", "--format", "json", "--db", db)
    assert code == 0 and orjson.loads(out)["ok"] and orjson.loads(out)["entries"] == 6
    with engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 3).values(object="chief"))
    code, _, err = run("audit", "--verify", "--db", db)
    assert code == EXIT_TAMPERED and "entry 3" in err
