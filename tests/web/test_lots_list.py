"""The lots list (the trace page without a lot) at national scale: newest first through the index of lots by
creation time, a count that stops at its cap, and never a lot outside the reader's view.

Without a browser: the statements the page runs, on SQLite, with their query plans."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event, insert

from oretrail.access.caller import Caller
from oretrail.storage.schema import facilities, lots
from oretrail.web.trace import lot_list
from tests.api.conftest import ACCOUNTS, HN, JX

JX_MINE = "urn:oretrail:loc:911100000000000001:mine-1"
HN_MINE = "urn:oretrail:loc:911100000000000002:mine-1"
START = datetime(2025, 6, 1)


def _world(engine: Engine, jx_lots: int, hn_lots: int) -> list[str]:
    """Lots made at a mine in each province, one an hour, mixed; the Jiangxi ones, newest first."""
    places = [JX_MINE] * jx_lots + [HN_MINE] * hn_lots
    random.Random(1).shuffle(places)
    made: list[dict[str, Any]] = []
    for i, place in enumerate(places):
        made.append(
            {
                "lot_id": f"urn:oretrail:lot:9111:{i:04d}",
                "material": "ore",
                "mass_g": 1000 + i,
                "created_event": f"urn:uuid:{i}",
                "created_stage": "mining",
                "created_location": place,
                "created_at": START + timedelta(hours=i),
            }
        )
    with engine.begin() as conn:
        for place, province in ((JX_MINE, JX), (HN_MINE, HN)):
            conn.execute(
                insert(facilities).values(
                    location_id=place, owner="urn:oretrail:party:uscc:9111", type="mine", province=province, seq=1
                )
            )
        conn.execute(insert(lots), made)
    return [m["lot_id"] for m in reversed(made) if m["created_location"] == JX_MINE]


def _officer() -> Caller:
    role, province, department, parties = ACCOUNTS["jx-commerce"]
    assert province == JX
    return Caller("jx-commerce", role, province, department, parties)


def test_newest_first_the_page_reads_the_index_and_stops_after_a_page(sqlite_engine: Engine) -> None:
    _world(sqlite_engine, 30, 30)
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        statements.append((statement, parameters))

    event.listen(sqlite_engine, "before_cursor_execute", seen)
    with sqlite_engine.connect() as conn:
        lot_list(conn, _officer(), {})
    event.remove(sqlite_engine, "before_cursor_execute", seen)
    count, listing = statements
    with sqlite_engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + listing[0], listing[1])]
    assert any(step.startswith("SCAN lots USING") and "INDEX ix_lots_made" in step for step in plan), plan
    assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan  # no sort of every visible lot before the LIMIT
    assert "LIMIT" in count[0] and 1001 in count[1], count  # the count reads at most the cap and one more


def test_the_count_stops_at_the_cap_and_says_there_are_more(sqlite_engine: Engine) -> None:
    newest_jx = _world(sqlite_engine, 7, 5)
    officer = _officer()
    with sqlite_engine.connect() as conn:
        first, paging = lot_list(conn, officer, {}, cap=50)
        assert (paging.total, paging.more, paging.pages) == (7, False, 1)
        assert [r.lot_id for r in first] == newest_jx

        rows, paging = lot_list(conn, officer, {"page": "9"}, cap=4)  # per page 25: one page of four
        assert (paging.total, paging.more, paging.page, paging.pages) == (4, True, 1, 1)
        assert [r.lot_id for r in rows] == newest_jx[:4]

        rows, paging = lot_list(conn, officer, {"sort": "made", "dir": "asc"}, cap=4)
        assert [r.lot_id for r in rows] == newest_jx[::-1][:4]  # the first four in the order asked for
        assert paging.more

        _, paging = lot_list(conn, officer, {}, cap=7)  # exactly the cap: all are listed, none more
        assert (paging.total, paging.more) == (7, False)


def test_the_overview_figures_of_every_officers_scope_are_made_at_start(
    sqlite_engine: Engine, monkeypatch: Any
) -> None:
    """A provincial officer's first overview after a start waited for its sums (1.2 s at scale 10): the warm-up
    makes the centre's and each officer's scope among the enabled accounts, never an enterprise's."""
    from oretrail.access.users import add_user
    from oretrail.web import flows

    _world(sqlite_engine, 3, 2)
    with sqlite_engine.begin() as conn:
        for name in ("jx-commerce", "hn-commerce", "ent-1"):
            role, province, department, parties = ACCOUNTS[name]
            add_user(conn, name, role, password=None, province=province, department=department, parties=parties)
    monkeypatch.setattr(flows, "WARM_FROM", 0)
    monkeypatch.setattr(flows, "_CACHE", {})
    thread = flows.warm(sqlite_engine)
    assert thread is not None
    thread.join(60)
    made = {(what, scope[0], scope[1]) for _url, what, scope in flows._CACHE}
    assert made == {
        (what, role, province)
        for what in ("links", "mined")
        for role, province in (("central", None), ("provincial", JX), ("provincial", HN))
    }
