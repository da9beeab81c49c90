"""The rules on DuckDB, over the columnar export (`oretrail scan --engine duckdb --input DIR`).

DuckDB has its own SQLAlchemy dialect (duckdb-engine), so the rules run on a real SQLAlchemy connection to an
in-memory database whose tables are the export's Parquet files, loaded once: a scan runs some forty statements
over the same tables, and reading them from columnar memory beats opening the files for each.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, create_engine

from oretrail.export.parquet import read_manifest
from oretrail.export.tables import TABLES


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@contextmanager
def connect(root: Path, *, threads: int | None = None) -> Iterator[Connection]:
    """A connection whose tables are the export at `root` under the schema's names."""
    read_manifest(root)
    engine = create_engine("duckdb:///:memory:")
    try:
        with engine.connect() as conn:
            if threads:
                conn.exec_driver_sql(f"SET threads = {int(threads)}")
            for exported in TABLES:
                path = root / exported.name
                if not path.is_dir():
                    raise FileNotFoundError(f"{path}: table {exported.name} is missing from the export")
                files = _quoted(path / "**" / "*.parquet")
                conn.exec_driver_sql(
                    f'CREATE TABLE "{exported.name}" AS SELECT * FROM read_parquet({files}, '
                    "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
                )
            yield conn
    finally:
        engine.dispose()
