"""Shared fixtures: every storage test runs once on SQLite and once on PostgreSQL.

PostgreSQL tests get a schema of their own, dropped afterwards, so they run in parallel with anything
else in the `test` database. Under CI=true a missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from oretrail.rules.config import Settings, load_settings
from oretrail.storage.engine import POSTGRES_CONNECT_ARGS, make_engine, migrate

os.environ.setdefault("ORETRAIL_LANG", "en")  # CLI output under test is English unless a test asks
PG_URL = os.environ.get("ORETRAIL_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _postgres_or_skip() -> None:
    try:
        probe = create_engine(PG_URL)
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true but unreachable at {PG_URL}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_URL}: {exc}")


def postgres_engine() -> tuple[Engine, str]:
    """A migrated engine on a fresh PostgreSQL schema; returns it with the schema name to drop."""
    _postgres_or_skip()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    engine = create_engine(PG_URL, connect_args={**POSTGRES_CONNECT_ARGS, "options": f"-csearch_path={schema}"})
    migrate(engine)
    return engine, schema


def drop_postgres_schema(engine: Engine, schema: str) -> None:
    engine.dispose()
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'oretrail.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The storage contract fixture: the same test body on both back ends."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'oretrail.db'}")
        migrate(eng)
        yield eng
        eng.dispose()
    else:
        eng, schema = postgres_engine()
        yield eng
        drop_postgres_schema(eng, schema)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the checkout: third-party conformance files are read from there, never copied."""
    if not SHARED.is_dir():
        pytest.fail(f"../shared is missing (looked in {SHARED})")
    return SHARED


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The packaged thresholds and catalogue, as an entry point builds them."""
    return load_settings()


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test's checkpoint file in its own tmp folder: a PostgreSQL database's default one lives in the
    user's data folder, shared by every schema of the `test` database."""
    path = tmp_path / "checkpoints.jsonl"
    monkeypatch.setenv("ORETRAIL_CHECKPOINTS", str(path))
    return path
