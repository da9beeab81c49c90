"""The rules on engines other than the store they were captured in, over the columnar export (docs/export.md).

Each engine registers the export's tables as views under the schema's names and answers the rules' own
SQLAlchemy Core statements: DuckDB through its SQLAlchemy dialect, Spark through `spark_sql`'s compiler and the
read-only connection of `rows`. The rules' per-subject judgement stays the same Python on every engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

from sqlalchemy import Connection

from oretrail.rules.base import Finding
from oretrail.rules.config import Settings
from oretrail.rules.runner import run_rules

ENGINES = ("store", "duckdb", "spark")  # store: the database the data was captured in, no export needed


def find_on(
    engine: str,
    root: Path,
    settings: Settings,
    rules: list[str] | None,
    master: str | None = None,
    workers: int = 1,
    on_rule: Callable[[str, int, float], None] | None = None,
) -> list[Finding]:
    """Every chosen rule's findings over the export at `root`, on `engine` (`duckdb` or `spark`); on DuckDB
    the rules shared out among `workers` connections to the export's views. `on_rule` as for `run_rules`."""
    if engine == "duckdb":
        from oretrail.engines import duckdb

        with duckdb.connect(root) as conn:
            return run_rules(
                conn, None, settings.config, catalogue=settings.catalogue, rules=rules, workers=workers, on_rule=on_rule
            )
    if engine == "spark":
        from oretrail.engines import spark

        with spark.session(master or spark.LOCAL) as session:
            spark.register(session, root)
            statements = cast(Connection, spark.connection(session))  # the read-only part of Connection the rules use
            return run_rules(
                statements, None, settings.config, catalogue=settings.catalogue, rules=rules, on_rule=on_rule
            )
    raise ValueError(f"no engine {engine!r} over an export; the engines are {', '.join(ENGINES)}")
