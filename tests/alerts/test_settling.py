"""Settling: an alert reaches the officers' queue only once the evidence that could clear it had its chance to
arrive, and the queue a dataset settles to does not depend on the order its documents arrive in."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from oretrail.alerts.store import month_end, query_alerts
from oretrail.alerts.workflow import SETTLE, WITHDRAW
from oretrail.mirror.store import load_mirror
from oretrail.pipeline import Capture, load_trade, rejudge, scan
from oretrail.registry.store import load_registry
from oretrail.rules.config import Settings
from oretrail.screening.store import load_watchlist
from oretrail.sim import simulate
from oretrail.sim.senders import SentDocument, per_sender
from oretrail.storage.engine import make_engine, migrate
from oretrail.storage.schema import alert_actions, alerts
from tests.intake import builders as b

WAYBILL = "urn:oretrail:waybill:ST-1"


def _capture(engine: Engine, settings: Settings, *evs: dict[str, Any]) -> None:
    Capture(engine, settings).document(b.encode(b.document(*evs)), "doc.jsonld")


def _row(engine: Engine, rule: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(alerts).where(alerts.c.rule == rule)).one()


def test_a_dispatch_not_received_waits_for_the_consignee_s_reporting_deadline(
    engine: Engine, settings: Settings
) -> None:
    ore = b.lot("ore-st")
    june = Settings(settings.config, settings.catalogue, as_of=datetime(2025, 6, 20))
    _capture(
        engine,
        june,
        b.mining([(ore, 100.0)], "w.ore", 0.005, event_id="urn:uuid:st-m", location=b.MINE),
        b.shipping([(ore, 100.0)], WAYBILL, origin=b.MINE, destination=b.SMELTER, event_id="urn:uuid:st-s"),
        # The newest record moves the platform clock past the 15-day limit.
        b.mining([(b.lot("ore-later"), 5.0)], "w.ore", 0.005, event_id="urn:uuid:st-x", location=b.MINE,
                 time="2025-06-30T00:00:00Z"),
    )  # fmt: skip
    row = _row(engine, "transit.not_received")
    dispatched = datetime.fromisoformat(b.shipping([(ore, 1.0)], WAYBILL)["eventTime"].rstrip("Z"))
    limit = dispatched + timedelta(days=settings.config.transit_limit_days)
    # The receipt could have come until the limit; the consignee reports that month by the deadline.
    assert row.settles_at == month_end(limit) + timedelta(days=settings.config.report_deadline_days)
    assert row.settled_at is None
    with engine.connect() as conn:
        assert list(query_alerts(conn, rule="transit.not_received")) == []
        assert len(list(query_alerts(conn, rule="transit.not_received", include_provisional=True))) == 1
    # A scan after the deadline settles it into the queue, with a `settle` entry in its log.
    after = Settings(settings.config, settings.catalogue, as_of=row.settles_at)
    assert scan(engine, after, rules=["transit.not_received"]).settled >= 1  # and whatever else was due
    with engine.connect() as conn:
        (queued,) = query_alerts(conn, rule="transit.not_received")
        actions = conn.execute(select(alert_actions.c.action).where(alert_actions.c.alert_id == queued["id"]))
        assert list(actions.scalars()) == [SETTLE]


def test_a_provisional_alert_cleared_by_a_late_document_never_reaches_the_queue(
    engine: Engine, settings: Settings
) -> None:
    ore = b.lot("ore-st2")
    early = Settings(settings.config, settings.catalogue, as_of=datetime(2025, 6, 2))
    # The smelter's receipt arrives before the mine's report of the lot and of its dispatch.
    _capture(engine, early, b.receiving([(ore, 100.0)], WAYBILL, location=b.SMELTER, event_id="urn:uuid:st2-r"))
    with engine.connect() as conn:
        (raised,) = query_alerts(conn, rule="balance.lot", include_provisional=True)
        assert list(query_alerts(conn, rule="balance.lot")) == []
    _capture(
        engine,
        early,
        b.mining([(ore, 100.0)], "w.ore", 0.005, event_id="urn:uuid:st2-m", location=b.MINE),
        b.shipping([(ore, 100.0)], WAYBILL, origin=b.MINE, destination=b.SMELTER, event_id="urn:uuid:st2-s"),
    )
    with engine.connect() as conn:
        assert list(query_alerts(conn, rule="balance.lot", include_provisional=True)) == []
        log = conn.execute(select(alert_actions.c.action).where(alert_actions.c.alert_id == raised["id"]))
        assert list(log.scalars()) == [WITHDRAW]


# --- the same dataset in three arrival orders ------------------------------------------------------------
ORDERS = ("time", "enterprise", "shuffled")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[SentDocument]]]:
    root = tmp_path_factory.mktemp("settling")
    monkey = pytest.MonkeyPatch()
    monkey.setenv("ORETRAIL_SIGNING_KEY", str(root / "signing.key"))
    simulate(root / "data", scale=0.03, seed=11)
    yield root / "data", per_sender(root / "data" / "events", root / "sent")
    monkey.undo()


def _loads(docs: list[SentDocument], order: str) -> list[list[Path]]:
    if order == "time":
        months = sorted({d.month for d in docs})
        return [[d.path for d in sorted(docs, key=lambda d: d.sender) if d.month == m] for m in months]
    if order == "enterprise":
        return [[d.path for d in sorted(docs, key=lambda d: (d.sender, d.month))]]
    shuffled = [d.path for d in docs]
    random.Random(5).shuffle(shuffled)
    return [shuffled]


def _load(data: Path, docs: list[SentDocument], order: str, db: Path, settings: Settings) -> Engine:
    engine = make_engine(f"sqlite:///{db}")
    migrate(engine)
    load_registry(engine, (data / "registry.jsonl").read_bytes().splitlines(), "registry.jsonl")
    rejudge(engine, "registry", settings)
    for paths in _loads(docs, order):
        as_of = None
        if order == "time":  # a reporting calendar: each month's load ends after its reporting deadline
            month = datetime.strptime(next(d.month for d in docs if d.path == paths[0]), "%Y-%m")
            as_of = month_end(month) + timedelta(days=settings.config.report_deadline_days)
        capture = Capture(engine, Settings(settings.config, settings.catalogue, as_of))
        # Small groups: the rules judge many times while the load is still bringing evidence.
        for report in capture.documents(paths, group_events=300):
            assert not report.errors, report.errors
    for kind in ("licences", "declarations"):
        load_trade(engine, kind, (data / f"{kind}.jsonl").read_bytes().splitlines(), kind, settings)
    load_mirror(engine, (data / "mirror.csv").read_text().splitlines(), "mirror.csv")
    load_watchlist(engine, (data / "watchlist.jsonl").read_bytes().splitlines(), "watchlist.jsonl")
    for feed in ("mirror", "watchlist"):
        rejudge(engine, feed, settings)
    scan(engine, settings)
    return engine


def _settled_then_withdrawn(engine: Engine) -> int:
    log: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for aid, action in conn.execute(
            select(alert_actions.c.alert_id, alert_actions.c.action).order_by(alert_actions.c.id)
        ):
            log.setdefault(aid, []).append(action)
    return sum(1 for acts in log.values() if SETTLE in acts and WITHDRAW in acts[acts.index(SETTLE) :])


def test_three_arrival_orders_settle_to_the_same_queue_and_nothing_settled_is_withdrawn(
    dataset: tuple[Path, list[SentDocument]], tmp_path: Path, settings: Settings
) -> None:
    data, docs = dataset
    assert len({d.sender for d in docs}) > 5 and len({d.month for d in docs}) > 3
    queues = {}
    for order in ORDERS:
        engine = _load(data, docs, order, tmp_path / f"{order}.db", settings)
        with engine.connect() as conn:
            queues[order] = sorted((a["rule"], a["subject"]["id"]) for a in query_alerts(conn))
            provisional = list(query_alerts(conn, include_provisional=True))
        assert _settled_then_withdrawn(engine) == 0, order
        assert len(provisional) == len(queues[order]), order  # the final scan settled everything due
        engine.dispose()
    assert queues["time"], "the dataset plants violations: the queue cannot be empty"
    assert queues["enterprise"] == queues["time"]
    assert queues["shuffled"] == queues["time"]
