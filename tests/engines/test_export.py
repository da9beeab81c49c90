"""The Parquet export: every table the rules read, readable by any engine, and incremental exports that
end up holding exactly what a fresh full export holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pyarrow.dataset as ds
import pytest
from sqlalchemy import event, select

from oretrail.export.parquet import MANIFEST, StaleExport, check_current, export_parquet, read_manifest
from oretrail.export.tables import BY_NAME, TABLES
from oretrail.rules.config import load_settings
from oretrail.rules.runner import run_rules
from oretrail.storage.schema import metadata
from tests.engines.conftest import World

DOCS = Path(__file__).parents[2] / "docs" / "export.md"


def read_back(root: Path, name: str) -> list[tuple[Any, ...]]:
    """A table as any reader sees it: pyarrow's dataset over the hive directories, columns in the schema's
    order (partition columns come from the path), rows sorted."""
    table = ds.dataset(root / name, format="parquet", partitioning="hive").to_table()
    columns = [c.name for c in metadata.tables[name].c]
    rows = zip(*(table.column(c).to_pylist() for c in columns), strict=True)
    return sorted(rows, key=lambda r: tuple((v is not None, v if v is not None else 0) for v in r))


def stored(world: World, name: str) -> list[tuple[Any, ...]]:
    with world.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(metadata.tables[name]))]
    return sorted(rows, key=lambda r: tuple((v is not None, v if v is not None else 0) for v in r))


def test_every_table_the_rules_read_is_exported(world: World) -> None:
    """The embedded scan's own SQL names the tables: each one is in the export."""
    seen: list[str] = []
    listen = lambda *args: seen.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(world.engine, "before_cursor_execute", listen)
    try:
        with world.engine.connect() as conn:
            settings = load_settings()
            assert run_rules(conn, None, settings.config, catalogue=settings.catalogue)
    finally:
        event.remove(world.engine, "before_cursor_execute", listen)
    read = {t for sql in seen for t in metadata.tables if re.search(rf"\b{t}\b", sql)} - {"rule_scope"}
    assert read - set(BY_NAME) == set()
    assert {"events", "lots", "licences", "declarations", "mirror", "monthly_reports"} <= read


def test_the_export_reads_back_as_the_store_holds_it(world: World) -> None:
    for exported in TABLES:
        assert read_back(world.incremental, exported.name) == stored(world, exported.name), exported.name


def test_partitions_are_hive_directories_by_month_and_material(world: World) -> None:
    lots = sorted(
        p.relative_to(world.incremental / "lots").parts[:2] for p in (world.incremental / "lots").rglob("*.parquet")
    )
    assert lots and all(re.fullmatch(r"month=(\d{4}-\d{2}|__HIVE_DEFAULT_PARTITION__)", m) for m, _ in lots)
    assert all(m.startswith("material=") for _, m in lots)
    assert len({m for _, m in lots}) > 1
    assert [p.name for p in (world.incremental / "positions").iterdir()] == ["part.parquet"]  # neither column
    months = {p.parent.name for p in (world.incremental / "ledger").rglob("*.parquet")}
    assert all(m.startswith("month=") for m in months)


def test_incremental_exports_hold_what_a_full_export_holds(world: World, tmp_path: Path) -> None:
    """Three exports after three batches of feeds, and one export of the final state: row for row equal."""
    first, second, third = world.reports
    assert first.ledger_from == 0 < first.ledger_to == second.ledger_from < second.ledger_to == third.ledger_from
    # The second batch's corrections changed rows of the first batch's months: those partitions were
    # rewritten; untouched tables were not written again.
    assert second.written["events"] > 0 and second.written["enterprises"] == 0
    assert third.written["events"] == 0 and third.written["mirror"] > 0
    full = tmp_path / "full"
    once = export_parquet(world.engine, full)
    assert once.ledger_from == 0 and once.ledger_to == third.ledger_to
    for exported in TABLES:
        assert read_back(full, exported.name) == read_back(world.incremental, exported.name), exported.name
    # Projections are stored sorted per partition, so their files are the same bytes; the ledger was appended
    # in pieces, so only its rows compare.
    for exported in TABLES[1:]:
        files = sorted(p.relative_to(full) for p in (full / exported.name).rglob("*.parquet"))
        assert files == sorted(
            p.relative_to(world.incremental) for p in (world.incremental / exported.name).rglob("*.parquet")
        )
        assert all((full / f).read_bytes() == (world.incremental / f).read_bytes() for f in files)
    assert len(list((world.incremental / "ledger").rglob("*.parquet"))) > len(
        list((full / "ledger").rglob("*.parquet"))
    )


def test_an_export_with_nothing_new_writes_nothing(world: World, tmp_path: Path) -> None:
    root = tmp_path / "again"
    export_parquet(world.engine, root)
    again = export_parquet(world.engine, root)
    assert again.ledger_from == again.ledger_to and sum(again.written.values()) == 0
    assert read_manifest(root)["ledger_seq"] == again.ledger_to


def test_ledger_files_past_the_manifest_are_written_again(world: World, tmp_path: Path) -> None:
    """An export that stopped after its files and before its manifest: the next one starts from the
    manifest's position and does not hold those records twice."""
    root = tmp_path / "stopped"
    export_parquet(world.engine, root)
    manifest = orjson.loads((root / MANIFEST).read_bytes())
    manifest["ledger_seq"] = manifest["ledger_seq"] // 2
    (root / MANIFEST).write_bytes(orjson.dumps(manifest))
    export_parquet(world.engine, root)
    assert read_back(root, "ledger") == stored(world, "ledger")


def test_a_stale_or_foreign_export_is_refused(world: World, tmp_path: Path) -> None:
    with world.engine.connect() as conn:
        check_current(conn, world.incremental)  # the fixture's last export is of the current state
        manifest = orjson.loads((world.incremental / MANIFEST).read_bytes())
        stale = tmp_path / "stale"
        stale.mkdir()
        (stale / MANIFEST).write_bytes(orjson.dumps(manifest | {"ledger_seq": manifest["ledger_seq"] - 1}))
        with pytest.raises(StaleExport, match="ledger_seq"):
            check_current(conn, stale)
        (stale / MANIFEST).write_bytes(orjson.dumps(manifest | {"ledger_head": "0" * 64}))
        with pytest.raises(StaleExport, match="ledger_seq"):
            check_current(conn, stale)
    (stale / MANIFEST).write_bytes(orjson.dumps({"format": "something/9"}))
    with pytest.raises(ValueError, match="field format"):
        read_manifest(stale)


def test_docs_name_every_exported_table_and_its_partitions() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for exported in TABLES:
        keys = ", ".join(f"`{k}`" for k in exported.partition_keys) or "none"
        assert f"| `{exported.name}` | {keys} |" in text, exported.name
