"""Every feed that appends to the ledger leaves its head under a signed checkpoint, copied out (issue 17 §2)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select

from oretrail.feeds import FEEDS
from oretrail.ledger.checkpoints import stored
from oretrail.ledger.store import head
from oretrail.ledger.verify import verify
from oretrail.sim import simulate
from oretrail.storage.schema import ledger


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sealed")
    simulate(root / "data", scale=0.01, seed=11)
    return root / "data"


def test_each_feed_load_leaves_the_head_signed(
    engine: Engine, data: Path, tmp_path: Path, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "feeds.signing.key"))
    appended: dict[str, int] = {}
    for feed in FEEDS:
        with engine.connect() as conn:
            before = head(conn)[0]
        feed.load(engine, [data / feed.source], None, None)
        with engine.connect() as conn:
            top = head(conn)[0]
            kinds = set(conn.execute(select(ledger.c.kind).where(ledger.c.seq > before).distinct()).scalars())
            marks = stored(conn)
        appended[feed.name] = top - before
        if feed.replay is None:  # reference lists (partner statistics, watch list) are not ledger records
            assert top == before, feed.name
            continue
        assert top > before and kinds <= set(feed.replay.kinds), feed.name
        assert marks[-1].seq == top, f"{feed.name}: head {top} not under a checkpoint"
        lines = [orjson.loads(ln) for ln in checkpoint_file.read_bytes().splitlines()]
        assert lines[-1]["seq"] == top, f"{feed.name}: checkpoint {top} not copied out"
    assert {f for f, n in appended.items() if n} == {f.name for f in FEEDS if f.replay is not None}
    with engine.connect() as conn:
        v = verify(conn, None, checkpoint_file)
        assert v.ok and v.records == conn.execute(select(func.count()).select_from(ledger)).scalar_one(), v.problem
        assert v.copied == len(stored(conn))
