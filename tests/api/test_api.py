"""The HTTP API over a real database: capture, refusal, trace, summary, verify, OpenAPI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.intake import builders as b


@pytest.fixture
def client(api: Api) -> TestClient:
    """Signed in as the central coordination office, which may do everything (tests/api/conftest.py)."""
    api.client.headers.update(api.headers("central"))
    return api.client


def chain() -> bytes:
    ore, conc = b.lot("ore-9"), b.lot("conc-9")
    return b.encode(
        b.document(
            b.mining([(ore, 500.0)], "w.ore", 0.005, location=b.SMELTER),
            b.smelting(inputs=[(ore, 500.0)], outputs=[(conc, 4.0)], material="w.concentrate", grade=0.55,
                       location=b.SMELTER),
        )
    )  # fmt: skip


def test_capture_then_trace(client: TestClient) -> None:
    doc = chain()
    r = client.post("/capture/events", content=doc, headers={"content-type": "application/ld+json"})
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["new"] == 2
    assert [o["outcome"] for o in r.json()["outcomes"]] == ["stored", "stored"]
    again = client.post("/capture/events", content=doc)
    unchanged = [{**o, "outcome": "unchanged"} for o in r.json()["outcomes"]]
    counts = {**r.json()["counts"], "new": 0, "unchanged": 2}
    assert again.json() == {**r.json(), "counts": counts, "alerts_new": 0, "outcomes": unchanged}
    t = client.get(f"/lots/{b.lot('conc-9')}/trace", params={"direction": "backward"})
    assert t.status_code == 200
    body = t.json()
    assert body["material"] == "w.concentrate"
    assert body["via"][0]["lots"][0]["lot"] == b.lot("ore-9")
    assert body["via"][0]["lots"][0]["origin"] == "mining"


def test_refusal_names_event_and_field(client: TestClient) -> None:
    bad = b.mining()
    bad["quantityList"][0]["uom"] = "LBR"
    r = client.post("/capture/events", content=b.encode(b.document(b.mining(), bad)), headers={"x-document-name": "d1"})
    assert r.status_code == 422
    d = r.json()
    assert r.headers["content-type"] == "application/problem+json" and "uom" in d["detail"]
    assert (d["document"], d["index"], d["field"]) == ("d1", 1, "quantityList[0].uom")
    assert client.get("/summary").json()[0] == {"what": "ledger records", "count": 0}


def test_unknown_lot_is_404(client: TestClient) -> None:
    assert client.get("/lots/urn:oretrail:lot:nothing/trace").status_code == 404


def test_verify_and_openapi(client: TestClient) -> None:
    client.post("/capture/events", content=chain())
    v = client.get("/ledger/verify").json()
    assert v["ok"] and v["records"] == 2 and v["checkpoints"] == 1
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/capture/events", "/alerts", "/alerts/{alert_id}/explain", "/summary"} <= set(paths)


def test_declaration_without_licence_alerts_at_intake(client: TestClient) -> None:
    decl = {
        "declaration_no": "530120250000000077",
        "date": "2025-06-03",
        "exporter": "urn:oretrail:party:uscc:91360700MA35F0AX28",
        "hs_code": "8112929010",
        "description": "gallium, unwrought",
        "net_kg": 50.0,
        "value_usd": 30000.0,
        "destination": "DE",
        "consignee": "Example Semiconductor GmbH",
        "port": "CNSZX",
        "licence_no": None,
    }
    import orjson

    r = client.post("/capture/declarations", content=orjson.dumps(decl) + b"\n")
    assert r.status_code == 200, r.text
    assert r.json()["alerts_new"] == 1
    (alert,) = client.get("/alerts", params={"rule": "licence.missing"}).json()
    assert alert["subject"] == {"kind": "declaration", "id": "530120250000000077"}
    explained = client.get(f"/alerts/{alert['id']}/explain").json()["explanation"]
    assert "cites no export licence" in explained
    acted = client.post(f"/alerts/{alert['id']}/actions", json={"action": "share", "department": "customs"})
    assert acted.json()["shared_with"] == ["customs"]
    history = client.get(f"/alerts/{alert['id']}").json()["state"]
    assert history["shared_with"] == ["customs"]
    bad = client.post("/capture/declarations", content=b'{"declaration_no": "1"}\n')
    assert bad.status_code == 422 and bad.json()["index"] == 1


def test_capture_without_the_signing_key_is_a_503_problem_and_stores_nothing(client: TestClient, api: Api) -> None:
    import os
    from pathlib import Path

    assert client.post("/capture/events", content=chain()).status_code == 200
    key = Path(os.environ["ORETRAIL_SIGNING_KEY"])
    key.unlink()
    r = client.post("/capture/events", content=b.encode(b.document(b.mining())))
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("signing-key") and str(key) not in r.text
    assert client.get("/summary").json()[0] == {"what": "ledger records", "count": 2}
    assert not key.exists()
