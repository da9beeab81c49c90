"""The outbox is written in the transaction of the change it announces, and only for changes that matter:
an alert settling into the officers' queue, an escalation, a share, a bulletin. Both storage engines."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from oretrail.alerts.store import alert_id, query_alerts, record_findings, settle_due
from oretrail.alerts.workflow import record_action
from oretrail.cli import app
from oretrail.notify import outbox
from oretrail.rules.config import Settings
from oretrail.sim import simulate
from oretrail.storage.engine import make_engine
from oretrail.storage.schema import alerts
from oretrail.storage.schema import outbox as outbox_table
from tests.conftest import drop_postgres_schema, postgres_engine
from tests.notify.conftest import finding, raise_alerts, register


def _rows(engine: Engine) -> list[outbox.Stored]:
    with engine.connect() as conn:
        return outbox.after(conn, 0, 10_000)


def test_a_settled_alert_is_one_message_per_department_with_the_spec_record(engine: Engine, settings: Settings) -> None:
    register(engine)
    raise_alerts(engine, settings, range(1))
    rows = _rows(engine)
    assert [(r.kind, r.subject) for r in rows] == [
        ("alert.settled", "oretrail.alert.settled.CN-JX.customs"),
        ("alert.settled", "oretrail.alert.settled.CN-JX.commerce"),
    ]
    with engine.connect() as conn:
        (queued,) = query_alerts(conn)
    assert [orjson.loads(r.payload) for r in rows] == [queued, queued]
    assert queued["id"] == alert_id(*finding(0).ident)
    assert len({r.id for r in rows}) == 2 and [r.seq for r in rows] == sorted(r.seq for r in rows)


def test_a_provisional_alert_writes_nothing_until_it_settles(engine: Engine, settings: Settings) -> None:
    register(engine)
    # licence.missing waits out the feed window from its anchor: not yet settled on 1 July.
    raise_alerts(engine, settings, range(3), anchor=datetime(2025, 6, 30))
    with engine.connect() as conn:
        assert conn.execute(select(alerts.c.settled_at)).scalars().all() == [None] * 3
    assert _rows(engine) == []
    with engine.begin() as conn:
        assert settle_due(conn, datetime(2026, 1, 1)) == 3
    assert len(_rows(engine)) == 6
    with engine.begin() as conn:  # settling again finds nothing due and writes nothing
        assert settle_due(conn, datetime(2026, 2, 1)) == 0
    assert len(_rows(engine)) == 6


def test_the_message_rolls_back_with_the_settling(engine: Engine, settings: Settings) -> None:
    register(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn:
        record_findings(conn, [finding(1)], settings)
        assert settle_due(conn, datetime(2025, 7, 1)) == 1
        assert len(outbox.after(conn, 0, 10)) == 2  # visible inside the transaction...
        raise RuntimeError("the capture failed after judging")
    assert _rows(engine) == []  # ...and gone with it
    with engine.connect() as conn:
        assert conn.execute(select(alerts.c.id)).first() is None


def test_leads_are_not_notified(engine: Engine, settings: Settings) -> None:
    lead = finding(2, rule="mirror.share_jump")
    with engine.begin() as conn:
        record_findings(conn, [lead], settings)
        assert settle_due(conn, datetime(2025, 7, 1)) == 1
    assert _rows(engine) == []


def test_escalations_hand_downs_and_shares_are_notified_other_decisions_not(engine: Engine, settings: Settings) -> None:
    register(engine)
    raise_alerts(engine, settings, range(1))
    aid = alert_id(*finding(0).ident)
    before = len(_rows(engine))
    with engine.begin() as conn:
        record_action(conn, aid, "assign", "officer wang", note="wang")
        record_action(conn, aid, "comment", "officer wang", note="asked the exporter")
        record_action(conn, aid, "investigate", "officer wang")
        record_action(conn, aid, "escalate", "officer wang", note="exporter under other investigations")
        record_action(conn, aid, "hand_down", "officer chen", province="CN-HN")
        record_action(conn, aid, "share", "officer wang", department="public_security")
        record_action(conn, aid, "act", "officer li", note="shipment held")
    rows = _rows(engine)[before:]
    assert [(r.kind, r.subject) for r in rows] == [
        ("alert.escalated", "oretrail.alert.escalated.CN-JX"),
        ("alert.handed_down", "oretrail.alert.handed_down.CN-HN"),
        ("alert.shared", "oretrail.alert.shared.public_security.CN-JX"),
    ]
    escalated, _, shared = (orjson.loads(r.payload) for r in rows)
    assert escalated["alert"]["id"] == aid and shared["alert"]["jurisdiction"] == "CN-JX"
    assert escalated["action"]["action"] == "escalate" and escalated["action"]["actor"] == "officer wang"
    assert escalated["action"]["note"] == "exporter under other investigations"
    assert shared["action"]["department"] == "public_security" and shared["action"]["at"].endswith("Z")


def test_a_refused_decision_writes_no_message(engine: Engine, settings: Settings) -> None:
    register(engine)
    raise_alerts(engine, settings, range(1))
    before = len(_rows(engine))
    with pytest.raises(ValueError, match="share needs a department"), engine.begin() as conn:
        record_action(conn, alert_id(*finding(0).ident), "share", "officer wang", department="nobody")
    assert len(_rows(engine)) == before


def test_a_bulletin_goes_to_each_recipient_once(engine: Engine) -> None:
    bulletin = {"id": "B-1", "what": "consignee X diverts gallium", "severity": "high"}
    recipients = [("CN-JX", "customs"), ("CN", "central"), ("CN-JX", "customs")]
    with engine.begin() as conn:
        ids = outbox.bulletin_issued(conn, bulletin, recipients)
    rows = _rows(engine)
    assert [r.id for r in rows] == ids
    assert [r.subject for r in rows] == ["oretrail.bulletin.CN.central", "oretrail.bulletin.CN-JX.customs"]
    assert {r.kind for r in rows} == {"bulletin.issued"}
    assert all(orjson.loads(r.payload) == bulletin for r in rows)
    with pytest.raises(ValueError, match="recipient"), engine.begin() as conn:
        outbox.bulletin_issued(conn, bulletin, [])


def test_positions_only_move_forward(engine: Engine) -> None:
    with engine.begin() as conn:
        assert outbox.position(conn, "nats:X") == 0
        outbox.advance(conn, "nats:X", 7)
        outbox.advance(conn, "nats:X", 3)  # a late, smaller advance is ignored
        assert outbox.position(conn, "nats:X") == 7
        outbox.advance(conn, "nats:X", 9)
        assert outbox.position(conn, "nats:X") == 9


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    eng, schema = postgres_engine()
    yield eng
    drop_postgres_schema(eng, schema)


@pytest.mark.postgres
def test_rows_commit_in_seq_order_on_postgresql(pg_engine: Engine) -> None:
    """A second writer waits for the first to commit, so a follower that has read seq N never sees a smaller
    seq appear later (the gap a sequence leaves between handing out a number and committing it). SQLite
    serialises writers by its database lock."""
    engine = pg_engine
    msg = outbox.Message("bulletin.issued", "oretrail.bulletin.CN.central", {"id": "B"})
    second_done = threading.Event()

    def second() -> None:
        with engine.begin() as conn:
            outbox.enqueue(conn, [msg])
        second_done.set()

    with engine.begin() as conn:
        outbox.enqueue(conn, [msg])
        worker = threading.Thread(target=second)
        worker.start()
        time.sleep(0.5)
        assert not second_done.is_set()  # held back while the first transaction is open
        with engine.connect() as reader:  # and nothing is visible to a follower yet
            assert outbox.after(reader, 0, 10) == []
    worker.join(timeout=10)
    assert second_done.is_set()
    with engine.connect() as conn:
        seqs = [r.seq for r in outbox.after(conn, 0, 10)]
        created = conn.execute(select(outbox_table.c.created_at).order_by(outbox_table.c.seq)).scalars().all()
    assert len(seqs) == 2 and seqs == sorted(seqs) and created == sorted(created)


def test_loading_feeds_notifies_exactly_the_officers_queue(tmp_path: Path) -> None:
    """Through the real entry points (the load commands, which judge and settle): one message per settled
    alert of the queue and department it names, and none for anything else."""
    data = tmp_path / "data"
    simulate(data, scale=0.05, seed=11)
    db = f"sqlite:///{tmp_path / 'sim.db'}"
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem")}
    for feed in ("registry.jsonl", "events", "licences.jsonl", "declarations.jsonl"):
        res = CliRunner().invoke(app, ["load", feed.split(".")[0], str(data / feed), "--db", db], env=env)
        assert res.exit_code == 0, res.output
    engine = make_engine(db)
    with engine.connect() as conn:
        queue = list(query_alerts(conn))
        rows = outbox.after(conn, 0, 1_000_000)
    assert len(queue) >= 5, "the simulated data plants violations"
    expected = sorted(
        (f"oretrail.alert.settled.{a['jurisdiction']}.{d}", a["id"]) for a in queue for d in a["departments"]
    )
    assert sorted((r.subject, orjson.loads(r.payload)["id"]) for r in rows) == expected
    engine.dispose()
