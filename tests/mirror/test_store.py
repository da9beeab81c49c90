"""Loading mirror files: a Comtrade download lands with its skips reported; a refused file stores nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.errors import IntakeError
from oretrail.mirror.rows import Skip
from oretrail.mirror.store import load_mirror, mirror_rows

DOWNLOAD = Path(__file__).with_name("data") / "comtrade_202506.csv"


def test_a_comtrade_download_lands_with_what_it_skipped(engine: Engine) -> None:
    loaded = load_mirror(engine, DOWNLOAD.read_bytes().splitlines(), DOWNLOAD.name)
    assert loaded.rows == 6 and loaded.periods_replaced == 0
    assert sum(loaded.skipped.values()) == 12 and loaded.skipped[Skip.AREA] == 3
    assert loaded.skip_report()[0] == f"skipped 3 rows: {Skip.BREAKDOWN.value}"  # most first, ties in Skip order
    with engine.connect() as conn:
        stored = {(r.reporter, r.partner, r.period): r.net_kg for r in mirror_rows(conn)}
    assert stored == {
        ("DE", "CN", "202506"): 118.0,
        ("HU", "CN", "202506"): 120_000.0,
        ("JP", "CN", "202506"): 42_000.0,
        ("NL", "CN", "202506"): 2500.0,
        ("TR", "CN", "202506"): 6.0,
        ("US", "CN", "202506"): 45.0,
    }


def test_a_refused_file_stores_nothing_and_keeps_what_was_there(engine: Engine) -> None:
    header = "reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue"
    load_mirror(engine, [header, "DE,CN,M,811292,202506,100,70000"], "first.csv")
    bad = [header, "DE,CN,M,811292,202506,900,630000", "JP,CN,M,811292,202506,12 kg,8000"]
    with pytest.raises(IntakeError):
        load_mirror(engine, bad, "second.csv")
    with engine.connect() as conn:
        assert [(r.reporter, r.net_kg) for r in mirror_rows(conn)] == [("DE", 100.0)]


def test_the_cli_reports_the_skipped_rows(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'm.db'}"
    res = CliRunner().invoke(app, ["load", "mirror", str(DOWNLOAD), "--db", db])
    assert res.exit_code == 0, res.output
    assert "mirror: 6 rows" in res.stderr
    assert f"mirror: skipped 1 row: {Skip.PARTNER_NOT_CHINA.value}" in " ".join(res.stderr.split())
