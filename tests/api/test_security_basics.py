"""Issue 17 §4, the points the other tests do not reach: the security headers on every kind of answer (static
files, pages, 401, 413, 429, an unexpected 500), CORS closed on every route, and every form post of the pages
refusing a request from another site before it does anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from oretrail.access.tokens import issue_access
from oretrail.api.app import SecurityHeaders, create_app
from oretrail.errors import MAX_DOCUMENT_BYTES
from tests.api.conftest import Api

HEADERS = {name.decode(): value.decode() for name, value in SecurityHeaders.HEADERS}


# What a page may set instead of ours: a referrer kept within the platform's own origin (web/render.py).
OWN = {"referrer-policy": {"same-origin"}}


def _has_headers(answer: object, what: str) -> None:
    """Each header once (two conflicting values would leave the choice to the browser), with our value or
    the page's own stricter-than-default one."""
    raw = [(k.decode().lower(), v.decode()) for k, v in answer.headers.raw]  # type: ignore[attr-defined]
    for name, value in HEADERS.items():
        values = [v for k, v in raw if k == name]
        assert len(values) == 1 and values[0] in {value, *OWN.get(name, ())}, (what, name, values)
    assert not any(k.startswith("access-control-") for k, _ in raw), what


def test_every_kind_of_answer_carries_the_security_headers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))
    app = create_app(f"sqlite:///{tmp_path / 's.db'}")

    @app.get("/__boom", include_in_schema=False)
    def boom() -> None:  # an unexpected failure inside a route
        raise RuntimeError("boom")

    token = issue_access(app.state.token_key, "nobody", "central")
    with TestClient(app, raise_server_exceptions=False, base_url="http://127.0.0.1") as client:
        answers = {
            "static file": client.get("/web/static/web.css"),
            "page": client.get("/web/signin"),
            "401": client.get("/alerts"),
            "401 bad token": client.get("/alerts", headers={"Authorization": "Bearer nonsense"}),
            "413": client.post("/capture/registry", headers={"Content-Length": str(MAX_DOCUMENT_BYTES + 1)}),
            "405": client.put("/openapi.json"),
            "500": client.get("/__boom", headers={"Authorization": f"Bearer {token}"}),
            "EPCIS problem": client.get("/events/nope", headers={"Authorization": f"Bearer {token}"}),
        }
        for _ in range(12):  # wrong passwords until the throttle answers
            guess = client.post("/auth/token", data={"grant_type": "password", "username": "x", "password": "y"})
            if guess.status_code == 429:
                break
        answers["429"] = guess
    assert answers["static file"].status_code == 200 and answers["413"].status_code == 413
    assert answers["500"].status_code == 500 and answers["429"].status_code == 429
    for what, answer in answers.items():
        _has_headers(answer, what)


def _routes(routes: list[Any]) -> Iterator[Route]:
    """Every route of the app, through the routers it includes."""
    for r in routes:
        inner = getattr(r, "original_router", None)  # FastAPI keeps an included router whole
        if inner is not None:
            yield from _routes(inner.routes)
        elif isinstance(r, Route):
            yield r


def test_cors_stays_closed_on_every_route(api: Api) -> None:
    """No route, preflight or plain, names an origin that may read it."""
    paths = {re.sub(r"\{[^}]+\}", "x", r.path) for r in _routes(api.client.app.routes)}  # type: ignore[attr-defined]
    assert len(paths) > 50
    origin = {"Origin": "https://evil.example"}
    for path in sorted(paths):
        pre = api.client.options(path, headers={**origin, "Access-Control-Request-Method": "POST"})
        plain = api.get("central", path, headers=origin)
        for answer in (pre, plain):
            assert not any(h.startswith("access-control-") for h in answer.headers), (path, dict(answer.headers))


def test_every_form_post_of_the_pages_refuses_another_site(api: Api) -> None:
    """Each POST under /web is refused (403) when its Origin or Sec-Fetch-Site names another site, for a
    signed-in officer, before it reads its form; the same post from the platform's own origin is not refused
    for that reason."""
    posts = sorted(
        {re.sub(r"\{[^}]+\}", "x", r.path) for r in _routes(api.client.app.routes)  # type: ignore[attr-defined]
         if r.path.startswith("/web") and "POST" in r.methods}
    )  # fmt: skip
    assert len(posts) >= 5, posts
    client = TestClient(api.client.app, base_url="http://127.0.0.1")
    client.cookies.set("ot_access", api.tokens["central"], domain="127.0.0.1", path="/web")
    for path in posts:
        for header in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            r = client.post(path, headers={**header, "Accept": "text/html"}, data={"x": "1"}, follow_redirects=False)
            assert r.status_code == 403, (path, header, r.status_code)
        own = client.post(path, headers={"Origin": "http://127.0.0.1", "Accept": "text/html"}, data={},
                          follow_redirects=False)  # fmt: skip
        assert own.status_code != 403 or "another site" not in own.text.lower(), path
