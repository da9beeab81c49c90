"""Webhooks against a local HTTP receiver: signed per Standard Webhooks, filtered by subject, and a
subscription's position moves only on 2xx, so a receiver that fails first gets everything once it answers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine

from oretrail.alerts.store import alert_id
from oretrail.notify import outbox, webhooks
from oretrail.notify.delivery import Backoff
from oretrail.notify.publisher import Publisher
from oretrail.notify.subjects import SubjectError, matches, validate_filter
from oretrail.rules.config import Settings
from oretrail.storage.engine import make_engine, migrate
from tests.notify.conftest import finding, free_port, raise_alerts, register

FAST = Backoff(first=0.02, cap=0.1)
SECRET = "whsec_" + base64.b64encode(b"a shared secret of the customs ERP").decode()


@dataclass
class Receiver:
    """Answers `failures` requests with 503, then 200; keeps what it was sent."""

    failures: int = 0
    seen: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with lock:
                state.seen.append((headers, body))
                failing = state.failures > 0
                if failing:
                    state.failures -= 1
                else:
                    state.accepted.append((headers, body))
            self.send_response(503 if failing else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def db(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hooks.db'}")
    migrate(engine)
    register(engine)
    return engine


def hooks_only(engine: Engine, **kw: object) -> Publisher:
    return Publisher(engine, None, backoff=FAST, **kw)  # type: ignore[arg-type]


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver does, written from the Standard Webhooks spec rather than from our code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(s.split(",", 1)[1], expected) for s in headers["webhook-signature"].split() if "," in s
    )


def test_a_receiver_failing_first_gets_every_message_once_when_it_recovers(
    db: Engine, settings: Settings, receiver: Receiver
) -> None:
    receiver.failures = 2
    with db.begin() as conn:
        sub = webhooks.subscribe(conn, f"http://127.0.0.1:{receiver.port}/hook", "oretrail.alert.settled.*.customs",
                                 SECRET)  # fmt: skip
    raise_alerts(db, settings, range(3))  # 3 alerts, 6 messages: 3 for customs, 3 for commerce

    # --once gives up after one failure: nothing delivered, the position stays, the error is on record.
    outcome = asyncio.run(hooks_only(db, max_failures=1).run())
    assert outcome.progress[f"webhook:{sub.id}"].failed_attempts == 1 and not outcome.complete
    with db.connect() as conn:
        kept = webhooks.get(conn, sub.id)
    assert kept is not None and kept.position == sub.position and kept.failures == 1
    assert "HTTP 503" in (kept.last_error or "")
    assert receiver.accepted == []

    # One run that meets the second failure, backs off and delivers.
    outcome = asyncio.run(hooks_only(db).run())
    assert outcome.complete
    progress = outcome.progress[f"webhook:{sub.id}"]
    assert progress.failed_attempts == 1 and progress.delivered == 6  # 3 sent, 3 passed over (commerce)
    assert len(receiver.seen) == 5  # 2 refused + 3 accepted
    bodies = [orjson.loads(b) for _, b in receiver.accepted]
    assert [b["id"] for b in bodies] == sorted(alert_id(*finding(n).ident) for n in range(3))
    assert all(h["oretrail-subject"] == "oretrail.alert.settled.CN-JX.customs" for h, _ in receiver.accepted)
    assert all(verify(SECRET, h, b) for h, b in receiver.accepted)
    assert not verify("whsec_" + base64.b64encode(b"another secret entirely!").decode(), *receiver.accepted[0])
    with db.connect() as conn:
        head = outbox.head(conn)
        ids = {r.id for r in outbox.after(conn, 0, 100) if r.subject.endswith(".customs")}
        done = webhooks.get(conn, sub.id)
    assert {h["webhook-id"] for h, _ in receiver.accepted} == ids
    assert done is not None and done.position == head and done.failures == 0 and done.last_error is None

    # Nothing is sent twice.
    asyncio.run(hooks_only(db).run())
    assert len(receiver.accepted) == 3


def test_following_retries_with_backoff_until_the_receiver_answers(
    db: Engine, settings: Settings, receiver: Receiver
) -> None:
    receiver.failures = 3
    with db.begin() as conn:
        webhooks.subscribe(conn, f"http://127.0.0.1:{receiver.port}/", secret=SECRET)
    raise_alerts(db, settings, range(2))

    async def follow() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(hooks_only(db, interval=0.01, max_failures=None).run(follow=True, stop=stop))
        for _ in range(500):
            if len(receiver.accepted) == 4:
                break
            await asyncio.sleep(0.01)
        stop.set()
        await task

    asyncio.run(follow())
    assert len(receiver.seen) == 7 and len(receiver.accepted) == 4
    assert len({h["webhook-id"] for h, _ in receiver.accepted}) == 4


def test_an_unreachable_receiver_keeps_its_position(db: Engine, settings: Settings) -> None:
    with db.begin() as conn:
        sub = webhooks.subscribe(conn, f"http://127.0.0.1:{free_port()}/", secret=SECRET)
    raise_alerts(db, settings, range(1))
    outcome = asyncio.run(hooks_only(db, max_failures=2).run())
    assert outcome.progress[f"webhook:{sub.id}"].failed_attempts == 2
    assert outcome.pending == {f"webhook:{sub.id}": 2}
    with db.connect() as conn:
        kept = webhooks.get(conn, sub.id)
    assert kept is not None and kept.position == sub.position and "unreachable" in (kept.last_error or "")


def test_a_new_subscription_starts_at_the_head_unless_asked_for_the_whole_outbox(
    db: Engine, settings: Settings
) -> None:
    raise_alerts(db, settings, range(2))
    with db.begin() as conn:
        now = webhooks.subscribe(conn, "https://erp.example.cn/hook")
        everything = webhooks.subscribe(conn, "https://erp.example.cn/hook", from_start=True)
        assert now.position == outbox.head(conn) == 4 and everything.position == 0
        assert now.secret.startswith("whsec_") and now.secret != everything.secret
        assert [s.id for s in webhooks.listed(conn)] == [now.id, everything.id]
        assert webhooks.unsubscribe(conn, now.id) and not webhooks.unsubscribe(conn, now.id)


@pytest.mark.parametrize(
    ("url", "subjects", "secret", "reason"),
    [
        ("ftp://x/", "oretrail.>", None, "http:// or https://"),
        ("https://x/", "oretrail.>.alert", None, "token 2"),
        ("https://x/", "oretrail..x", None, "token 2"),
        ("https://x/", "oretrail.>", "short", "at least 16"),
        ("https://x/", "oretrail.>", "whsec_not base64 at all!", "base64"),
    ],
)
def test_a_bad_subscription_is_refused_naming_the_field(
    db: Engine, url: str, subjects: str, secret: str | None, reason: str
) -> None:
    with pytest.raises(webhooks.WebhookError, match=reason), db.begin() as conn:
        webhooks.subscribe(conn, url, subjects, secret)
    with db.connect() as conn:
        assert webhooks.listed(conn) == []


def test_subject_filters_read_as_nats_reads_them() -> None:
    s = "oretrail.alert.settled.CN-JX.customs"
    assert matches("oretrail.>", s) and matches("oretrail.alert.settled.*.customs", s)
    assert matches(s, s) and matches("*.*.*.*.*", s)
    assert not matches("oretrail.alert.settled.*.commerce", s)
    assert not matches("oretrail.alert.settled.CN-JX", s)  # no implied tail without '>'
    assert not matches("oretrail.alert.settled.CN-JX.customs.>", s)  # '>' needs at least one token
    assert not matches("oretrail.alert.*", s)
    assert validate_filter("oretrail.*.settled.>") == "oretrail.*.settled.>"
    for bad in ("", "a..b", "a.>.b", "a.b c", "a.*x"):
        with pytest.raises(SubjectError):
            validate_filter(bad)


def test_a_province_or_department_that_would_bend_a_subject_is_refused() -> None:
    from oretrail.notify import subjects

    assert subjects.alert_settled("CN-JX", "customs") == "oretrail.alert.settled.CN-JX.customs"
    for bad in ("CN.JX", "CN JX", "*", ">", ""):
        with pytest.raises(SubjectError, match="subject token"):
            subjects.alert_settled(bad, "customs")


def test_backoff_doubles_up_to_its_cap() -> None:
    b = Backoff(first=0.5, cap=30.0, jitter=0.0)
    assert [b.delay(i) for i in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    jittered = Backoff(first=1.0, jitter=0.1)
    assert all(0.9 <= jittered.delay(1) <= 1.1 for _ in range(100))
