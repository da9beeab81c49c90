"""Every feed is one shape that every entry point loops over: a feed added to `FEEDS` is a CLI command, an HTTP
route, part of a dataset load and of rebuild without another edit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.feeds import FEEDS, load_dataset, rebuild_all
from oretrail.ledger.store import records
from oretrail.sim import simulate


def test_every_feed_is_a_load_command_and_a_capture_route(tmp_path):
    from oretrail.api.app import create_app

    for feed in FEEDS:
        res = CliRunner().invoke(app, ["load", feed.name, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0 and feed.summary.split(",")[0] in " ".join(res.output.split())
    client = TestClient(create_app(f"sqlite:///{tmp_path / 'x.db'}"))
    paths = client.get("/openapi.json").json()["paths"]
    assert {f"/capture/{feed.name}" for feed in FEEDS} <= set(paths)


def test_the_simulator_writes_every_feed_where_it_is_read_and_rebuild_replays_every_record_kind(
    tmp_path, sqlite_engine, monkeypatch
):
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "signing.key"))
    root = tmp_path / "data"
    simulate(root, 0.01, 5, 0.2)
    assert all((root / feed.source).exists() for feed in FEEDS)
    reports = load_dataset(sqlite_engine, root, None)
    assert list(reports) == [feed.name for feed in FEEDS]
    assert all(sum(v for v in r.counts.values() if isinstance(v, int)) > 0 for r in reports.values())
    with sqlite_engine.connect() as conn:
        stored = [r.kind for r in records(conn)]
    kinds = set(stored)
    replayed = [k for f in FEEDS if f.replay is not None for k in f.replay.kinds]
    assert len(replayed) == len(set(replayed))  # each kind has one owner
    assert kinds == set(replayed)
    assert rebuild_all(sqlite_engine) == {k: stored.count(k) for k in kinds}  # every record replayed once
