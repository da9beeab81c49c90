"""An alert resting on an event later declared erroneous is withdrawn, on both engines; a scan reinstates
an alert whose finding comes back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from oretrail.alerts.judge import CLEARED
from oretrail.alerts.store import query_alerts
from oretrail.alerts.workflow import state
from oretrail.pipeline import Capture, scan
from oretrail.rules.config import load_settings
from tests.intake import builders as b

SETTINGS = load_settings()
WAYBILL = "urn:oretrail:waybill:WD-1"


def capture(engine: Engine, *evs: dict[str, Any]) -> None:
    Capture(engine, SETTINGS).document(b.encode(b.document(*evs)), "doc.jsonld")


def diverted(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [a for a in query_alerts(conn, rule="transit.diverted")]


def test_correction_withdraws_the_alert_it_disproves(engine: Engine) -> None:
    ore = b.lot("ore-wd")
    capture(
        engine,
        b.mining([(ore, 100.0)], "w.ore", 0.005, event_id="urn:uuid:wd-m", location=b.MINE),
        b.shipping([(ore, 100.0)], WAYBILL, origin=b.MINE, destination=b.SMELTER, event_id="urn:uuid:wd-s"),
    )
    wrong = b.receiving([(ore, 100.0)], WAYBILL, location=b.WAREHOUSE, event_id="urn:uuid:wd-r")
    capture(engine, wrong)
    (alert,) = diverted(engine)
    assert alert["subject"] == {"kind": "shipment", "id": WAYBILL}

    retraction = {**wrong, "errorDeclaration": {"declarationTime": "2025-06-04T00:00:00Z",
                                                "correctiveEventIDs": ["urn:uuid:wd-r2"]}}  # fmt: skip
    fixed = b.receiving([(ore, 100.0)], WAYBILL, location=b.SMELTER, event_id="urn:uuid:wd-r2")
    capture(engine, retraction, fixed)
    assert diverted(engine) == []
    with engine.connect() as conn:
        st = state(conn, alert["id"])
        assert st.withdrawn and st.history[-1].actor == "oretrail"
        assert [a["id"] for a in query_alerts(conn, rule="transit.diverted", include_withdrawn=True)] == [alert["id"]]
    # A full scan finds nothing to reinstate, and raises nothing new.
    judged = scan(engine, SETTINGS, rules=["transit.diverted"])
    assert (judged.findings, judged.new, judged.reinstated) == ([], [], 0)
    assert diverted(engine) == []


def test_a_withdrawn_alert_found_again_is_reinstated(engine: Engine) -> None:
    from oretrail.alerts.store import reconcile

    test_correction_withdraws_the_alert_it_disproves(engine)
    with engine.begin() as conn:
        (aid,) = [a["id"] for a in query_alerts(conn, rule="transit.diverted", include_withdrawn=True)]
        assert reconcile(conn, [aid], [aid], CLEARED()) == (0, 1)
        assert not state(conn, aid).withdrawn
        assert reconcile(conn, [], [aid], CLEARED()) == (1, 0)
        assert state(conn, aid).withdrawn
