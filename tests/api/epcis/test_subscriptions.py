"""Named queries and their subscriptions: webhooks to a real HTTP receiver on loopback (signed; a position that
moves only on 2xx), and websocket streaming."""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from oretrail.api.epcis.subscriptions import Deliverer, schedule_matches
from tests.api.epcis.conftest import capture, event_ids
from tests.api.epcis.dataset import E, document, events

QUERY = {"name": "shipments", "query": {"eventType": ["ObjectEvent"], "EQ_bizStep": ["shipping", "decommissioning"]}}


class Receiver:
    """An HTTP endpoint that answers each POST with the next scripted status (200 once the script ends)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes, int]] = []
        self.script: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = receiver.script.pop(0) if receiver.script else 200
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[list[str]]:
        """Event ids of each acknowledged delivery."""
        out = []
        for _, body, status in self.received:
            if 200 <= status < 300:
                doc = orjson.loads(body)
                out.append([e["eventID"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]])
        return out


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_named_query_lifecycle(client: TestClient) -> None:
    assert client.get("/queries").json() == []
    r = client.post("/queries", json=QUERY)
    assert r.status_code == 201 and r.headers["location"] == "queries/shipments"
    assert client.post("/queries", json=QUERY).status_code == 409
    bad = client.post("/queries", json={"name": "bad", "query": {"EQ_action": ["MOVE"]}})
    assert bad.status_code == 400 and bad.json()["parameter"] == "EQ_action"
    assert client.get("/queries/shipments").json() == QUERY
    assert client.get("/queries").json() == [QUERY]
    capture(client, document(events()))
    assert event_ids(client.get("/queries/shipments/events")) == [E[2], E[7]]
    assert client.delete("/queries/shipments").status_code == 204
    assert client.get("/queries/shipments").status_code == 404
    assert client.get("/queries/shipments/events").status_code == 404
    assert client.delete("/queries/shipments").status_code == 404


def test_webhook_delivers_each_event_once_in_order_and_only_after_2xx(
    client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    client.post("/queries", json=QUERY)
    capture(client, document(events()[:1]))  # before the subscription: not delivered
    r = client.post("/queries/shipments/subscriptions",
                    json={"dest": receiver.url, "signatureToken": "s3cret", "stream": True})  # fmt: skip
    assert r.status_code == 201, r.text
    sub = r.json()["subscriptionID"]
    assert r.headers["location"] == f"subscriptions/{sub}"
    deliverer = Deliverer(app.state.engine)
    assert deliverer.run_once() == 0 and receiver.received == []  # nothing new yet

    capture(client, document(events()[1:3]))  # event 2 matches, event 3 does not
    receiver.script = [500]  # the receiver fails once
    assert deliverer.run_once() == 0
    deliverer._failures.clear()  # skip the back-off
    assert deliverer.run_once() == 1
    assert receiver.delivered() == [[E[2]]]
    assert [s for _, _, s in receiver.received] == [500, 200]
    # the refused batch was sent again (same events, same delivery id), and only then acknowledged
    first, second = (orjson.loads(b)["epcisBody"]["queryResults"]["resultsBody"]["eventList"] for _, b, _ in
                     receiver.received)  # fmt: skip
    assert first == second
    assert receiver.received[0][0]["gs1-delivery-id"] == receiver.received[1][0]["gs1-delivery-id"]
    headers, body, _ = receiver.received[1]
    assert headers["gs1-signature"] == hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["gs1-delivery-id"].startswith(sub + ":")

    capture(client, document(events()[3:]))  # event 7 matches
    assert deliverer.run_once() == 1 and deliverer.run_once() == 0
    assert receiver.delivered() == [[E[2]], [E[7]]]
    state = client.get(f"/queries/shipments/subscriptions/{sub}").json()
    assert state["stream"] is True and "lastNotifiedAt" in state and "signatureToken" not in state
    assert [s["subscriptionID"] for s in client.get("/queries/shipments/subscriptions").json()] == [sub]
    assert client.delete(f"/queries/shipments/subscriptions/{sub}").status_code == 204
    assert client.get(f"/queries/shipments/subscriptions/{sub}").status_code == 404


def test_a_subscription_from_an_initial_record_time_gets_what_came_before(
    client: TestClient, app: FastAPI, receiver: Receiver
) -> None:
    client.post("/queries", json=QUERY)
    capture(client, document(events()))
    body = {"dest": receiver.url, "stream": True, "initialRecordTime": "2000-01-01T00:00:00Z"}
    assert client.post("/queries/shipments/subscriptions", json=body).status_code == 201
    assert Deliverer(app.state.engine).run_once() == 1
    assert receiver.delivered() == [[E[2], E[7]]]
    assert "gs1-signature" not in receiver.received[0][0]  # no signatureToken, no signature


def test_scheduled_subscription_reports_if_empty(client: TestClient, app: FastAPI, receiver: Receiver) -> None:
    from datetime import datetime

    client.post("/queries", json=QUERY)
    body = {"dest": receiver.url, "schedule": {"minute": "0/15", "hour": "[8-17]"}, "reportIfEmpty": True}
    assert client.post("/queries/shipments/subscriptions", json=body).status_code == 201
    deliverer = Deliverer(app.state.engine)
    assert deliverer.run_once(datetime(2025, 1, 1, 7, 0, 0)) == 0  # not at 7
    assert deliverer.run_once(datetime(2025, 1, 1, 8, 15, 0)) == 1
    assert deliverer.run_once(datetime(2025, 1, 1, 8, 15, 0)) == 0  # fires once per moment
    assert receiver.delivered() == [[]]
    assert schedule_matches({"dayOfWeek": "1"}, datetime(2025, 1, 6, 0, 0, 0))  # a Monday
    assert not schedule_matches({"dayOfWeek": "1"}, datetime(2025, 1, 6, 0, 0, 1))


@pytest.mark.parametrize(
    "body",
    [
        {"dest": "https://example.org/h"},  # neither stream nor schedule
        {"dest": "https://example.org/h", "stream": True, "schedule": {"hour": "1"}},
        {"dest": "ftp://example.org/h", "stream": True},
        {"dest": "https://example.org/h", "schedule": {"hour": "25"}},
        {"dest": "https://example.org/h", "schedule": {"fortnight": "1"}},
    ],
)
def test_subscription_controls(client: TestClient, body: dict[str, Any]) -> None:
    client.post("/queries", json=QUERY)
    r = client.post("/queries/shipments/subscriptions", json=body)
    assert r.status_code == 400 and r.json()["type"] == "epcisException:SubscriptionControlsException"


def test_websocket_streams_new_events(client: TestClient) -> None:
    client.post("/queries", json=QUERY)
    with client.websocket_connect("/queries/shipments/events?stream=true") as ws:
        capture(client, document(events()[:2]))
        doc = orjson.loads(ws.receive_text())
        assert [e["eventID"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == [E[2]]
        assert doc["epcisBody"]["queryResults"]["queryName"] == "shipments"
        capture(client, document(events()[2:]))
        doc = orjson.loads(ws.receive_text())
        assert [e["eventID"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == [E[7]]
