"""`oretrail notify …` end to end through the CLI, against the real NATS server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.rules.config import Settings
from oretrail.storage.engine import open_database
from tests.notify.conftest import Stream, free_port, raise_alerts, register
from tests.notify.test_publisher import _read

runner = CliRunner()


def test_publish_subscribe_and_status(tmp_path: Path, settings: Settings, stream: Stream) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = open_database(db)
    register(engine)
    raise_alerts(engine, settings, range(2))
    common = ["--db", db, "--stream", stream.name, "--prefix", stream.prefix]

    res = runner.invoke(app, ["notify", "publish", "--once", "--nats", f"nats://127.0.0.1:{free_port()}",
                              "--max-failures", "2", *common, "--format", "json"])  # fmt: skip
    assert res.exit_code == 1, res.output
    assert "undelivered" in res.stderr and f"nats:{stream.name} 4" in res.stderr

    res = runner.invoke(app, ["notify", "subscribe", "https://erp.example.cn/hook", "--subjects",
                              "oretrail.alert.>", "--db", db, "--format", "json"])  # fmt: skip
    assert res.exit_code == 0, res.output
    hook = orjson.loads(res.stdout)
    assert hook["secret"].startswith("whsec_") and hook["position"] == 4

    res = runner.invoke(app, ["notify", "publish", "--once", "--nats", stream.url, "--no-nats", *common])
    assert res.exit_code == 0, res.output  # webhooks only: nothing new for the hook, NATS untouched
    res = runner.invoke(app, ["notify", "publish", "--once", "--nats", stream.url, *common, "--format", "json"])
    assert res.exit_code == 0, res.output
    assert len(asyncio.run(_read(stream.url, stream.name, stream.prefix + "oretrail.>"))) == 4

    res = runner.invoke(app, ["notify", "status", "--db", db, "--format", "json"])
    assert res.exit_code == 0, res.output
    status = {r["destination"].split()[0]: r for r in orjson.loads(res.stdout)}
    assert status[f"nats:{stream.name}"]["pending"] == 0 and status[f"webhook:{hook['id']}"]["position"] == 4

    res = runner.invoke(app, ["notify", "subscriptions", "--db", db, "--format", "json"])
    (listed,) = orjson.loads(res.stdout)
    assert listed["url"] == "https://erp.example.cn/hook" and "secret" not in listed
    assert runner.invoke(app, ["notify", "unsubscribe", str(hook["id"]), "--db", db]).exit_code == 0
    assert runner.invoke(app, ["notify", "unsubscribe", str(hook["id"]), "--db", db]).exit_code == 3


def test_publish_needs_once_or_follow_and_subscribe_refuses_a_bad_filter(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    res = runner.invoke(app, ["notify", "publish", "--db", db])
    assert res.exit_code == 1 and "--once or --follow" in res.stderr
    res = runner.invoke(app, ["notify", "subscribe", "https://x.example/", "--subjects", "a.>.b", "--db", db])
    assert res.exit_code == 1 and "token 2" in res.stderr
