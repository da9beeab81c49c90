"""Supervision on hand-made cases: facility status lapses, overdue actions once, suspended material, reports,
review scoring, risk scores, inspection plans (risk first, random share honoured), customs channels, and the
feeds' refusals naming line and field."""

from __future__ import annotations

import random
from datetime import date, datetime

import orjson
import pytest
from sqlalchemy import Engine, select

from oretrail.alerts.judge import judge
from oretrail.errors import IntakeError
from oretrail.feeds import BY_NAME
from oretrail.rules.config import Settings, load_config
from oretrail.rules.facility_status import status_on, timeline
from oretrail.storage.schema import alerts, customs_channels
from oretrail.supervision.channels import assign, red_at_rate
from oretrail.supervision.plan import choose
from oretrail.supervision.records import parse_reports, parse_supervision
from oretrail.supervision.review import score_review
from oretrail.supervision.score import STATUS_WORDS, Component, Score
from tests.rules.state import EXPORTER, MINE, REFINERY, T0, State, days

CFG = load_config()
SUP = [
    "supervision.overdue_action",
    "supervision.late_report",
    "supervision.report_mismatch",
    "supervision.suspended_facility",
]


def _load(engine: Engine, feed: str, records: list[dict], settings: Settings) -> None:
    data = b"\n".join(orjson.dumps(r) for r in records)
    BY_NAME[feed].read_bytes(engine, data, f"{feed}.jsonl", settings)


def _alerts(engine: Engine, rule: str) -> list:
    with engine.connect() as conn:
        return conn.execute(select(alerts).where(alerts.c.rule == rule)).all()


# --- facility status --------------------------------------------------------------------------------------
def test_a_lapsed_certificate_turns_blue_on_the_right_day_and_red_after_three_years() -> None:
    spans = timeline([(date(2025, 3, 15), "green", "I1")], CFG)
    assert status_on(spans, date(2026, 3, 14)).status == "green"
    assert status_on(spans, date(2026, 3, 15)).status == "blue"
    assert status_on(spans, date(2026, 3, 15)).cause == "lapse"
    assert status_on(spans, date(2029, 3, 14)).status == "blue"
    assert status_on(spans, date(2029, 3, 15)).status == "red"


def test_yellow_turns_red_unless_cleared_and_red_lasts_six_months() -> None:
    spans = timeline([(date(2025, 1, 10), "yellow", "I1")], CFG)
    assert status_on(spans, date(2025, 4, 9)).status == "yellow"
    assert status_on(spans, date(2025, 4, 10)).status == "red"
    cleared = timeline([(date(2025, 1, 10), "yellow", "I1"), (date(2025, 3, 1), "green", "I2")], CFG)
    assert status_on(cleared, date(2025, 6, 1)).status == "green"
    # A re-inspection two months into a suspension clears it only once the six months have run.
    red = timeline([(date(2025, 1, 10), "red", "I1"), (date(2025, 3, 10), "green", "I2")], CFG)
    assert status_on(red, date(2025, 7, 9)).status == "red"
    assert status_on(red, date(2025, 7, 10)).status == "green"
    # Never inspected: blue for three years from the programme's start, then red.
    never = timeline([], CFG)
    assert status_on(never, date(2027, 12, 31)).status == "blue"
    assert status_on(never, date(2028, 1, 1)).status == "red"


# --- the rules on hand-made states --------------------------------------------------------------------------
def test_an_overdue_action_raises_its_alert_exactly_once(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise()
        st.corrective_action("CA-9", date(2025, 6, 10))
        st.event("urn:uuid:early", time=datetime(2025, 6, 5))  # the clock before the deadline
        assert judge(conn, None, settings, rules=SUP).new == []
        st.event("urn:uuid:later", time=datetime(2025, 6, 20))  # ... and after it
        first = judge(conn, None, settings, rules=SUP)
        again = judge(conn, None, settings, rules=SUP)
        st.event("urn:uuid:much-later", time=datetime(2025, 9, 1))
        third = judge(conn, None, settings, rules=SUP)
    assert len(first.new) == 1 and again.new == [] and third.new == [] and third.withdrawn == 0
    rows = _alerts(engine, "supervision.overdue_action")
    assert len(rows) == 1 and rows[0].subject_id == EXPORTER and rows[0].jurisdiction == "CN-JX"
    assert orjson.loads(rows[0].message_params)["action"] == "CA-9"


def test_material_of_a_suspended_mine_raises_its_alert(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise()
        st.facility(MINE, type_="mine")
        st.facility()
        st.facility_status(MINE, date(2025, 5, 20), "red")
        st.mine("urn:oretrail:lot:A:ok", "ga.crude", 10, 0.99)  # mined at T0 = 1 June: suspended
        st.shipment("urn:oretrail:waybill:s", origin=MINE, dest=REFINERY, received=T0 + days(2),
                    lot="urn:oretrail:lot:A:ok")  # fmt: skip
        judged = judge(conn, None, settings, rules=SUP)
    rows = _alerts(engine, "supervision.suspended_facility")
    assert [r.subject_id for r in rows] == ["urn:oretrail:lot:A:ok"] and len(judged.new) == 1
    params = orjson.loads(rows[0].message_params)
    assert params["facility"] == MINE and params["since"] == "2025-05-20" and rows[0].subject_kind == "lot"
    assert rows[0].jurisdiction == "CN-JX"


def test_before_the_suspension_nothing_is_raised(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise()
        st.facility(MINE, type_="mine")
        st.facility_status(MINE, date(2025, 6, 2), "red")  # the day after the mining event (Beijing)
        st.mine("urn:oretrail:lot:A:ok", "ga.crude", 10, 0.99)
        assert judge(conn, None, settings, rules=["supervision.suspended_facility"]).new == []


def test_reports_missing_late_and_mismatched(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise()
        st.facility(MINE, type_="mine")
        st.mine("urn:oretrail:lot:A:may", "ga.crude", 100, 0.99)  # June (Beijing)
        st.event("urn:uuid:clock", time=datetime(2025, 8, 20))  # July's and June's reports are due
        none = judge(conn, None, settings, rules=SUP)
    assert [f.key for f in none.findings if f.rule == "supervision.late_report"] == ["202506"]
    # Filed late, with June's production under-reported by half.
    late = {"enterprise": EXPORTER, "period": "2025-06", "filed_at": "2025-07-15T09:00:00+08:00",
            "lines": [{"material": "ga.crude", "produced_kg": 50}]}  # fmt: skip
    _load(engine, "reports", [late], settings)
    rows = {r.rule: r for r in [*_alerts(engine, "supervision.late_report"),
                                *_alerts(engine, "supervision.report_mismatch")]}  # fmt: skip
    assert set(rows) == {"supervision.late_report", "supervision.report_mismatch"}
    params = orjson.loads(rows["supervision.report_mismatch"].message_params)
    assert params["count"] == 1
    # The prefilled report matches the ledger: filing it clears the mismatch (the late filing stands).
    from oretrail.supervision.reports import prefill

    with engine.connect() as conn:
        filled = prefill(conn, EXPORTER, "2025-06")
    assert filled["lines"] == [{"material": "ga.crude", "produced_kg": 100.0, "received_kg": 0.0,
                                "consumed_kg": 0.0, "shipped_kg": 0.0, "exported_kg": 0.0}]  # fmt: skip
    _load(engine, "reports", [{**filled, "filed_at": "2025-07-20T09:00:00+08:00"}], settings)
    mismatch = _alerts(engine, "supervision.report_mismatch")
    assert mismatch[0].withdrawn_at is not None
    assert _alerts(engine, "supervision.late_report")[0].withdrawn_at is None


# --- feeds: refusals name the line and the field ------------------------------------------------------------
def test_supervision_records_are_refused_with_line_and_field() -> None:
    good = {"kind": "closure", "action": "CA-1", "date": "2025-06-01", "by": "x"}
    bad_review = {"kind": "review", "id": "R1", "enterprise": EXPORTER, "reviewer": "r", "date": "2025-01-01",
                  "elements": {"policy": {"level": 7}}}  # fmt: skip
    with pytest.raises(IntakeError) as exc:
        parse_supervision([orjson.dumps(good), orjson.dumps(bad_review)], "s.jsonl")
    assert exc.value.index == 2 and exc.value.field == "elements.policy.level"
    ins = {"kind": "inspection", "id": "I1", "enterprise": EXPORTER, "province": "CN-JX", "inspector": "x",
           "date": "2025-01-01", "basis": "risk", "items": [{"item": "icp.training", "result": "pass"}],
           "facility_status": "red"}  # fmt: skip
    with pytest.raises(IntakeError) as exc:
        parse_supervision([orjson.dumps(ins)], "s.jsonl")
    assert exc.value.field == "facility_status"
    with pytest.raises(IntakeError) as exc:
        parse_reports([orjson.dumps({"enterprise": EXPORTER, "period": "2025-13", "lines": []})], "r.jsonl")
    assert exc.value.field == "period" and exc.value.index == 1


def test_an_inspection_opens_actions_due_in_90_days_by_default(engine: Engine, settings: Settings) -> None:
    ins = {"kind": "inspection", "id": "I1", "enterprise": EXPORTER, "facility": MINE, "province": "CN-JX",
           "inspector": "x", "date": "2025-03-01", "basis": "random",
           "items": [{"item": "facility.scales", "result": "minor"}], "facility_status": "yellow",
           "actions": [{"id": "CA-1", "item": "facility.scales", "text": "verify the scales"}]}  # fmt: skip
    _load(engine, "supervision", [ins], settings)
    from oretrail.storage.schema import corrective_actions, facility_statuses, ledger

    with engine.connect() as conn:
        due = conn.execute(select(corrective_actions.c.due_on)).scalar()
        status = conn.execute(select(facility_statuses.c.status)).scalar()
        body = orjson.loads(conn.execute(select(ledger.c.body).where(ledger.c.kind == "inspection")).scalar())
    assert due == date(2025, 5, 30) and status == "yellow"
    assert body["actions"][0]["due"] == "2025-05-30"  # the deadline is kept in the record itself


# --- reviews ---------------------------------------------------------------------------------------------
def test_review_score_method_and_weak_elements() -> None:
    elements = {e: {"level": 4} for e in ("policy", "organisation", "risk", "review", "emergency", "training",
                                          "audit", "records", "manual")}  # fmt: skip
    assert score_review(elements).score == 100.0 and score_review(elements).weak == ()
    elements["review"] = {"level": 0}  # weighs 2 of 11
    scored = score_review(elements)
    assert scored.score == round(100 * (11 - 2) / 11, 1) and scored.weak == ("review",)


# --- plans ------------------------------------------------------------------------------------------------
def _score(party: str, points: float) -> Score:
    return Score(party, date(2025, 6, 1), (Component("alerts", points / 25, 25, STATUS_WORDS["red"]()),))


def test_the_riskiest_enterprise_is_chosen() -> None:
    scores = [_score(f"urn:oretrail:party:uscc:{i:018d}", p) for i, p in enumerate([3, 22, 9, 14, 1])]
    picks = choose(scores, 1, 0.0, seed=1, key="CN-JX:2025-06")
    assert [p.enterprise for p in picks] == [scores[1].enterprise] and picks[0].basis == "risk"
    picks = choose(scores, 3, 0.2, seed=1, key="k")
    assert [p.enterprise for p in picks if p.basis == "risk"][:2] == [scores[1].enterprise, scores[3].enterprise]
    assert choose(scores, 3, 0.2, seed=1, key="k") == picks  # deterministic for a seed


def test_the_random_share_is_honoured_over_a_thousand_plans() -> None:
    rng = random.Random(5)
    scores = [_score(f"urn:oretrail:party:uscc:{i:018d}", rng.uniform(0, 25)) for i in range(40)]
    randoms = total = 0
    for seed in range(1000):
        picks = choose(scores, 7, 0.2, seed=seed, key="CN-HN:2025-07")
        n_random = sum(p.basis == "random" for p in picks)
        assert n_random >= 1  # the whole part of 7 × 0.2
        assert all(p.reasons[0]["component"] == "random" for p in picks if p.basis == "random")
        randoms += n_random
        total += len(picks)
    assert abs(randoms / total - 0.2) < 0.01


# --- channels --------------------------------------------------------------------------------------------
def test_channels_follow_risk_keep_random_shares_and_are_deterministic(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise()
        st.licence()
        for i in range(200):
            st.declaration(f"5301202500000{i:05d}")
        # One declaration has a high alert: it must go red by risk.
        conn.execute(alerts.insert().values(
            id="a1", rule="licence.missing", severity="high", raised_at=T0, subject_kind="declaration",
            subject_id="530120250000000007", jurisdiction="CN-JX", departments="[]", evidence="[]",
            message_key="alert.legacy", message_params='{"text": "x"}', status="new", level="province",
            shared_with="[]"))  # fmt: skip
        numbers = [f"5301202500000{i:05d}" for i in range(200)]
        first = {c.declaration_no: (c.lane, c.selection) for c in assign(conn, settings.config, numbers, seed=3)}
        again = {c.declaration_no: (c.lane, c.selection) for c in assign(conn, settings.config, numbers, seed=3)}
        stored = conn.execute(select(customs_channels.c.channel).where(
            customs_channels.c.declaration_no == "530120250000000007")).scalar()  # fmt: skip
    assert first == again and first["530120250000000007"] == ("red", "risk") and stored == "red"
    lanes = [lane for lane, _ in first.values()]
    for lane, expected in (("red", 0.03), ("yellow", 0.08), ("blue", 0.10)):
        assert lanes.count(lane) >= round(expected * 200)
    assert {sel for _, sel in first.values()} >= {"random", "top_up", "none"}


def test_red_at_rate_takes_the_riskiest_with_a_random_part() -> None:
    risk = {f"D{i:03d}": float(i) for i in range(100)}
    red = red_at_rate(risk, 0.10, seed=1, random_share=0.2)
    assert len(red) == 10 and {f"D{i:03d}" for i in range(92, 100)} <= red
