"""Each query parameter of the binding against a small dataset with known answers (tests/api/epcis/dataset.py):
which events come back, and in which order."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.epcis.conftest import capture, event_ids
from tests.api.epcis.dataset import (
    L1,
    LOT_A,
    LOT_B,
    LOT_X,
    PALLET,
    RP1,
    RP2,
    SGTIN,
    E,
    correction,
    document,
    events,
)

DECLARED = "declared"  # the errorDeclaration record of event 2 (it is listed after event 7, in capture order)


@pytest.fixture
def loaded(client: TestClient) -> TestClient:
    assert capture(client, document(events()))["success"] is True
    assert capture(client, document([correction()]))["success"] is True
    return client


def ids(client: TestClient, params: dict[str, Any], path: str = "/events") -> list[str | int]:
    """The events returned, as the numbers of the dataset (`declared` for event 2's errorDeclaration)."""
    r = client.get(path, params={"perPage": 100, **params})
    assert r.status_code == 200, r.text
    listed = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return [DECLARED if "errorDeclaration" in e else next(k for k, v in E.items() if v == e["eventID"]) for e in listed]


CASES: list[tuple[dict[str, Any], list[str | int]]] = [
    ({}, [1, 2, 3, 4, 5, 6, 7, DECLARED]),
    ({"eventType": "AggregationEvent|TransactionEvent"}, [3, 5]),
    ({"eventType": ["AssociationEvent", "TransformationEvent"]}, [4, 6]),
    ({"GE_eventTime": "2025-01-03T10:00:00Z", "LT_eventTime": "2025-01-05T10:00:00Z"}, [3, 4]),
    ({"GE_eventTime": "2025-01-06T11:00:00+01:00"}, [6, 7]),
    ({"EQ_action": "DELETE|ADD"}, [1, 3, 5, 6, 7]),
    ({"EQ_bizStep": "commissioning"}, [1, 4]),  # a bare word, a web IRI
    ({"EQ_bizStep": "urn:epcglobal:cbv:bizstep:packing"}, [3]),  # EPCIS 1.x spellings fold alike
    ({"EQ_bizStep": "shipping|receiving"}, [2, 5, DECLARED]),
    ({"EQ_disposition": "in_transit"}, [2, DECLARED]),
    ({"EQ_persistentDisposition_set": "completeness_verified"}, [1]),
    ({"EQ_persistentDisposition_unset": "completeness_verified"}, []),
    ({"EQ_readPoint": RP2}, [5, 7]),
    ({"WD_readPoint": RP1}, [1, 2, DECLARED]),
    ({"EQ_bizLocation": L1}, [1]),
    ({"WD_bizLocation": L1}, [1]),
    ({"EQ_transformationID": "urn:uuid:11111111-2222-4333-8444-555555555555"}, [4]),
    ({"MATCH_epc": SGTIN + "2"}, [1, 2, 7, DECLARED]),
    ({"MATCH_epc": SGTIN + "3"}, [3]),  # childEPCs count as epc
    ({"MATCH_epc": "urn:epc:idpat:sgtin:0614141.107346.*"}, [1, 2, 3, 5, 7, DECLARED]),
    ({"MATCH_parentID": PALLET}, [3]),
    ({"MATCH_inputEPC": SGTIN + "1"}, [4]),
    ({"MATCH_outputEPC": "urn:epc:id:sgtin:4012345.011111.9"}, [4]),
    ({"MATCH_anyEPC": SGTIN + "1"}, [1, 4]),
    ({"MATCH_anyEPC": PALLET}, [3]),
    ({"MATCH_epcClass": LOT_A}, [1]),
    ({"MATCH_epcClass": LOT_B}, [3]),  # childQuantityList
    ({"MATCH_epcClass": "urn:epc:idpat:sgtin:0614141.*.*"}, [1, 3]),  # a pattern matches LGTIN classes
    ({"MATCH_inputEPCClass": LOT_A}, [4]),
    ({"MATCH_outputEPCClass": LOT_X}, [4]),
    ({"MATCH_anyEPCClass": LOT_A}, [1, 4]),
    ({"EQ_quantity": 100}, [1]),
    ({"GT_quantity": 20}, [1, 4]),
    ({"GE_quantity": 20}, [1, 4]),
    ({"LT_quantity": 20}, [3]),
    ({"LE_quantity": 20}, [3, 4]),
    ({"EQ_eventID": f"{E[3]}|{E[6]}"}, [3, 6]),
    ({"EXISTS_errorDeclaration": "true"}, [DECLARED]),
    ({"EXISTS_errorDeclaration": "false"}, [1, 2, 3, 4, 5, 6, 7, DECLARED]),
    ({"GE_errorDeclarationTime": "2025-01-15T00:00:00Z"}, [DECLARED]),
    ({"LT_errorDeclarationTime": "2025-01-15T00:00:00Z"}, []),
    ({"EQ_errorReason": "incorrect_data"}, [DECLARED]),
    ({"EQ_errorReason": "did_not_occur"}, []),
    ({"EQ_correctiveEventID": E[7]}, [DECLARED]),
    ({"GE_startTime": "2025-01-01T08:00:00Z"}, [1]),
    ({"LT_startTime": "2025-01-01T08:00:00Z"}, []),
    ({"GE_endTime": "2025-01-01T10:00:00Z"}, []),
    ({"LT_endTime": "2025-01-01T10:00:00Z"}, [1]),
    ({"EQ_type": "Humidity"}, [1]),  # gs1:Humidity folds to the bare word
    ({"EQ_type": "Temperature|Pressure"}, [1]),
    ({"EQ_type": "Pressure"}, []),
    ({"EQ_deviceID": "urn:epc:id:giai:4000001.111"}, [1]),
    ({"EQ_dataProcessingMethod": "https://example.org/m"}, []),
    ({"EQ_microorganism": "https://example.org/m"}, []),
    ({"EQ_chemicalSubstance": "https://example.org/c"}, []),
    ({"EQ_bizRules": "https://example.org/rules/1"}, [1]),
    ({"EQ_stringValue": "dry"}, [1]),
    ({"EQ_hexBinaryValue": "0A"}, []),
    ({"EQ_uriValue": "https://example.org/u"}, []),
    ({"EQ_booleanValue": "true"}, [1]),
    ({"EQ_booleanValue": "false"}, []),
    ({"EQ_bizTransaction_inv": "urn:epcglobal:cbv:bt:0614141073467:I1"}, [5]),
    ({"EQ_source_owning_party": "urn:epc:id:pgln:0614141.00001"}, [1]),
    ({"EQ_destination_owning_party": "urn:epc:id:pgln:0614141.00001"}, []),
    ({"orderBy": "eventTime"}, [7, 6, 5, 4, 3, DECLARED, 2, 1]),  # DESC by default, ties too
    ({"orderBy": "eventTime", "orderDirection": "ASC"}, [1, 2, DECLARED, 3, 4, 5, 6, 7]),
    ({"orderBy": "eventTime", "orderDirection": "DESC", "eventCountLimit": 2}, [7, 6]),
    ({"orderBy": "recordTime", "orderDirection": "ASC", "eventCountLimit": 3}, [1, 2, 3]),
    ({"maxEventCount": 8}, [1, 2, 3, 4, 5, 6, 7, DECLARED]),
    ({"eventType": "ObjectEvent", "EQ_bizStep": "shipping", "EXISTS_errorDeclaration": "true"}, [DECLARED]),
]


@pytest.mark.parametrize(("params", "expected"), CASES, ids=[" ".join(sorted(p)) or "none" for p, _ in CASES])
def test_parameter(loaded: TestClient, params: dict[str, Any], expected: list[str | int]) -> None:
    assert ids(loaded, params) == expected


def test_every_fixed_name_parameter_of_the_binding_is_tested(shared_dir: Any) -> None:
    import json

    binding = json.loads((shared_dir / "epcis/rest/openapi.json").read_text())
    names = {
        p["name"]
        for p in binding["components"]["parameters"].values()
        if p.get("in") == "query" and p["name"] not in ("perPage", "nextPageToken")
    }
    subscription_controls = {"second", "minute", "hour", "dayOfMonth", "month", "dayOfWeek", "reportIfEmpty",
                             "stream", "initialRecordTime"}  # fmt: skip
    tested = {name for params, _ in CASES for name in params} | {"GE_recordTime", "LT_recordTime"}  # below
    assert names - subscription_controls - tested == set()


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"EQ_action": "MOVE"}, "EQ_action"),
        ({"orderBy": "quantity"}, "orderBy"),
        ({"orderDirection": "UP", "orderBy": "eventTime"}, "orderDirection"),
        ({"eventCountLimit": 2}, "eventCountLimit"),  # needs orderBy
        ({"eventCountLimit": 2, "maxEventCount": 3, "orderBy": "eventTime"}, "eventCountLimit"),
        ({"GE_eventTime": "yesterday"}, "GE_eventTime"),
        ({"GT_quantity": "many"}, "GT_quantity"),
        ({"EXISTS_errorDeclaration": "perhaps"}, "EXISTS_errorDeclaration"),
        ({"EQ_ILMD_ex:grade": "1"}, "EQ_ILMD_ex:grade"),
        ({"color": "red"}, "color"),
        ({"perPage": "many"}, "perPage"),
    ],
)
def test_bad_parameters_are_named(loaded: TestClient, params: dict[str, Any], parameter: str) -> None:
    r = loaded.get("/events", params=params)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == "epcisException:QueryParameterException"
    assert body["parameter"] == parameter and parameter in body["detail"]


def test_record_time(loaded: TestClient) -> None:
    """The correction was captured by a later job: its recordTime splits the two captures."""
    declared = loaded.get("/events", params={"EXISTS_errorDeclaration": "true"}).json()
    at = declared["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]["recordTime"]
    assert ids(loaded, {"GE_recordTime": at}) == [DECLARED]
    assert ids(loaded, {"LT_recordTime": at}) == [1, 2, 3, 4, 5, 6, 7]
    assert ids(loaded, {"orderBy": "recordTime", "eventCountLimit": 1}) == [DECLARED]


def test_max_event_count_exceeded(loaded: TestClient) -> None:
    r = loaded.get("/events", params={"maxEventCount": 3})
    assert r.status_code == 413
    assert r.json()["type"] == "epcisException:QueryTooLargeException"


def test_pages_follow_link_next_without_skipping_or_repeating(loaded: TestClient) -> None:
    for params in ({}, {"orderBy": "eventTime", "orderDirection": "ASC"}, {"orderBy": "eventTime"},
                   {"orderBy": "eventTime", "eventCountLimit": 5}):  # fmt: skip
        whole = ids(loaded, params)
        got: list[str] = []
        url: str | None = "/events"
        query: dict[str, Any] | None = {"perPage": 3, **params}
        pages = 0
        while url is not None:
            r = loaded.get(url, params=query)
            got += event_ids(r)
            pages += 1
            link = r.headers.get("link")
            url, query = (link.split(">", 1)[0].lstrip("<"), None) if link else (None, None)
            if link:
                assert link.endswith('rel="next"')
        assert len(got) == len(whole)
        assert pages == -(-len(whole) // 3)
        assert [next(k for k, v in E.items() if v == g) for g in got] == [2 if w == DECLARED else w for w in whole]


def test_a_bad_page_token_is_refused(loaded: TestClient) -> None:
    r = loaded.get("/events", params={"nextPageToken": "not-a-token"})
    assert r.status_code == 400 and r.json()["type"] == "epcisException:ValidationException"


def test_browse_resources_and_their_events(loaded: TestClient) -> None:
    assert ids(loaded, {}, f"/epcs/{SGTIN}2/events") == [1, 2, 7, DECLARED]
    assert ids(loaded, {}, "/bizSteps/shipping/events") == [2, DECLARED]
    assert ids(loaded, {"EXISTS_errorDeclaration": "true"}, "/bizSteps/shipping/events") == [DECLARED]
    assert ids(loaded, {}, f"/readPoints/{RP2}/events") == [5, 7]
    assert ids(loaded, {}, f"/bizLocations/{L1}/events") == [1]
    assert ids(loaded, {}, "/dispositions/in_progress/events") == [5]
    assert ids(loaded, {}, "/eventTypes/TransformationEvent/events") == [4]
    epcs = loaded.get("/epcs").json()
    assert epcs["type"] == "Collection" and PALLET in epcs["member"] and SGTIN + "4" in epcs["member"]
    assert loaded.get("/readPoints").json()["member"] == [RP1, RP2]
    assert loaded.get("/bizLocations").json()["member"] == sorted([L1, "urn:epc:id:sgln:0614141.00999.0"])
    assert "shipping" in loaded.get("/bizSteps", params={"perPage": 100}).json()["member"]
    assert "in_transit" in loaded.get("/dispositions", params={"perPage": 100}).json()["member"]
    types = loaded.get("/eventTypes").json()["member"]
    assert sorted(types) == sorted(["ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                                    "AssociationEvent"])  # fmt: skip
    for path in ("/eventTypes/ObjectEvent", f"/epcs/{SGTIN}2", "/bizSteps/shipping", f"/readPoints/{RP1}"):
        assert loaded.get(path).json()["member"] == ["events"], path
    assert loaded.get("/eventTypes/NoSuchEvent").status_code == 404


def test_browse_lists_page(loaded: TestClient) -> None:
    members: list[str] = []
    r = loaded.get("/bizSteps", params={"perPage": 10})
    while True:
        members += r.json()["member"]
        if "link" not in r.headers:
            break
        r = loaded.get(r.headers["link"].split(">", 1)[0].lstrip("<"))
    assert len(members) == len(set(members)) == 41 and members == sorted(members)


def test_one_event_with_its_declaration(loaded: TestClient) -> None:
    r = loaded.get(f"/events/{E[2]}")
    listed = r.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [("errorDeclaration" in e) for e in listed] == [False, True]
    assert all(e["recordTime"].endswith("Z") for e in listed)
    assert loaded.get("/events/urn:uuid:nothing").status_code == 404
    # an eventID with slashes and a query part, percent-encoded
    from urllib.parse import quote

    missing = loaded.get("/events/" + quote("ni:///sha-256;abc?ver=CBV2.0", safe=""))
    assert missing.status_code == 404 and missing.json()["type"] == "epcisException:NoSuchNameException"
