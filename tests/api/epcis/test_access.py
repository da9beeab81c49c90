"""The binding joined to identity and access: who may capture what (event by event), who sees which events,
jobs, named queries and subscriptions, what a webhook or a websocket of an enterprise carries, and the
binding's SecurityException for a missing identity or a denial.

Two enterprises in two provinces (tests/api/conftest.py): ent-1 owns MINE_1 and SMELTER_1 in Jiangxi,
ent-2 owns MINE_2 in Hunan. The app's lifespan is not entered, so webhooks are delivered only when a test
drives the deliverer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from starlette.testclient import WebSocketDenialResponse

from oretrail.access.tokens import issue_access
from oretrail.access.users import add_user, disable_user
from oretrail.api.epcis.subscriptions import Deliverer
from oretrail.storage.schema import audit
from tests.api.conftest import ACCOUNTS, MINE_1, MINE_2, REGISTRY, SMELTER_1
from tests.api.epcis.conftest import event_ids
from tests.api.epcis.dataset import CONTEXT, document
from tests.api.epcis.test_subscriptions import Receiver

SECURITY = "epcisException:SecurityException"
SGTIN = "urn:epc:id:sgtin:6901234.000001."


def observed(n: int, place: str, **fields: Any) -> dict[str, Any]:
    """An ObjectEvent of one EPC (`SGTIN<n>`) at `place`."""
    return {"type": "ObjectEvent", "eventID": f"urn:uuid:aaaaaaaa-0000-4000-8000-{n:012d}",
            "eventTime": f"2025-04-{n:02d}T08:00:00Z", "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
            "bizStep": "inspecting", "epcList": [f"{SGTIN}{n}"], "bizLocation": {"id": place}, **fields}  # fmt: skip


# ent-1's events (Jiangxi) and ent-2's (Hunan)
AT_MINE_1, AT_SMELTER_1, AT_MINE_2 = observed(1, MINE_1), observed(2, SMELTER_1), observed(3, MINE_2)
ID = {n: observed(n, "")["eventID"] for n in range(1, 10)}


@dataclass
class Site:
    app: FastAPI
    engine: Engine

    def client(self, name: str | None) -> TestClient:
        """A client signed in as account `name` of ACCOUNTS (None: no identity)."""
        client = TestClient(self.app)
        if name is not None:
            token = issue_access(self.app.state.token_key, name, ACCOUNTS[name][0])
            client.headers["Authorization"] = f"Bearer {token}"
        return client

    def capture(self, name: str, evs: list[dict[str, Any]], behaviour: str = "rollback") -> dict[str, Any]:
        client = self.client(name)
        r = client.post("/capture", json=document(evs), headers={"GS1-Capture-Error-Behaviour": behaviour})
        assert r.status_code == 202, r.text
        job = client.get("/" + r.headers["location"])
        assert job.status_code == 200, job.text
        return job.json()  # type: ignore[no-any-return]

    def stored(self) -> list[str]:
        return event_ids(self.client("central").get("/events", params={"perPage": 1000}))


@pytest.fixture
def site(app: FastAPI) -> Site:
    engine: Engine = app.state.engine
    with engine.begin() as conn:
        for name, (role, province, department, parties) in ACCOUNTS.items():
            add_user(conn, name, role, password=None, province=province, department=department, parties=parties)
    s = Site(app, engine)
    assert s.client("central").post("/capture/registry", content=REGISTRY).status_code == 200
    return s


def _audited(site: Site, **where: Any) -> list[Any]:
    with site.engine.connect() as conn:
        q = select(audit).where(*(getattr(audit.c, k) == v for k, v in where.items()))
        return list(conn.execute(q))


# --- capture ------------------------------------------------------------------------------------------
def test_a_capture_job_at_another_enterprise_facility_fails_that_event_and_rolls_back(site: Site) -> None:
    job = site.capture("ent-1", [AT_MINE_1, AT_MINE_2, AT_SMELTER_1])
    assert (job["running"], job["success"], job["owner"]) == (False, False, "ent-1")
    [refusal] = job["errors"]
    assert (refusal["eventIndex"], refusal["eventID"], refusal["field"], refusal["status"]) == (
        1, ID[3], "bizLocation", 403,
    )  # fmt: skip
    assert refusal["type"] == SECURITY and refusal["pointer"] == "/epcisBody/eventList/1/bizLocation"
    assert MINE_2 in refusal["detail"] and "not to" in refusal["reason"]
    assert site.stored() == []  # rollback: nothing stored
    # the request was allowed (202); what its job refused is in the audit log too
    [denied] = _audited(site, actor="ent-1", outcome="denied")
    assert (denied.action, denied.kind, denied.object, denied.status) == ("capture", "event", job["captureID"], 403)


def test_proceed_leaves_out_the_events_at_another_enterprise_facility(site: Site) -> None:
    job = site.capture("ent-1", [AT_MINE_1, AT_MINE_2, AT_SMELTER_1], "proceed")
    assert [(p["eventIndex"], p["type"]) for p in job["errors"]] == [(1, SECURITY)]
    assert job["report"]["counts"]["new"] == 2
    assert [o["index"] for o in job["report"]["outcomes"]] == [0, 2]
    assert site.stored() == [ID[1], ID[2]]


def test_every_refusal_is_listed_whether_the_event_is_invalid_or_not_the_caller_s(site: Site) -> None:
    broken = {**AT_SMELTER_1, "bizStep": "teleporting"}
    job = site.capture("ent-1", [broken, AT_MINE_2, AT_MINE_1])
    assert [(p["eventIndex"], p["status"], p["field"]) for p in job["errors"]] == [
        (0, 400, "bizStep"),
        (1, 403, "bizLocation"),
    ]
    assert site.stored() == []
    # an event at a place the registry does not know is not known to be the enterprise's
    unknown = observed(4, "urn:epc:id:sgln:0614141.00888.0")
    job = site.capture("ent-1", [unknown])
    assert job["errors"][0]["status"] == 403 and "not in the registry" in job["errors"][0]["reason"]


def test_the_central_office_captures_anywhere(site: Site) -> None:
    assert site.capture("central", [AT_MINE_1, AT_MINE_2])["success"] is True
    assert site.stored() == [ID[1], ID[3]]


def test_post_events_refuses_an_event_at_another_enterprise_facility(site: Site) -> None:
    ent1 = site.client("ent-1")
    r = ent1.post("/events", json={"@context": CONTEXT, **AT_MINE_2})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == SECURITY and body["eventID"] == ID[3] and body["field"] == "bizLocation"
    assert MINE_2 in body["detail"] and "event 0" in body["detail"]
    assert site.stored() == []
    assert _audited(site, actor="ent-1", outcome="denied")[0].status == 403
    assert ent1.post("/events", json={"@context": CONTEXT, **AT_MINE_1}).status_code == 201
    assert site.stored() == [ID[1]]
    # an invalid event is still a 400 naming its field, not a denial
    bad = ent1.post("/events", json={**AT_MINE_2, "eventID": ID[5], "bizStep": "teleporting"})
    assert bad.status_code == 400 and bad.json()["field"] == "bizStep"


def test_who_may_capture_at_all(site: Site) -> None:
    for name in ("admin", "jx-commerce", "jx-inspector", "commerce"):  # no permission to capture events
        client = site.client(name)
        for path in ("/capture", "/events"):
            r = client.post(path, json=document([AT_MINE_1]) if path == "/capture" else AT_MINE_1)
            assert r.status_code == 403 and r.json()["type"] == SECURITY, (name, path, r.text)
            assert "may not capture event" in r.json()["detail"]
    assert site.stored() == []


# --- what each caller sees -----------------------------------------------------------------------------
def test_an_enterprise_never_sees_another_enterprise_events_or_epcs(site: Site) -> None:
    assert site.capture("central", [AT_MINE_1, AT_SMELTER_1, AT_MINE_2])["success"] is True
    ent1, ent2 = site.client("ent-1"), site.client("ent-2")
    assert event_ids(ent1.get("/events")) == [ID[1], ID[2]]
    assert event_ids(ent2.get("/events")) == [ID[3]]
    assert ent1.get("/epcs").json()["member"] == [f"{SGTIN}1", f"{SGTIN}2"]
    assert ent2.get("/epcs").json()["member"] == [f"{SGTIN}3"]
    assert ent1.get("/bizLocations").json()["member"] == sorted([MINE_1, SMELTER_1])
    # another's event is not found, as a missing one; filtering by its EPC or place finds nothing
    assert ent1.get(f"/events/{ID[3]}").status_code == 404
    assert ent2.get(f"/events/{ID[3]}").status_code == 200
    assert event_ids(ent1.get(f"/epcs/{SGTIN}3/events")) == []
    assert event_ids(ent1.get("/events", params={"EQ_bizLocation": MINE_2})) == []
    assert event_ids(ent1.get("/events", params={"MATCH_anyEPC": f"{SGTIN}3"})) == []
    # pages are cut in the database: a page of one never comes back empty because of another's events
    page = ent2.get("/events", params={"perPage": 1})
    assert event_ids(page) == [ID[3]] and "link" not in page.headers
    # a provincial officer sees their province's events
    assert event_ids(site.client("jx-commerce").get("/events")) == [ID[1], ID[2]]
    assert event_ids(site.client("hn-commerce").get("/events")) == [ID[3]]
    assert event_ids(site.client("central").get("/events")) == [ID[1], ID[2], ID[3]]


def test_capture_jobs_are_their_owner_s(site: Site) -> None:
    mine = site.capture("ent-1", [AT_MINE_1])["captureID"]
    theirs = site.capture("ent-2", [AT_MINE_2])["captureID"]
    central = site.capture("central", [AT_SMELTER_1])["captureID"]
    assert [j["captureID"] for j in site.client("ent-1").get("/capture").json()] == [mine]
    assert [j["captureID"] for j in site.client("ent-2").get("/capture").json()] == [theirs]
    assert {j["captureID"] for j in site.client("central").get("/capture").json()} == {mine, theirs, central}
    for other in (theirs, central):
        r = site.client("ent-1").get(f"/capture/{other}")
        assert r.status_code == 404 and r.json()["type"] == "epcisException:NoSuchNameException"
    assert site.client("central").get(f"/capture/{mine}").json()["owner"] == "ent-1"
    # a provincial officer may read events but has started no job
    assert site.client("jx-commerce").get("/capture").json() == []


def test_named_queries_are_their_owner_s(site: Site) -> None:
    ent1, ent2, central = site.client("ent-1"), site.client("ent-2"), site.client("central")
    query = {"name": "ours", "query": {"eventType": ["ObjectEvent"]}}
    assert ent1.post("/queries", json=query).status_code == 201
    assert ent2.post("/queries", json=query).status_code == 409  # one namespace of names
    assert ent2.get("/queries").json() == []
    for path in ("/queries/ours", "/queries/ours/events", "/queries/ours/subscriptions"):
        assert ent2.get(path).status_code == 404, path
    assert ent2.delete("/queries/ours").status_code == 404
    assert (
        ent2.post("/queries/ours/subscriptions", json={"dest": "https://example.org/h", "stream": True}).status_code
        == 404
    )
    assert [q["name"] for q in ent1.get("/queries").json()] == ["ours"]
    assert [q["name"] for q in central.get("/queries").json()] == ["ours"]
    # what a query returns is what its reader may see
    assert site.capture("central", [AT_MINE_1, AT_MINE_2])["success"] is True
    assert event_ids(ent1.get("/queries/ours/events")) == [ID[1]]
    assert event_ids(central.get("/queries/ours/events")) == [ID[1], ID[3]]
    assert ent1.delete("/queries/ours").status_code == 204


def test_an_enterprise_webhook_delivers_only_its_own_events_while_its_owner_may_sign_in(site: Site) -> None:
    receiver = Receiver()
    try:
        ent1, central = site.client("ent-1"), site.client("central")
        assert ent1.post("/queries", json={"name": "all", "query": {}}).status_code == 201
        body = {"dest": receiver.url, "stream": True, "initialRecordTime": "2000-01-01T00:00:00Z"}
        r = ent1.post("/queries/all/subscriptions", json=body)
        assert r.status_code == 201 and r.json()["owner"] == "ent-1"
        sub = r.json()["subscriptionID"]
        # the central office sees the subscription; ent-2 sees neither the query nor it
        assert [s["subscriptionID"] for s in central.get("/queries/all/subscriptions").json()] == [sub]
        assert site.client("ent-2").get(f"/queries/all/subscriptions/{sub}").status_code == 404
        assert site.capture("central", [AT_MINE_1, AT_MINE_2, AT_SMELTER_1])["success"] is True
        deliverer = Deliverer(site.engine)
        assert deliverer.run_once() == 1
        assert receiver.delivered() == [[ID[1], ID[2]]]
        # the owner is read at every delivery: disabled, it gets nothing, and its position stays
        with site.engine.begin() as conn:
            disable_user(conn, "ent-1")
        assert site.capture("central", [observed(5, MINE_1)])["success"] is True
        assert deliverer.run_once() == 0 and len(receiver.received) == 1
    finally:
        receiver.server.shutdown()


def _handshake(client: TestClient) -> WebSocketDenialResponse:
    try:
        client.websocket_connect("/queries/all/events?stream=true").__enter__()
    except WebSocketDenialResponse as refused:
        return refused
    raise AssertionError("the handshake was accepted")


def test_a_websocket_signs_in_and_streams_only_what_its_caller_may_see(site: Site) -> None:
    ent1 = site.client("ent-1")
    assert ent1.post("/queries", json={"name": "all", "query": {}}).status_code == 201
    refused = _handshake(site.client(None))
    assert refused.status_code == 401 and refused.json()["type"] == SECURITY
    assert "Basic" in refused.headers["www-authenticate"]
    denied = _handshake(site.client("admin"))
    assert denied.status_code == 403 and denied.json()["type"] == SECURITY
    assert _handshake(site.client("ent-2")).status_code == 404  # another's query is not found
    with ent1.websocket_connect("/queries/all/events?stream=true") as ws:
        assert site.capture("central", [AT_MINE_2, AT_MINE_1])["success"] is True
        doc = orjson.loads(ws.receive_text())
        assert [e["eventID"] for e in doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"]] == [ID[1]]
    handshakes = [r for r in _audited(site, kind="event") if r.detail.startswith("WEBSOCKET")]
    assert [(r.actor, r.outcome) for r in handshakes] == [
        (None, "unauthenticated"), ("admin", "denied"), ("ent-2", "refused"), ("ent-1", "allowed"),
    ]  # fmt: skip


# --- problems -----------------------------------------------------------------------------------------
def test_a_missing_identity_or_a_denial_is_the_binding_s_security_exception(site: Site) -> None:
    anonymous = site.client(None)
    for method, path in (("GET", "/events"), ("POST", "/capture"), ("OPTIONS", "/capture"), ("GET", "/"),
                         ("GET", "/queries/x/subscriptions"), ("GET", "/capture/x")):  # fmt: skip
        r = anonymous.request(method, path)
        assert r.status_code == 401, (method, path)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == SECURITY and r.json()["detail"], (method, path)
        assert r.headers["www-authenticate"].startswith("Bearer")
    wrong = anonymous.get("/events", headers={"Authorization": "Bearer nonsense"})
    assert wrong.status_code == 401 and wrong.json()["type"] == SECURITY
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    denied = site.client("admin").get("/events")
    assert denied.status_code == 403 and denied.json()["type"] == SECURITY
    assert "may not read event records" in denied.json()["detail"]
    # our own routes keep the platform's problem types
    ours = anonymous.post("/capture/registry", content=REGISTRY)
    assert ours.status_code == 401 and ours.json()["type"].endswith("/unauthenticated")
    assert anonymous.get("/alerts").json()["type"].endswith("/unauthenticated")
