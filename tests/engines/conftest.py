"""One simulated dataset for the export and engine tests, loaded in three batches with an export after each.

Loaded as feeds arrive (registry and the first senders' events; the rest of the events, licences and
declarations, whose corrections retract earlier events; partner statistics, watch list, reports and
supervision), so the incremental export has projections to rewrite, not only rows to add.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from oretrail.export.parquet import ExportReport, export_parquet
from oretrail.feeds import BY_NAME, load_dataset
from oretrail.sim import simulate
from oretrail.storage.engine import make_engine, migrate
from tests.conftest import drop_postgres_schema, postgres_engine

SCALE = 0.03  # small enough for Spark local mode in well under two minutes; every rule family still fires


@dataclass
class World:
    engine: Engine
    db: Path
    data: Path
    incremental: Path  # exported after each batch
    reports: list[ExportReport]


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("engines")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("ORETRAIL_SIGNING_KEY", str(root / "signing.key"))
    data = root / "data"
    simulate(data, SCALE, 11, violation_rate=0.35)
    engine = make_engine(f"sqlite:///{root / 'oretrail.db'}")
    migrate(engine)
    documents = sorted((data / "events").iterdir())
    half = len(documents) // 2
    batches = [
        [("registry", data / "registry.jsonl"), *[("events", d) for d in documents[:half]]],
        [*[("events", d) for d in documents[half:]], ("licences", data / "licences.jsonl"),
         ("declarations", data / "declarations.jsonl")],
        [("mirror", data / "mirror.csv"), ("watchlist", data / "watchlist.jsonl"),
         ("reports", data / "reports.jsonl"), ("supervision", data / "supervision.jsonl")],
    ]  # fmt: skip
    reports = []
    for batch in batches:
        for feed, path in batch:
            BY_NAME[feed].load(engine, [path], None, None)
        reports.append(export_parquet(engine, root / "incremental"))
    yield World(engine, root / "oretrail.db", data, root / "incremental", reports)
    engine.dispose()
    monkey.undo()


@pytest.fixture(scope="module")
def postgres_loaded(world: World) -> Iterator[Engine]:
    """The same dataset, loaded whole into a fresh PostgreSQL schema."""
    engine, schema = postgres_engine()
    load_dataset(engine, world.data, None)
    yield engine
    drop_postgres_schema(engine, schema)
