"""The rules on DuckDB, over the columnar export (`oretrail scan --engine duckdb --input DIR`).

DuckDB has its own SQLAlchemy dialect (duckdb-engine), so the rules run on a real SQLAlchemy connection to an
database whose tables are views of the export's Parquet files. Each of a scan's forty-odd statements
reads the columns it needs from the files again; loading the files into tables first was no faster (scale 10:
9.0 s against 8.9 s with views, load included) and held the whole export in memory (peak 2.8 GB against
0.6 GB), which at ten million events no longer fits a 24 GB machine.
"""

from __future__ import annotations

import tempfile
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
    """A connection whose tables are the export at `root` under the schema's names. The views live in a
    database file of their own in a temporary folder, not in memory, so that more connections to it (a
    scan's side-by-side readers, `storage.engine.readers`) see them too."""
    read_manifest(root)
    with tempfile.TemporaryDirectory(prefix="oretrail-duckdb-") as folder:
        engine = create_engine(f"duckdb:///{Path(folder) / 'views.duckdb'}")
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
                        f'CREATE VIEW "{exported.name}" AS SELECT * FROM read_parquet({files}, '
                        "hive_partitioning = true, hive_types_autocast = false, union_by_name = true)"
                    )
                conn.commit()
                yield conn
        finally:
            engine.dispose()
