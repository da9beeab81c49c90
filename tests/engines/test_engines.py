"""The same rules on every engine: the store (SQLite, and PostgreSQL), DuckDB and Spark over the Parquet
export of the same simulated dataset raise identical findings, rule by rule, and a scan on Spark leaves the
same alerts in the store as the embedded scan."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, select

from oretrail.engines import find_on
from oretrail.export.parquet import StaleExport
from oretrail.feeds import BY_NAME
from oretrail.pipeline import scan
from oretrail.rules.base import Finding
from oretrail.rules.config import load_settings
from oretrail.rules.monthly_flows import flows
from oretrail.rules.runner import RULE_IDS, run_rules
from oretrail.storage.engine import make_engine
from oretrail.storage.schema import alerts
from tests.engines.conftest import World


def by_rule(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {r: [] for r in RULE_IDS}
    for f in findings:
        out[next(r for r in RULE_IDS if f.rule == r or f.rule.startswith(r + "."))].append(f)
    return {r: sorted(fs, key=lambda f: f.ident) for r, fs in out.items()}


@pytest.fixture(scope="module")
def embedded(world: World) -> dict[str, list[Finding]]:
    settings = load_settings()
    with world.engine.connect() as conn:
        found = by_rule(run_rules(conn, None, settings.config, catalogue=settings.catalogue))
    # The dataset must give every family of rules something to agree on, or "identical" proves little.
    silent = sorted(r for r, fs in found.items() if not fs)
    assert len(silent) <= 4, silent
    return found


def same_as(got: list[Finding], want: dict[str, list[Finding]]) -> None:
    """Rule by rule: the same findings, each equal in every field (message, evidence, details, stake)."""
    found = by_rule(got)
    for rule in RULE_IDS:
        assert found[rule] == want[rule], rule


def test_rules_side_by_side_find_what_one_connection_finds(world: World, embedded: dict[str, list[Finding]]) -> None:
    """A scan on three readers at once (storage.engine.readers), the rules shared out among them as each
    finishes: every rule sees the same data and the findings are the same, rule by rule."""
    settings = load_settings()
    ran: dict[str, int] = {}
    with world.engine.connect() as conn:
        got = run_rules(
            conn,
            None,
            settings.config,
            catalogue=settings.catalogue,
            workers=3,
            on_rule=lambda rule, _count, _seconds: ran.__setitem__(rule, threading.get_ident()),
        )
    assert len(set(ran.values())) > 1 and sorted(ran) == sorted(RULE_IDS)  # shared out, each rule run once
    same_as(got, embedded)


def test_duckdb_readers_share_the_views_of_the_export(world: World) -> None:
    from oretrail.engines import duckdb
    from oretrail.storage.engine import readers

    with duckdb.connect(world.incremental) as conn, readers(conn, 3) as opened:
        assert len(opened) == 3  # the views are in a database file the others open too, not in one's memory
        counts = {r.exec_driver_sql('SELECT count(*) FROM "event_lots"').scalar() for r in [conn, *opened]}
        assert len(counts) == 1 and counts != {0}


def test_duckdb_finds_what_the_store_finds(world: World, embedded: dict[str, list[Finding]]) -> None:
    same_as(find_on("duckdb", world.incremental, load_settings(), None), embedded)
    # Side by side: three connections to the same views of the export.
    same_as(find_on("duckdb", world.incremental, load_settings(), None, workers=3), embedded)


def test_monthly_flows_over_the_export_are_the_stores(world: World) -> None:
    """The supervision rules' flows, read in one pass on DuckDB and from three indexes on SQLite
    (rules/monthly_flows.py), are the same figures for every enterprise and month, all of them or some."""
    from oretrail.engines import duckdb

    with world.engine.connect() as conn:
        stored = flows(conn)
        months = sorted({period for _, period in stored})[:2]
        stored_months = flows(conn, None, months)
    with duckdb.connect(world.incremental) as conn:
        assert flows(conn) == stored and len(stored) > 20
        assert flows(conn, None, months) == stored_months and stored_months


def alert_rows(engine: Engine) -> list[tuple[Any, ...]]:
    keep = [c for c in alerts.c if c.name not in ("raised_at",)]  # the wall clock of each scan
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(*keep).order_by(alerts.c.id))]


@pytest.fixture(scope="module")
def copies(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Engine]]:
    """Two copies of the loaded store: one scanned by Spark, one by itself."""
    root = tmp_path_factory.mktemp("copies")
    world.engine.dispose()
    engines = []
    for name in ("spark.db", "store.db"):
        shutil.copy(world.db, root / name)
        engines.append(make_engine(f"sqlite:///{root / name}"))
    yield engines[0], engines[1]
    for e in engines:
        e.dispose()


def test_spark_raises_the_alerts_the_embedded_scan_raises(
    world: World,
    embedded: dict[str, list[Finding]],
    copies: tuple[Engine, Engine],
) -> None:
    """`oretrail scan --engine spark`: Spark (local mode, two cores) over the export; the findings rule by
    rule, then the alerts the store recorded from them, routed and with their settling times, as the
    embedded scan records them."""
    on_spark, on_store = copies
    settings = load_settings(as_of=datetime(2026, 3, 1))  # one settling clock for both scans
    judged = scan(on_spark, settings, on="spark", export=world.incremental, master="local[2]")
    same_as(judged.findings, embedded)
    mine = scan(on_store, settings)
    assert sorted(judged.new) == sorted(mine.new) and judged.new
    assert alert_rows(on_spark) == alert_rows(on_store)
    again = scan(on_spark, settings, on="duckdb", export=world.incremental)  # deduplicated: nothing new
    assert again.new == [] and again.withdrawn == 0
    assert alert_rows(on_spark) == alert_rows(on_store)


@pytest.mark.postgres
def test_postgresql_finds_what_sqlite_finds(
    world: World, embedded: dict[str, list[Finding]], postgres_loaded: Engine
) -> None:
    settings = load_settings()
    with postgres_loaded.connect() as conn:
        same_as(run_rules(conn, None, settings.config, catalogue=settings.catalogue), embedded)
    with postgres_loaded.connect() as conn:  # and side by side, each reader in a repeatable-read transaction
        same_as(run_rules(conn, None, settings.config, catalogue=settings.catalogue, workers=2), embedded)


def test_a_scan_of_a_stale_export_is_refused_before_any_alert(world: World, tmp_path: Path) -> None:
    db = tmp_path / "later.db"
    world.engine.dispose()
    shutil.copy(world.db, db)
    later = make_engine(f"sqlite:///{db}")
    first = orjson.loads((world.data / "registry.jsonl").read_bytes().splitlines()[0])
    renamed = tmp_path / "registry.jsonl"
    renamed.write_bytes(orjson.dumps(first | {"name": first["name"] + " (renamed)"}) + b"\n")
    BY_NAME["registry"].load(later, [renamed], None, None)  # a new version of an enterprise: a new record
    before = alert_rows(later)
    with pytest.raises(StaleExport):
        scan(later, load_settings(), on="duckdb", export=world.incremental)
    assert alert_rows(later) == before
    later.dispose()


def test_an_export_older_than_the_watch_list_is_refused(world: World, tmp_path: Path) -> None:
    """Partners' statistics, the watch list and bulletins are replaced in place, not recorded in the ledger:
    an export made before a new list ends at the same ledger record, and must still be refused, or a scan
    on it would screen against the old list and withdraw what the new one holds."""
    db = tmp_path / "listed.db"
    world.engine.dispose()
    shutil.copy(world.db, db)
    later = make_engine(f"sqlite:///{db}")
    listed = (world.data / "watchlist.jsonl").read_bytes().splitlines()
    shorter = tmp_path / "watchlist.jsonl"
    shorter.write_bytes(b"\n".join(listed[1:]) + b"\n")
    BY_NAME["watchlist"].load(later, [shorter], None, None)
    before = alert_rows(later)
    with pytest.raises(StaleExport, match="watchlist"):
        scan(later, load_settings(), on="duckdb", export=world.incremental)
    assert alert_rows(later) == before
    later.dispose()


def test_the_commands_export_and_scan_on_duckdb(world: World, tmp_path: Path) -> None:
    """`oretrail export parquet DIR`, then `oretrail scan --input DIR` (DuckDB, the default over an export):
    the alerts of the embedded scan; duckdb without --input, the store with one, or an unknown engine, a clear
    refusal and nothing stored."""
    from typer.testing import CliRunner

    from oretrail.cli import app

    world.engine.dispose()
    shutil.copy(world.db, tmp_path / "cli.db")
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    done = runner.invoke(app, ["--db", url, "export", "parquet", str(tmp_path / "x"), "--format", "json"])
    assert done.exit_code == 0, done.output
    assert {r["table"]: r["rows"] for r in orjson.loads(done.stdout)}["events"] > 0
    refused = runner.invoke(app, ["--db", url, "scan", "--engine", "duckdb"])
    assert refused.exit_code == 1 and "--input" in refused.output
    assert runner.invoke(app, ["--db", url, "scan", "--engine", "flink", "--input", "x"]).exit_code == 3
    engine = make_engine(url)
    assert alert_rows(engine) == []
    refused = runner.invoke(app, ["--db", url, "scan", "--engine", "store", "--input", str(tmp_path / "x")])
    assert refused.exit_code == 1 and "--engine store" in refused.output
    # With an export and no engine named, DuckDB reads it: an empty directory is no current export of the
    # store (the store itself would have scanned without a word).
    refused = runner.invoke(app, ["--db", url, "scan", "--input", str(tmp_path / "empty")])
    assert refused.exit_code == 1 and "ledger_seq" in refused.output
    assert alert_rows(engine) == []
    done = runner.invoke(app, ["--db", url, "scan", "--input", str(tmp_path / "x"), "--format", "json"])
    assert done.exit_code == 0, done.output
    counted = {r["rule"]: r["new_alerts"] for r in orjson.loads(done.stdout)}
    assert sum(counted.values()) == len(alert_rows(engine)) > 0
    engine.dispose()
