"""Every error is a problem (RFC 9457) and every answer carries the security headers (issue 13 §1, 17 §4)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from oretrail.api.app import create_app
from tests.api.conftest import signed_in


def test_errors_are_problems_and_answers_carry_security_headers(tmp_path: Path) -> None:
    client = signed_in(TestClient(create_app(f"sqlite:///{tmp_path / 'p.db'}")))
    missing = client.get(f"/alerts/{'0' * 64}")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"].endswith("http-404") and missing.json()["status"] == 404
    invalid = client.post("/alerts/x/actions", json={"action": "fly"})
    body = invalid.json()
    assert invalid.status_code == 422 and invalid.headers["content-type"] == "application/problem+json"
    assert body["type"].endswith("validation") and any(e["field"] == "body.action" for e in body["errors"])
    nowhere = client.get("/no/such/route")
    assert nowhere.status_code == 404 and nowhere.json()["detail"] == "no resource at /no/such/route"
    for answer in (missing, invalid, client.get("/openapi.json")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "access-control-allow-origin" not in answer.headers
    cross = client.options(
        "/alerts", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in cross.headers
