"""The publisher against a real NATS server: the right subject, exactly once, nothing lost across restarts of
the publisher or of the server, and the outbox kept while NATS is away."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import nats
import orjson
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from sqlalchemy import Engine

from oretrail.alerts.store import alert_id
from oretrail.notify import outbox
from oretrail.notify.delivery import Backoff
from oretrail.notify.jetstream import JetStreamSink, connect
from oretrail.notify.publisher import Publisher
from oretrail.rules.config import Settings
from oretrail.storage.engine import make_engine, migrate
from tests.notify.conftest import PrivateServer, Stream, finding, free_port, raise_alerts, register

FAST = Backoff(first=0.05, cap=0.2)


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'notify.db'}")
    migrate(engine)
    register(engine)
    return engine


def publisher(engine: Engine, stream: Stream, url: str | None = None, **kw: object) -> Publisher:
    return Publisher(engine, url or stream.url, stream.name, stream.prefix, backoff=FAST, **kw)  # type: ignore[arg-type]


async def _read(url: str, stream: str, subject: str, durable: str | None = None) -> list[tuple[str, str, bytes]]:
    """Every message on `subject` a consumer gets: (subject, Nats-Msg-Id, body), each acknowledged."""
    nc = await connect(url)
    try:
        js = nc.jetstream()
        config = ConsumerConfig(filter_subject=subject, deliver_policy=DeliverPolicy.ALL)
        sub = await js.pull_subscribe(subject, durable=durable, stream=stream, config=config)
        got: list[tuple[str, str, bytes]] = []
        while True:
            try:
                msgs = await sub.fetch(batch=200, timeout=0.5)
            except (nats.errors.TimeoutError, TimeoutError):
                return got
            for m in msgs:
                got.append((m.subject, (m.headers or {}).get("Nats-Msg-Id", ""), m.data))
                await m.ack()
    finally:
        await nc.close()


def read(stream: Stream, subject: str = "oretrail.>", durable: str | None = None, url: str | None = None):  # type: ignore[no-untyped-def]
    return asyncio.run(_read(url or stream.url, stream.name, stream.subject(subject), durable))


def ids(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [r.id for r in outbox.after(conn, 0, 100_000)]


def exactly_once(got: Iterable[tuple[str, str, bytes]], expected: list[str]) -> None:
    counts = Counter(msg_id for _, msg_id, _ in got)
    assert sorted(counts) == sorted(expected), "lost or foreign messages"
    assert set(counts.values()) == {1}, f"duplicates: {[i for i, c in counts.items() if c > 1]}"


def test_a_settled_alert_is_published_once_on_its_subjects(db: Engine, settings: Settings, stream: Stream) -> None:
    raise_alerts(db, settings, range(1))
    outcome = asyncio.run(publisher(db, stream).run())
    assert outcome.complete and outcome.progress[f"nats:{stream.name}"].delivered == 2
    customs = read(stream, "oretrail.alert.settled.CN-JX.customs")
    assert len(customs) == 1
    subject, msg_id, body = customs[0]
    assert subject == stream.subject("oretrail.alert.settled.CN-JX.customs")
    record = orjson.loads(body)
    assert record["id"] == alert_id(*finding(0).ident) and record["rule"] == "licence.missing"
    assert msg_id in ids(db)
    exactly_once(read(stream), ids(db))
    # A second run finds nothing new and sends nothing.
    again = asyncio.run(publisher(db, stream).run())
    assert again.progress[f"nats:{stream.name}"].delivered == 0
    exactly_once(read(stream), ids(db))


def test_a_provisional_alert_publishes_nothing(db: Engine, settings: Settings, stream: Stream) -> None:
    from datetime import datetime

    raise_alerts(db, settings, range(2), anchor=datetime(2025, 6, 30))
    outcome = asyncio.run(publisher(db, stream).run())
    assert outcome.complete and outcome.progress[f"nats:{stream.name}"].delivered == 0
    assert read(stream) == []


class Crash(Exception):
    """The publisher process dying: not a delivery failure it would retry, so it ends the run."""


class CrashAfterAck(JetStreamSink):
    """Dies once JetStream has acknowledged a batch, before the position is written: the worst moment."""

    def _advance(self, seq: int) -> None:
        raise Crash(seq)


def test_a_publisher_restarted_sends_nothing_twice_and_loses_nothing(
    db: Engine, settings: Settings, stream: Stream
) -> None:
    raise_alerts(db, settings, range(100))  # 200 messages
    pub = publisher(db, stream, batch=64)
    name = f"nats:{stream.name}"
    pub.sinks[name] = CrashAfterAck(db, stream.url, stream.name, stream.prefix, batch=64)
    with pytest.raises(Crash):
        asyncio.run(pub.run())
    with db.connect() as conn:
        assert outbox.position(conn, name) == 0  # the acked batch is not on record
    assert len(read(stream)) == 64  # but it is in the stream
    outcome = asyncio.run(publisher(db, stream, batch=64).run())
    assert outcome.complete
    assert outcome.progress[name].delivered == 200  # the first 64 sent again, with the same ids...
    exactly_once(read(stream), ids(db))  # ...and dropped by JetStream as duplicates


def test_nats_away_keeps_the_outbox_and_the_publisher_retries_then_delivers(
    db: Engine, settings: Settings, stream: Stream
) -> None:
    raise_alerts(db, settings, range(5))
    closed = f"nats://127.0.0.1:{free_port()}"
    outcome = asyncio.run(publisher(db, stream, url=closed, max_failures=3).run())
    progress = outcome.progress[f"nats:{stream.name}"]
    assert progress.failed_attempts == 3 and progress.delivered == 0
    assert "unreachable" in (progress.last_error or "")
    assert outcome.pending == {f"nats:{stream.name}": 10} and not outcome.complete
    assert len(ids(db)) == 10  # the outbox keeps every row
    outcome = asyncio.run(publisher(db, stream).run())
    assert outcome.complete and outcome.progress[f"nats:{stream.name}"].delivered == 10
    exactly_once(read(stream), ids(db))


def test_a_durable_consumer_reading_while_the_publisher_stops_and_restarts_gets_each_message_once(
    db: Engine, settings: Settings, stream: Stream
) -> None:
    got = []
    raise_alerts(db, settings, range(0, 30))
    asyncio.run(publisher(db, stream, batch=16).run())
    got += read(stream, durable="office")  # the consumer reads what there is, then goes away
    raise_alerts(db, settings, range(30, 60))  # the platform goes on while the publisher is stopped
    got += read(stream, durable="office")  # nothing new reaches it meanwhile
    assert len(got) == 60

    async def interrupted() -> None:
        # Publisher stopped hard in the middle of the stream (a cancelled task, as by a kill).
        pub = publisher(db, stream, batch=8, interval=0.01)
        task = asyncio.create_task(pub.run(follow=True))
        while (
            pub.outcome.progress.get(f"nats:{stream.name}", None) is None
            or not pub.outcome.progress[f"nats:{stream.name}"].delivered
        ):
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(interrupted())
    got += read(stream, durable="office")  # the same durable consumer picks up where it acked
    raise_alerts(db, settings, range(60, 80))
    assert asyncio.run(publisher(db, stream).run()).complete
    got += read(stream, durable="office")
    exactly_once(got, ids(db))
    assert len(got) == 160


def test_a_server_stopped_and_restarted_mid_stream_loses_and_duplicates_nothing(
    db: Engine, settings: Settings, private_server: PrivateServer
) -> None:
    """The issue's judge: the NATS server itself goes down while the publisher follows the outbox; the
    publisher backs off, the platform keeps writing, and a durable consumer ends with every message once."""
    stream = Stream(private_server.url, "ORETRAIL", "")  # a server of its own: the production names
    got: list[tuple[str, str, bytes]] = []

    async def scenario() -> None:
        pub = publisher(db, stream, batch=20, interval=0.02, max_failures=None)
        stop = asyncio.Event()
        task = asyncio.create_task(pub.run(follow=True, stop=stop))
        name = f"nats:{stream.name}"

        async def delivered(n: int) -> None:
            while pub.outcome.progress.get(name) is None or pub.outcome.progress[name].delivered < n:
                await asyncio.sleep(0.02)

        await asyncio.to_thread(raise_alerts, db, settings, range(0, 50))
        await asyncio.wait_for(delivered(100), 20)
        got.extend(await _read(stream.url, stream.name, "oretrail.>", "centre"))
        await asyncio.to_thread(private_server.stop)
        await asyncio.to_thread(raise_alerts, db, settings, range(50, 100))  # written while NATS is down
        while pub.outcome.progress[name].failed_attempts < 2:  # the publisher notices and backs off
            await asyncio.sleep(0.02)
        assert pub.outcome.progress[name].delivered == 100
        await asyncio.to_thread(private_server.start)
        await asyncio.wait_for(delivered(200), 30)
        stop.set()
        await task
        got.extend(await _read(stream.url, stream.name, "oretrail.>", "centre"))

    asyncio.run(scenario())
    exactly_once(got, ids(db))
    assert len(got) == 200
