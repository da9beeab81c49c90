"""Any number of writers on one database (issue 17 §1): loaders in separate processes capture at once, and the
result is one valid chain with every event once and the same alerts as one loader alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from oretrail.storage.engine import make_engine
from oretrail.storage.schema import alerts, events, ledger
from tests.conftest import drop_postgres_schema, postgres_engine

WRITERS = 4
ORETRAIL = (sys.executable, "-c", "from oretrail.cli import app; app(prog_name='oretrail')")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ORETRAIL, *args], capture_output=True, text=True, timeout=600,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    done = _cli("simulate", str(out), "--scale", "0.05", "--seed", "3")
    assert done.returncode == 0, done.stderr
    return out


def _split(dataset: Path, into: Path) -> list[Path]:
    files = sorted((dataset / "events").iterdir())
    folders = [into / f"part{i}" for i in range(WRITERS)]
    for f in folders:
        f.mkdir()
    for i, f in enumerate(files):
        (folders[i % WRITERS] / f.name).write_bytes(f.read_bytes())
    assert len(files) >= WRITERS
    return folders


def _events_in(dataset: Path) -> int:
    """Distinct events the documents hold (a correction re-sends an event under its own eventID)."""
    ids = {
        e["eventID"]
        for f in (dataset / "events").iterdir()
        for e in orjson.loads(f.read_bytes())["epcisBody"]["eventList"]
    }
    return len(ids)


def _load_at_once(db: str, folders: list[Path]) -> None:
    procs = [
        subprocess.Popen([*ORETRAIL, "load", "events", str(f), "--db", db, "--format", "json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for f in folders
    ]  # fmt: skip
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_writers_at_once_keep_one_chain_and_every_event_once(dataset: Path, tmp_path: Path, backend: str) -> None:
    if backend == "sqlite":
        db, cleanup = f"sqlite:///{tmp_path / 'many.db'}", None
    else:
        eng, schema = postgres_engine()
        db = eng.url.render_as_string(hide_password=False) + f"?options=-csearch_path%3D{schema}"
        cleanup = (eng, schema)
    try:
        assert _cli("load", "registry", str(dataset / "registry.jsonl"), "--db", db).returncode == 0
        _load_at_once(db, _split(dataset, tmp_path))
        verified = _cli("verify", "--db", db, "--format", "json")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        engine = make_engine(db)
        with engine.connect() as conn:
            seqs = list(conn.execute(select(ledger.c.seq).order_by(ledger.c.seq)).scalars())
            assert seqs == list(range(1, len(seqs) + 1))  # no gap, no duplicate
            stored = conn.execute(select(func.count()).select_from(events)).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(events.c.event_id)))).scalar_one()
            raised = set(conn.execute(select(alerts.c.id).where(alerts.c.withdrawn_at.is_(None))).scalars())
        engine.dispose()
        assert stored == distinct == _events_in(dataset)
        # One loader alone, in file order, leaves the same alerts standing (the writers at once raise and
        # withdraw more on the way, as documents of one chain arrive out of order: docs/rules.md §Settling).
        alone = f"sqlite:///{tmp_path / 'one.db'}"
        assert _cli("load", "registry", str(dataset / "registry.jsonl"), "--db", alone).returncode == 0
        assert _cli("load", "events", str(dataset / "events"), "--db", alone).returncode == 0
        single = make_engine(alone)
        with single.connect() as conn:
            assert set(conn.execute(select(alerts.c.id).where(alerts.c.withdrawn_at.is_(None))).scalars()) == raised
        single.dispose()
    finally:
        if cleanup is not None:
            drop_postgres_schema(*cleanup)
