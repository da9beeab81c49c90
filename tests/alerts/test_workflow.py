"""The alert workflow of the platform (issue 13 §4): states, vertical and horizontal sharing, attachments,
escalation by itself, all folded from one append-only log."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine, select

from oretrail.alerts.attachments import read_attachment
from oretrail.alerts.explain import explain
from oretrail.alerts.judge import settle
from oretrail.alerts.store import record_findings
from oretrail.alerts.workflow import ACK_DEADLINES, WorkflowError, escalate_overdue, record_action, state
from oretrail.rules.config import Settings
from oretrail.rules.runner import run_rules
from oretrail.storage.schema import alert_actions, alerts
from tests.api.conftest import signed_in
from tests.rules.state import EXPORTER, State


def _raise(conn: Connection, settings: Settings) -> str:
    st = State(conn)
    st.enterprise(EXPORTER, "CN-JX")
    st.declaration(licence_no=None)
    found = run_rules(conn, catalogue=settings.catalogue, rules=["licence.missing"])
    (aid,) = record_findings(conn, found, settings).new
    return aid


def _folded(conn: Connection, aid: str) -> tuple[object, ...]:
    row = conn.execute(select(alerts).where(alerts.c.id == aid)).one()
    return row.status, row.level, row.handed_to, orjson.loads(row.shared_with), row.acknowledged_at


def _fold_of_log(conn: Connection, aid: str) -> tuple[object, ...]:
    s = state(conn, aid)
    return s.status, s.level, s.handed_to, s.shared_with, s.acknowledged_at


def test_lifecycle_sharing_and_the_fold_agree_with_the_log(engine: Engine, settings: Settings) -> None:
    t = datetime(2025, 7, 1, 9)
    with engine.begin() as conn:
        aid = _raise(conn, settings)
        province = conn.execute(select(alerts.c.jurisdiction).where(alerts.c.id == aid)).scalar()
        assert province != "CN" and _folded(conn, aid)[:2] == ("new", "province")
        steps = [
            ("assign", {"note": "officer.wang"}, "assigned", "province"),
            ("investigate", {}, "investigating", "province"),
            ("share", {"department": "customs"}, "investigating", "province"),
            ("escalate", {"note": "exporter in three provinces"}, "investigating", "central"),
            ("hand_down", {"province": "CN-HN"}, "investigating", "province"),
            ("comment", {"note": "Hunan holds the exporter's warehouse"}, "investigating", "province"),
            ("act", {"note": "consignment held at Shenzhen"}, "actioned", "province"),
        ]
        for i, (action, extra, status, level) in enumerate(steps):
            st = record_action(conn, aid, action, "officer.li", at=t + timedelta(hours=i), **extra)  # type: ignore[arg-type]
            assert (st.status, st.level) == (status, level), action
            assert _folded(conn, aid) == _fold_of_log(conn, aid), action
        final = state(conn, aid)
        assert final.handed_to == "CN-HN" and final.shared_with == ["customs"] and final.escalations == 1
        assert final.acknowledged_at == t
        # Closed: comments and attachments only.
        for action, extra in [("assign", {"note": "x"}), ("escalate", {"note": "x"}), ("share", {"department": "tax"})]:
            with pytest.raises(WorkflowError, match="actioned"):
                record_action(conn, aid, action, "officer.li", **extra)  # type: ignore[arg-type]
        record_action(conn, aid, "comment", "officer.zhao", note="follow-up inspection booked")
        assert conn.execute(select(alert_actions).where(alert_actions.c.alert_id == aid)).all().__len__() == 8


@pytest.mark.parametrize(
    ("action", "extra", "why"),
    [
        ("dismiss", {}, "reason"),
        ("escalate", {"note": " "}, "reason"),
        ("hand_down", {"province": "CN-HN"}, "only the centre"),
        ("hand_down", {"province": "XX"}, "ISO 3166-2"),
        ("share", {"department": "army"}, "department"),
        ("attach", {}, "content hash"),
        ("reopen", {}, "unknown action"),
    ],
)
def test_refusals_say_why(engine: Engine, settings: Settings, action: str, extra: dict[str, str], why: str) -> None:
    with engine.begin() as conn:
        aid = _raise(conn, settings)
        with pytest.raises(WorkflowError, match=why):
            record_action(conn, aid, action, "officer.li", **extra)  # type: ignore[arg-type]
        with pytest.raises(WorkflowError, match="officer"):
            record_action(conn, aid, "comment", "oretrail", note="the system cannot be an officer")


def test_unacknowledged_alerts_escalate_by_themselves_once(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        aid = _raise(conn, settings)
        acked = _raise_other(conn, settings)
        settled_at = datetime(2025, 8, 1)
        conn.execute(alerts.update().values(settled_at=settled_at))
        severity = conn.execute(select(alerts.c.severity).where(alerts.c.id == aid)).scalar_one()
        limit = ACK_DEADLINES[severity]
        record_action(conn, acked, "assign", "officer.li", note="officer.wang", at=settled_at)
        assert escalate_overdue(conn, settled_at + limit - timedelta(minutes=1)) == []
        assert escalate_overdue(conn, settled_at + limit) == [aid]  # the acknowledged one stays in its province
        assert escalate_overdue(conn, settled_at + 10 * limit) == []  # once
        st = state(conn, aid)
        assert (st.level, st.status, st.acknowledged_at) == ("central", "new", None)
        assert _folded(conn, aid) == _fold_of_log(conn, aid)
        assert "nobody acknowledged" in explain(conn, aid) and "无人受理" in explain(conn, aid, "zh")
        # The centre hands it back down: an officer's decision, not undone by the clock.
        record_action(conn, aid, "hand_down", "officer.chen", province="CN-JX")
        assert escalate_overdue(conn, settled_at + 20 * limit) == []
        assert state(conn, acked).level == "province"


def _raise_other(conn: Connection, settings: Settings) -> str:
    State(conn).declaration("530120250000999999", licence_no=None)
    found = run_rules(conn, catalogue=settings.catalogue, rules=["licence.missing"])
    (new,) = record_findings(conn, found, settings).new
    return new


def test_settling_runs_the_escalation_clock(engine: Engine, settings: Settings) -> None:
    from dataclasses import replace

    with engine.begin() as conn:
        aid = _raise(conn, settings)
        when = datetime(2030, 1, 1)
        assert settle(conn, replace(settings, as_of=when)) == 1
        assert state(conn, aid).level == "province"  # the deadline counts from settling
        assert settle(conn, replace(settings, as_of=when + ACK_DEADLINES["low"])) == 0
        assert state(conn, aid).level == "central"


def test_attachments_by_api_are_stored_once_by_content_hash(tmp_path: object, settings: Settings) -> None:
    from pathlib import Path

    from oretrail.api.app import create_app
    from oretrail.storage.engine import make_engine, migrate

    db = f"sqlite:///{Path(str(tmp_path)) / 'w.db'}"
    eng = make_engine(db)
    migrate(eng)
    with eng.begin() as conn:
        aid = _raise(conn, settings)
    client = signed_in(TestClient(create_app(db)))
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    for _ in range(2):
        r = client.post(
            f"/alerts/{aid}/attachments", content=photo,
            headers={"Content-Type": "image/png"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    digest = r.json()["attachments"][0]
    assert r.json()["attachments"] == [digest, digest]
    got = client.get(f"/attachments/{digest}")
    assert got.content == photo and got.headers["content-type"] == "image/png"
    with eng.connect() as conn:
        assert read_attachment(conn, digest) == (photo, "image/png")
    assert client.get(f"/attachments/{'0' * 64}").status_code == 404
    assert client.post(f"/alerts/{aid}/attachments", content=b"").status_code == 422
    r = client.post(f"/alerts/{aid}/actions", json={"action": "hand_down", "province": "CN-JX"})
    assert r.status_code == 422 and "centre" in r.json()["detail"]
    r = client.post(f"/alerts/{'f' * 64}/actions", json={"action": "comment", "note": "n"})
    assert r.status_code == 404
    r = client.post(f"/alerts/{aid}/actions", json={"action": "escalate", "note": "why"})
    assert r.status_code == 200 and r.json()["level"] == "central"
    got = client.get(f"/alerts/{aid}").json()
    assert got["state"]["level"] == "central" and got["state"]["attachments"] == [digest, digest]
