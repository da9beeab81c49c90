"""Shared by the benchmarks: datasets made by the simulator, fresh databases, medians."""

from __future__ import annotations

import os
import socket
import statistics
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
PG_URL = os.environ.get("ORETRAIL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def dataset(scale: float, seed: int = 7) -> Path:
    """A simulated national dataset, generated once per (scale, seed) and reused by later runs."""
    from oretrail.sim import simulate
    from oretrail.sim.simulate import LABELS

    out = DATA / f"sim-s{scale:g}-seed{seed}"
    if not (out / LABELS).exists():
        print(f"generating dataset scale={scale} seed={seed} into {out} ...", file=sys.stderr)
        simulate(out, scale=scale, seed=seed)
    return out


@contextmanager
def fresh_database(kind: str, tmp: Path) -> Iterator[Engine]:
    """A migrated, empty database: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    from oretrail.storage.engine import POSTGRES_CONNECT_ARGS, make_engine, migrate

    if kind == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        try:
            yield engine
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        return
    schema = "bench_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(PG_URL, connect_args={**POSTGRES_CONNECT_ARGS, "options": f"-csearch_path={schema}"})
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def percentile(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def central_key(db: str, user: str) -> str:
    """An API key of a new central API account (the caller who sees everything, so reads do the most work)."""
    from oretrail.access.keys import issue_key
    from oretrail.access.users import add_user
    from oretrail.storage.engine import open_database

    engine = open_database(db)
    with engine.begin() as conn:
        add_user(conn, user, "central", password=None, api=True)
        key = issue_key(conn, user, "bench").key
    engine.dispose()
    return key
