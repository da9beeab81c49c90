"""The full scan's reads go where migration 0020 meant them to, on SQLite (docs/benchmarks.md, "Scale").

SQLite has no statistics on the store, so an index can win or lose a plan by its shape alone: these hold the
two partial indexes in use by the rules they were made for, and the primary key in the per-shipment look-up
that a general (role, event_time) index once took over (a scan of every shipped row per shipment).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from oretrail.catalogue.model import Catalogue
from oretrail.rules import balance_transformation, supervision_suspended_facility, transit_diverted
from oretrail.rules.base import Context
from oretrail.rules.config import Config


def plan(engine: Engine, statement: Any, params: dict[str, Any] | None = None) -> str:
    with engine.connect() as conn:
        sql = str(
            statement.params(**(params or {})).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        )
        return "\n".join(r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_the_scan_reads_event_lots_through_the_partial_indexes(
    sqlite_engine: Engine, cat: Catalogue, cfg: Config
) -> None:
    with sqlite_engine.connect() as conn:
        ctx = Context(conn, cat, cfg)
        transformation = balance_transformation._statement(ctx)
        diverted = transit_diverted._statement(ctx)
    assert "COVERING INDEX ix_event_lots_transformed" in plan(sqlite_engine, transformation)
    red = plan(
        sqlite_engine,
        supervision_suspended_facility._CANDIDATES,
        {"places": ["urn:oretrail:loc:x:mine-1"], "since": datetime(2025, 11, 1)},
    )
    assert "INDEX ix_event_lots_made_time (event_time>?)" in red
    shipped = plan(sqlite_engine, diverted)
    assert "SEARCH event_lots USING PRIMARY KEY (seq=?)" in shipped
    assert "ix_event_lots_made_time" not in shipped and "ix_event_lots_transformed" not in shipped


def test_a_full_scan_on_sqlite_holds_the_larger_page_cache_only_while_it_runs(
    sqlite_engine: Engine, cat: Catalogue, cfg: Config
) -> None:
    from oretrail.rules.runner import run_rules
    from oretrail.storage.engine import CACHE_KIB, SCAN_CACHE_KIB, scan_settings

    seen: list[int] = []
    with sqlite_engine.connect() as conn:

        def cache(_rule: str, _count: int, _seconds: float) -> None:
            seen.append(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

        run_rules(conn, None, cfg, catalogue=cat, on_rule=cache)
        assert set(seen) == {-SCAN_CACHE_KIB}
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -CACHE_KIB
        try:
            with scan_settings(conn):
                raise RuntimeError("a rule failed")
        except RuntimeError:
            pass
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar_one() == -CACHE_KIB
