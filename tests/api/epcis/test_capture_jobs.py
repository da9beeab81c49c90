"""Capture jobs (rollback and proceed, limits, persistence across restarts), POST /events, discovery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert

from oretrail.storage.schema import capture_jobs
from tests.api.epcis.conftest import capture, event_ids, signed_in_as
from tests.api.epcis.dataset import CONTEXT, E, document, events


def _broken() -> list[dict[str, Any]]:
    """The dataset with two flaws: event 2's bizStep is no CBV word, event 5's quantity is text."""
    evs = events()
    evs[1]["bizStep"] = "teleporting"
    evs[4]["quantityList"] = [{"epcClass": "urn:epc:class:lgtin:0614141.107346.LA", "quantity": "ten", "uom": "KGM"}]
    return evs


def test_rollback_stores_nothing_and_lists_every_refusal(client: TestClient) -> None:
    job = capture(client, document(_broken()))
    assert (job["running"], job["success"], job["captureErrorBehaviour"]) == (False, False, "rollback")
    assert [(p["eventIndex"], p["eventID"], p["field"]) for p in job["errors"]] == [
        (1, E[2], "bizStep"),
        (4, E[5], "quantityList[0].quantity"),
    ]
    assert all(p["type"] == "epcisException:ValidationException" and p["detail"] for p in job["errors"])
    assert event_ids(client.get("/events")) == []
    assert "finishedAt" in job and "report" not in job


def test_proceed_stores_the_others(client: TestClient) -> None:
    job = capture(client, document(_broken()), "proceed")
    assert (job["running"], job["success"], job["captureErrorBehaviour"]) == (False, False, "proceed")
    assert [p["eventIndex"] for p in job["errors"]] == [1, 4]
    assert event_ids(client.get("/events")) == [E[n] for n in (1, 3, 4, 6, 7)]
    # the report's positions are those of the document as sent
    assert [o["index"] for o in job["report"]["outcomes"]] == [0, 2, 3, 5, 6]
    assert job["report"]["counts"]["new"] == 5


def test_proceed_leaves_out_a_rewrite_of_a_stored_event(client: TestClient) -> None:
    assert capture(client, document(events()[:1]))["success"]
    rewritten = {**events()[0], "disposition": "damaged"}
    job = capture(client, document([rewritten, events()[1]]), "proceed")
    assert [(p["eventIndex"], p["field"]) for p in job["errors"]] == [(0, "eventID")]
    assert event_ids(client.get("/events")) == [E[1], E[2]]
    again = capture(client, document([rewritten]), "rollback")
    assert again["success"] is False and "already stored" in again["errors"][0]["detail"]


def test_a_resent_document_is_a_successful_no_op(client: TestClient) -> None:
    assert capture(client, document(events()))["success"]
    job = capture(client, document(events()))
    assert job["success"] is True and job["report"]["counts"]["unchanged"] == 7
    assert len(event_ids(client.get("/events"))) == 7


def test_refusals_before_the_job(client: TestClient, app: FastAPI) -> None:
    app.state.epcis_capture_limit = 3
    r = client.post("/capture", json=document(events()))
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"] == "epcisException:CaptureLimitExceededException"
    assert r.headers["gs1-epcis-capture-limit"] == "3"
    assert client.options("/capture").headers["gs1-epcis-capture-limit"] == "3"
    assert client.post("/capture", json=document(events()[:3])).status_code == 202
    r = client.post("/capture", content=b"<xml/>", headers={"content-type": "application/xml"})
    assert r.status_code == 415 and r.json()["type"] == "epcisException:UnsupportedMediaTypeException"
    r = client.post("/capture", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and "line 1" in r.json()["detail"]
    r = client.post("/capture", json={"type": "ObjectEvent"})
    assert r.status_code == 400 and r.json()["type"] == "epcisException:ValidationException"
    r = client.post("/capture", json=document([]), headers={"GS1-Capture-Error-Behaviour": "sometimes"})
    assert r.status_code == 400 and "GS1-Capture-Error-Behaviour" in r.json()["detail"]


def test_jobs_survive_a_restart_and_interrupted_ones_say_so(new_app: Callable[[str], FastAPI]) -> None:
    first = new_app("shared")
    client = signed_in_as(TestClient(first))
    done = capture(client, document(events()[:2]))
    with first.state.engine.begin() as conn:  # a job the server was running when it stopped
        conn.execute(insert(capture_jobs).values(
            id="interrupted", feed="events", document="d", created_at=__import__("datetime").datetime(2025, 1, 1),
            running=True, success=True, error_behaviour="rollback", errors="[]",
        ))  # fmt: skip
    first.state.engine.dispose()
    with signed_in_as(TestClient(new_app("shared"))) as restarted:  # the lifespan marks interrupted jobs
        assert restarted.get(f"/capture/{done['captureID']}").json() == done
        gone = restarted.get("/capture/interrupted").json()
        assert (gone["running"], gone["success"]) == (False, False)
        assert gone["errors"][0]["type"] == "epcisException:ImplementationException"
        listed = restarted.get("/capture", params={"perPage": 1})
        assert len(listed.json()) == 1 and 'rel="next"' in listed.headers["link"]
        rest = restarted.get(listed.headers["link"].split(">")[0].lstrip("<")).json()
        assert [j["captureID"] for j in listed.json() + rest] == [done["captureID"], "interrupted"]
    assert signed_in_as(TestClient(new_app("shared"))).get("/capture/nope").status_code == 404


def test_post_one_event(client: TestClient) -> None:
    event = {"@context": CONTEXT, **events()[2]}
    r = client.post("/events", json=event)
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "events/urn%3Auuid%3A00000000-0000-4000-8000-000000000003"
    assert r.json()["eventID"] == E[3] and "recordTime" in r.json()
    assert event_ids(client.get("/" + r.headers["location"])) == [E[3]]
    again = client.post("/events", json=event)
    assert again.status_code == 409 and again.json()["type"] == "epcisException:ResourceAlreadyExistsException"
    changed = client.post("/events", json={**event, "bizStep": "shipping"})
    assert changed.status_code == 409 and "errorDeclaration" in changed.json()["detail"]
    bad = client.post("/events", json={**events()[3], "bizStep": "teleporting"})
    assert bad.status_code == 400
    assert (bad.json()["field"], bad.json()["eventID"]) == ("bizStep", E[4])
    # an event without eventID gets one derived from its content; sending it again is a conflict
    anonymous = {k: v for k, v in events()[6].items() if k != "eventID"}
    made = client.post("/events", json=anonymous)
    assert made.status_code == 201 and made.json()["eventID"].startswith("urn:oretrail:event:sha256:")
    assert client.post("/events", json=anonymous).status_code == 409


def test_discovery(client: TestClient) -> None:
    paths = (("/", "GET"), ("/capture", "POST"), ("/events", "POST"), ("/eventTypes", "GET"), ("/queries", "POST"),
             ("/capture/x", "GET"), ("/epcs/urn:epc:id:sgtin:1.2.3/events", "GET"))  # fmt: skip
    for path, allow in paths:
        r = client.options(path)
        assert r.status_code == 204 and r.content == b"", path
        assert allow in r.headers["allow"], path
        for header in ("gs1-epcis-version", "gs1-epcis-min", "gs1-epcis-max", "gs1-cbv-version", "gs1-cbv-min",
                       "gs1-cbv-max", "gs1-vendor-version", "gs1-epcis-capture-limit"):  # fmt: skip
            assert r.headers[header], (path, header)
    top = client.get("/").json()
    assert top["type"] == "Collection" and len(top["member"]) == 9
    assert client.get("//capture").status_code == 200  # a base URL ending in / joined with /capture
    assert client.get("/events", headers={"accept": "application/xml"}).status_code == 406
    assert client.get("/events", headers={"GS1-EPCIS-Min": "3.0.0"}).status_code == 406
    assert client.get("/events", headers={"GS1-EPCIS-Min": "1.2.0", "GS1-EPCIS-Max": "2.0.0"}).status_code == 200
    nothing = client.get("/nowhere/at/all")
    assert nothing.status_code == 404
    missing = client.get("/queries/none/subscriptions/x")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


def test_our_other_feeds_keep_their_routes(client: TestClient) -> None:
    r = client.post("/capture/events", content=orjson.dumps(document(events()[:1])))
    assert r.status_code == 200 and r.json()["counts"]["new"] == 1
    bad = client.post("/capture/events", content=b"{}")
    assert bad.status_code == 422 and bad.json()["field"] == "type"
    # events loaded through our own route are events of the binding too
    assert event_ids(client.get("/events")) == [E[1]]


def test_a_jobs_departures_read_in_the_askers_language(client: TestClient) -> None:
    """Departures from the stage profile are kept with the job as messages: the same job reads in English or
    Chinese, by whoever asks."""
    job = capture(client, document(events()))
    location = f"/capture/{job['captureID']}"
    en = client.get(location, headers={"Accept-Language": "en"}).json()["report"]["outcomes"]
    zh = client.get(location, headers={"Accept-Language": "zh-CN"}).json()["report"]["outcomes"]
    departed = [(o["index"], o["departures"]) for o in en if o["departures"]]
    assert departed, en  # the binding's examples name no ot:stage: the ones that move goods depart
    assert [(o["index"], [f for f, _ in o["departures"]]) for o in zh if o["departures"]] == [
        (i, [f for f, _ in d]) for i, d in departed
    ]
    reasons_zh = {why for o in zh if o["departures"] for _, why in o["departures"]}
    reasons_en = {why for _, d in departed for _, why in d}
    assert "missing: every event that moves goods names its stage" in reasons_en
    assert "缺失：每个移动货物的事件都应注明其环节" in reasons_zh
    assert not any("event" in why for why in reasons_zh), reasons_zh
