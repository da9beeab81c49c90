"""`Context.shared`: figures several rules judge are read once per run, also across side-by-side readers,
and a rule waiting for one reading does not hold up a rule that wants another."""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, create_engine

from oretrail.catalogue.model import Catalogue
from oretrail.rules.base import Context
from oretrail.rules.config import Config


def test_each_reading_once_and_only_its_own_readers_wait(cat: Catalogue, cfg: Config) -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        first = Context(conn, cat, cfg)
        second = replace(first)  # another reader's context in the same run
        release, started = threading.Event(), threading.Event()
        reads: list[str] = []

        def slow(_conn: Connection) -> Any:
            reads.append("slow")
            started.set()
            assert release.wait(10)
            return "flows"

        def quick(_conn: Connection) -> Any:
            reads.append("quick")
            return "declarations"

        got: list[Any] = []
        waiting = threading.Thread(target=lambda: got.append(first.shared(slow)))
        waiting.start()
        assert started.wait(10)
        other: list[Any] = []
        beside = threading.Thread(target=lambda: other.append(second.shared(quick)))
        beside.start()
        beside.join(5)
        assert other == ["declarations"]  # not held up by the slow reading in progress
        again = threading.Thread(target=lambda: got.append(second.shared(slow)))
        again.start()
        release.set()
        beside.join(10)
        waiting.join(10)
        again.join(10)
        assert got == ["flows", "flows"] and sorted(reads) == ["quick", "slow"]
