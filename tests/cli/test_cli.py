"""The CLI end to end on a small simulated dataset: load, summary, trace, verify, tamper, rebuild."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, select, update
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.sim import simulate
from oretrail.storage.schema import exports, ledger

runner = CliRunner()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    tmp = tmp_path_factory.mktemp("cli")
    data = tmp / "data"
    simulate(data, scale=0.02, seed=11)
    db = f"sqlite:///{tmp / 'cli.db'}"
    env = {"ORETRAIL_SIGNING_KEY": str(tmp / "key.pem")}
    for args in (
        ["registry", str(data / "registry.jsonl")],
        ["events", str(data / "events")],
        ["licences", str(data / "licences.jsonl")],
        ["declarations", str(data / "declarations.jsonl")],
    ):
        res = runner.invoke(app, ["load", *args, "--db", db], env=env)
        assert res.exit_code == 0, res.output
    return db, tmp  # fmt: skip


def summary(db: str) -> dict[str, float]:
    res = runner.invoke(app, ["summary", "--db", db, "--format", "json"])
    assert res.exit_code == 0, res.output
    return {r["what"]: r["count"] for r in orjson.loads(res.stdout)}


def test_summary_counts_every_stage(loaded: tuple[str, Path]) -> None:
    s = summary(loaded[0])
    for stage in ("mining", "smelting", "transportation", "sales", "export"):
        assert s[f"  {stage} events"] > 0
    assert s["enterprises"] > 0 and s["customs declarations"] > 0


def test_trace_json_reaches_a_mine(loaded: tuple[str, Path]) -> None:
    db = loaded[0]
    with create_engine(db).connect() as conn:
        lot = conn.execute(select(exports.c.lot_id).order_by(exports.c.lot_id).limit(1)).scalar_one()
    res = runner.invoke(app, ["trace", lot, "--backward", "--db", db, "--format", "json"])
    assert res.exit_code == 0, res.output
    stack, origins = [orjson.loads(res.stdout)], set()
    while stack:
        node = stack.pop()
        origins.add(node["origin"])
        stack.extend(n for step in node.get("via", []) for n in step["lots"])
    assert "mining" in origins
    fwd = runner.invoke(app, ["trace", lot, "--forward", "--db", db, "--format", "json"])
    assert orjson.loads(fwd.stdout)["exports"]


def test_rebuild_keeps_the_summary(loaded: tuple[str, Path]) -> None:
    db = loaded[0]
    before = summary(db)
    res = runner.invoke(app, ["rebuild", "--db", db])
    assert res.exit_code == 0, res.output
    assert summary(db) == before


def test_rejected_input_exits_non_zero_with_the_field_on_stderr(loaded: tuple[str, Path], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"licence_no": "EL1", "exporter": "x"}\n')
    res = runner.invoke(app, ["load", "licences", str(bad), "--db", loaded[0]])
    assert res.exit_code == 1
    assert "bad.jsonl" in res.stderr and "line 1" in res.stderr


def test_load_events_reports_each_event(loaded: tuple[str, Path], tmp_path: Path) -> None:
    """`--format json`: one row per event: re-sends unchanged, an event off the stage profile stored with its
    departures, a refused document named with its event and field."""
    from tests.intake import builders as b

    db, tmp = loaded
    odd = b.mining([(b.lot("appeared-1"), 5.0)], "ga.metal", 0.9999, location=b.SMELTER, event_id="urn:uuid:cli-odd")
    odd["ot:stage"] = "smelting"
    bad = b.mining(event_id="urn:uuid:cli-bad")
    bad["quantityList"][0]["uom"] = "LBR"
    (tmp_path / "a.json").write_bytes(b.encode(b.document(odd, odd)))
    (tmp_path / "b.json").write_bytes(b.encode(b.document(b.mining(event_id="urn:uuid:cli-ok"), bad)))
    env = {"ORETRAIL_SIGNING_KEY": str(tmp / "key.pem")}
    res = runner.invoke(app, ["load", "events", str(tmp_path), "--db", db, "--format", "json"], env=env)
    assert res.exit_code == 1  # a document was refused
    rows = orjson.loads(res.stdout)
    assert [(Path(r["document"]).name, r["index"], r["outcome"], r["field"]) for r in rows] == [
        ("a.json", 0, "off_profile", None),
        ("b.json", 1, "refused", "quantityList[0].uom"),
    ]
    assert rows[0]["departures"] == [["type", "a smelting event is a TransformationEvent, not an ObjectEvent"]]
    assert rows[0]["read_as"] == "its lots created at its place"
    again = runner.invoke(app, ["load", "events", str(tmp_path / "a.json"), "--db", db, "-f", "jsonl"], env=env)
    assert [orjson.loads(line)["outcome"] for line in again.stdout.splitlines()] == ["unchanged"]
    # the departures read in the reader's language
    odd_zh = b.mining([(b.lot("appeared-2"), 5.0)], "ga.metal", 0.9999, location=b.SMELTER, event_id="urn:uuid:cli-zh")
    odd_zh["ot:stage"] = "smelting"
    (tmp_path / "c.json").write_bytes(b.encode(b.document(odd_zh)))
    zh = runner.invoke(
        app, ["--lang", "zh", "load", "events", str(tmp_path / "c.json"), "--db", db, "-f", "json"], env=env
    )
    assert orjson.loads(zh.stdout)[0]["departures"] == [
        ["type", "冶炼环节的事件应为 TransformationEvent，而非 ObjectEvent"]
    ]


def test_verify_names_the_tampered_record(loaded: tuple[str, Path]) -> None:
    db = loaded[0]
    assert runner.invoke(app, ["verify", "--db", db]).exit_code == 0
    with create_engine(db).begin() as conn:
        conn.execute(update(ledger).where(ledger.c.seq == 42).values(body='{"forged": true}'))
    res = runner.invoke(app, ["verify", "--db", db])
    assert res.exit_code == 2
    assert "record 42" in res.stderr
