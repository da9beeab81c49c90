"""What keeps supervision's reads quick at national scale (issue 15: every page under a second at scale 10),
held by what cannot drift with the machine: the query plans and the number of statements, never a timing.

- An enterprise's month of flows (the monthly report's prefill) reads its facilities' rows from the partial
  indexes of migration 0019 and never scans `event_lots`; the month's edges are Beijing's, and the bounded
  read agrees with the unbounded one.
- A province's risk scores (an inspection plan) take as many statements for many enterprises as for one,
  and each is the score computed alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Connection, Engine, event, insert

from oretrail.alerts.judge import judge
from oretrail.alerts.store import settle_due
from oretrail.rules.config import Settings
from oretrail.rules.monthly_flows import flows
from oretrail.storage import schema as s
from oretrail.supervision.score import Score, compute, score_all
from tests.rules.state import EXPORTER, MINE, PORT, REFINERY, State, national_sample

OTHER = "urn:oretrail:party:uscc:91360700MA35F0AX36"
OTHER_MINE = "urn:oretrail:loc:91360700MA35F0AX36:mine-1"
HUNAN = "urn:oretrail:party:uscc:91430100MA4L000001"
# The last instant of June and the first of July in Beijing (UTC+8), as stored (naive UTC).
JUNE_END, JULY_START = datetime(2025, 6, 30, 15, 59, 59), datetime(2025, 6, 30, 16, 0, 0)


def _every_flow(st: State) -> None:
    """One row of each role either side of the end of June (Beijing) at EXPORTER's facilities, and a mine of
    OTHER's in the same months: each flow is counted in its month only, and each enterprise its own."""
    st.enterprise()
    st.enterprise(OTHER, name="Other Mining Co.")
    st.facility()
    st.facility(MINE, type_="mine")
    st.facility(OTHER_MINE, owner=OTHER, type_="mine")
    for month, at in (("jun", JUNE_END), ("jul", JULY_START)):
        ore, metal = f"urn:oretrail:lot:A:ore-{month}", f"urn:oretrail:lot:A:metal-{month}"
        st.lot(ore, "ga.crude", 100, 0.99, created_event=f"urn:uuid:mine-{month}", time=at)
        st.event_lot(f"urn:uuid:mine-{month}", ore, "created", 100, at, put_at=MINE)
        waybill = f"urn:oretrail:waybill:{month}"
        st.event_lot(f"urn:uuid:ship-{month}", ore, "shipped", 90, at, drawn_at=MINE, put_at=waybill)
        st.event_lot(f"urn:uuid:recv-{month}", ore, "received", 80, at, drawn_at=waybill, put_at=REFINERY)
        st.event_lot(f"urn:uuid:sale-{month}", ore, "sold", 5, at, drawn_at=MINE, put_at=MINE)  # counts for none
        st.lot(metal, "ga.metal", 60, 0.9999, created_event=f"urn:uuid:smelt-{month}", time=at)
        st.event_lot(f"urn:uuid:smelt-{month}", ore, "input", 70, at, drawn_at=REFINERY)
        st.event_lot(f"urn:uuid:smelt-{month}", metal, "output", 60, at, put_at=REFINERY)
        st.event_lot(f"urn:uuid:export-{month}", metal, "exported", 50, at, drawn_at=PORT, put_at="urn:x:decl")
        other = f"urn:oretrail:lot:B:ore-{month}"
        st.lot(other, "ga.crude", 7, 0.99, created_event=f"urn:uuid:other-{month}", time=at)
        st.event_lot(f"urn:uuid:other-{month}", other, "created", 7, at, put_at=OTHER_MINE, owner=OTHER)
    st.close()


def test_a_month_of_flows_is_beijings_and_agrees_with_the_unbounded_read(engine: Engine) -> None:
    with engine.begin() as conn:
        _every_flow(State(conn))
    month = {
        "ga.crude": {"produced": 100_000, "shipped": 90_000, "received": 80_000, "consumed": 70_000},
        "ga.metal": {"produced": 60_000, "exported": 50_000},
    }
    with engine.connect() as conn:
        everything = flows(conn)
        assert everything[(EXPORTER, "202506")] == month
        assert everything[(EXPORTER, "202507")] == month
        assert everything[(OTHER, "202506")] == {"ga.crude": {"produced": 7_000}}
        for enterprises, periods in (([EXPORTER], ["202506"]), ([EXPORTER], ["202507"]), ([OTHER], ["202507"]),
                                     ([EXPORTER, OTHER], ["202506", "202507"]), (None, ["202506"])):  # fmt: skip
            bounded = flows(conn, enterprises, periods)
            assert bounded == {
                k: v for k, v in everything.items() if (enterprises is None or k[0] in enterprises) and k[1] in periods
            }, (enterprises, periods)
        assert flows(conn, [EXPORTER], ["202505"]) == {}
        assert flows(conn, [EXPORTER], []) == flows(conn, [], ["202506"]) == {}


def _statements(engine: Engine, run: Callable[[], object]) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def keep(_c: object, _cur: object, statement: str, parameters: object, *_: object) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return seen


def test_one_enterprises_month_reads_the_partial_indexes_not_the_table(engine: Engine) -> None:
    """The plan of the prefill's statement: each of its three reads goes through its own partial index (on
    PostgreSQL with sequential scans priced out, which only a usable index survives: the parameters must
    prove the index's predicate), and no read walks `event_lots` itself."""
    with engine.begin() as conn:
        _every_flow(State(conn))
    with engine.connect() as conn:
        (statement, parameters), *_ = _statements(engine, lambda: flows(conn, [EXPORTER], ["202506"]))
        if engine.dialect.name == "sqlite":
            plan = "\n".join(r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters))
            for index in ("ix_event_lots_put", "ix_event_lots_draw", "ix_event_lots_exported"):
                assert f"SEARCH event_lots USING COVERING INDEX {index}" in plan, plan
            assert "SCAN event_lots" not in plan, plan
        else:
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            for index in ("ix_event_lots_put", "ix_event_lots_draw", "ix_event_lots_exported"):
                assert index in plan, plan
            assert "Seq Scan on event_lots" not in plan, plan


def _province(conn: Connection, settings: Settings, n: int) -> list[str]:
    """The national sample's exporter (its alerts settled, declarations, reports, a red mine) and `n` more
    enterprises of Jiangxi, each with its own facility status, review, training, overdue action and export;
    one more in Hunan alone."""
    st = State(conn)
    national_sample(st)
    judge(conn, None, settings)
    settle_due(conn, datetime(2100, 1, 1))
    parties = [EXPORTER]
    for i in range(n):
        party, place = f"urn:oretrail:party:uscc:91360700000{i:04d}0X", f"urn:oretrail:loc:91360700000{i:04d}0X:mine-1"
        st.enterprise(party, name=f"Enterprise {i}")
        st.facility(place, owner=party, type_="mine")
        st.facility_status(place, date(2025, 1, 1 + i), ("green", "yellow", "red")[i % 3], inspection=f"INS-{i}")
        review = {"id": f"REV-{i}", "enterprise": party, "reviewer": "r", "date": date(2025, 2, 1 + i),
                  "template_version": "1", "elements": "{}", "score": 40.0 + 10 * i, "seq": 900 + i}  # fmt: skip
        conn.execute(insert(s.reviews).values(**review))
        conn.execute(insert(s.trainings).values(id=f"TR-{i}", date=date(2024, 3 + i, 1), province="CN", topic="icp",
                                                title="{}", guidance="[]", seq=950 + i))  # fmt: skip
        conn.execute(insert(s.training_attendance).values(training_id=f"TR-{i}", enterprise=party, attendees=2))
        st.corrective_action(f"CA-P{i}", date(2025, 5, 1 + i), party=party, inspection=f"INS-{i}")
        st.declaration(f"53012025000090{i:04d}", exporter=party, destination=("RU", "DE")[i % 2], net_g=1000 * (i + 1))
        parties.append(party)
    st.enterprise(HUNAN, province="CN-HN", name="Hunan Alone Co.")
    st.facility("urn:oretrail:loc:91430100MA4L000001:mine-1", owner=HUNAN, province="CN-HN", type_="mine")
    return [*parties, HUNAN]


def _said(score: Score) -> list[tuple[str, float, float, object]]:
    return [(c.name, c.value, c.weight, c.basis.to_json()) for c in score.components]


def test_a_provinces_scores_take_as_many_statements_as_one_enterprises(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        parties = _province(conn, settings, 6)
    day, cfg, cat = date(2025, 7, 1), settings.config, settings.catalogue
    with engine.begin() as conn:
        alone = _statements(engine, lambda: score_all(conn, cfg, cat, day, "CN-HN"))
        many = _statements(engine, lambda: score_all(conn, cfg, cat, day, "CN-JX"))
        assert len(many) == len(alone), [st for st, _ in many]
        together = {sc.enterprise: _said(sc) for sc in score_all(conn, cfg, cat, day, "CN-JX")}
        assert set(together) == set(parties) - {HUNAN}
        each = {p: _said(compute(conn, p, day, cfg, cat)) for p in together}
    assert together == each
    assert len({repr(v) for v in together.values()}) == len(together)  # every enterprise's own facts
