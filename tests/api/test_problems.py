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


def test_a_body_over_the_limit_is_refused_before_it_is_read_whole() -> None:
    """At the ASGI level, where a chunked body arrives piece by piece (a test client would buffer it first)."""
    import asyncio

    from oretrail.api.app import BodyLimit
    from oretrail.errors import MAX_DOCUMENT_BYTES

    pulled, answers, reached = 0, [], []

    async def receive() -> dict[str, object]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 2**20, "more_body": pulled < 100}

    async def send(message: dict[str, object]) -> None:
        answers.append(message)

    async def app(scope: object, rcv: object, snd: object) -> None:
        reached.append(scope)

    limit = BodyLimit(app)  # type: ignore[arg-type]
    scope = {"type": "http", "method": "POST", "path": "/capture/registry", "headers": []}
    asyncio.run(limit(scope, receive, send))  # type: ignore[arg-type]
    assert answers[0]["status"] == 413 and not reached
    assert pulled == MAX_DOCUMENT_BYTES // 2**20 + 1  # stopped at the first chunk past the limit, not at 100
    declared = {**scope, "headers": [(b"content-length", str(MAX_DOCUMENT_BYTES + 1).encode())]}
    answers.clear()
    pulled = 0
    asyncio.run(limit(declared, receive, send))  # type: ignore[arg-type]
    assert answers[0]["status"] == 413 and pulled == 0
