"""The pages' session and answers without a browser: the cookies carry the API's own tokens, a reused refresh
cookie ends the sign-in, a form posted from another site is refused, a client that is not a browser gets the
platform's problem document, assets come from the server itself, and every page is audited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from oretrail.access.tokens import issue_access
from oretrail.access.users import add_user
from oretrail.api.app import create_app
from oretrail.storage.schema import audit

PASSWORD = "correct horse battery"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))
    app = create_app(f"sqlite:///{tmp_path / 'web.db'}")
    with app.state.engine.begin() as conn:
        add_user(conn, "officer", "provincial", password=PASSWORD, province="CN-JX", department="commerce")
        add_user(conn, "firm", "enterprise", password=None, parties=("urn:oretrail:party:uscc:91360700MA35F0AX28",))
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
    app.state.engine.dispose()


def _sign_in(client: TestClient) -> None:
    r = client.post("/web/signin", data={"username": "officer", "password": PASSWORD, "next": "/web/alerts"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/web/alerts"


def test_the_cookies_are_the_api_tokens_and_a_reused_refresh_cookie_ends_the_sign_in(client: TestClient) -> None:
    _sign_in(client)
    set_cookies = client.cookies
    access, refresh = set_cookies.get("ot_access"), set_cookies.get("ot_refresh")
    assert access and refresh and refresh.startswith("otr_")
    # the access cookie is a bearer token of the API
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {access}"}).json()["user"] == "officer"
    # an expired access token: the refresh cookie is spent for a new pair
    browser = _fresh(client, {"ot_access": "expired", "ot_refresh": refresh})
    assert browser.get("/web/alerts", follow_redirects=False).status_code == 200
    renewed = browser.cookies.get("ot_refresh")
    assert renewed not in (None, refresh)
    # someone replays the old refresh cookie: refused, and the whole sign-in is revoked
    thief = _fresh(client, {"ot_refresh": refresh})
    assert thief.get("/web/alerts", follow_redirects=False).headers["location"].startswith("/web/signin")
    again = _fresh(client, {"ot_access": "expired", "ot_refresh": renewed})
    assert again.get("/web/alerts", follow_redirects=False).status_code == 303


def _fresh(client: TestClient, cookies: dict[str, str]) -> TestClient:
    other = TestClient(client.app, base_url="http://127.0.0.1")
    for name, value in cookies.items():
        other.cookies.set(name, value, domain="127.0.0.1", path="/web")
    return other


def test_a_form_from_another_site_is_refused(client: TestClient) -> None:
    _sign_in(client)
    r = client.post("/web/signout", headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/web/signout", headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/web/signout", headers={"Sec-Fetch-Site": "cross-site", "Accept-Language": "zh-CN"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 403 and r.json()["code"] == "web.refused.cross_site"
    assert "其他网站" in r.json()["detail"] and "another" not in r.json()["detail"]
    r = client.post("/web/signout", headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)
    assert r.status_code == 303


def test_every_form_that_writes_refuses_a_post_from_another_site_before_it_acts(client: TestClient) -> None:
    from oretrail.storage.schema import inspection_plans

    _sign_in(client)  # a Jiangxi commerce officer, who may plan and record inspections there
    posts = {
        "/web/inspections/plan": {"province": "CN-JX", "month": "2025-06", "capacity": "1"},
        "/web/inspections/record": {"province": "CN-JX", "month": "2025-06", "date": "2025-06-01"},
        "/web/inspections/actions/CA-1/close": {"province": "CN-JX", "date": "2025-06-01"},
        "/web/portal/report": {"enterprise": "urn:oretrail:party:uscc:91360700MA35F0AX28", "period": "2025-06"},
        "/web/alerts/some-alert/attach": {"note": "x"},
    }
    for path, form in posts.items():
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            r = client.post(path, data=form, headers=headers, follow_redirects=False)
            assert r.status_code == 403 and r.json()["code"] == "web.refused.cross_site", (path, headers)
            assert "another site" in r.json()["detail"], (path, headers)
    with client.app.state.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(inspection_plans)).scalar_one() == 0
    # the same plan from our own page is made
    r = client.post("/web/inspections/plan", data=posts["/web/inspections/plan"],
                    headers={"Origin": "http://127.0.0.1"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith("/web/inspections?")
    with client.app.state.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(inspection_plans)).scalar_one() == 1


def test_a_denial_is_a_page_for_a_browser_and_a_problem_for_a_program(client: TestClient) -> None:
    client.cookies.set("ot_access", issue_access(client.app.state.token_key, "firm", "enterprise"), path="/web")
    page = client.get("/web/alerts", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "Not permitted" in page.text and "may not read alert records" in page.text
    assert 'data-code="access.denied"' in page.text
    problem = client.get("/web/alerts", headers={"Accept": "application/json"})
    assert problem.status_code == 403 and problem.headers["content-type"] == "application/problem+json"
    assert "may not read alert records" in problem.json()["detail"] and problem.json()["code"] == "access.denied"
    # the same refusal in Chinese, by the browser's language or the reader's choice; the code does not change
    zh = client.get("/web/alerts", headers={"Accept": "application/json", "Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.json()["title"] == "无权访问"
    assert "无权查看预警类记录" in zh.json()["detail"] and zh.json()["code"] == "access.denied"
    client.cookies.set("ot_lang", "zh", path="/web")
    page = client.get("/web/alerts", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "无权查看预警类记录" in page.text and "may not" not in page.text
    assert 'data-missing-translations=""' in page.text


def test_assets_are_served_from_the_server_and_pages_allow_no_other_origin(client: TestClient) -> None:
    import plotly

    plotly_js = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert client.get("/web/static/plotly.min.js").content == plotly_js
    assert client.get("/web/static/htmx.min.js").content.startswith(b"var htmx")
    assert "Zero-Clause BSD" in client.get("/web/static/htmx.LICENSE.txt").text
    assert "MIT" in client.get("/web/static/plotly.LICENSE.txt").text
    assert client.get("/web/static/../session.py").status_code == 404
    page = client.get("/web/signin")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "http" not in csp
    assert "<script>" not in page.text and "https://" not in page.text


def test_every_page_request_is_audited_and_assets_are_not(client: TestClient) -> None:
    engine = client.app.state.engine

    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())

    before = count()
    client.get("/web/static/web.css")
    assert count() == before
    _sign_in(client)
    client.get("/web/bulletins")
    with engine.connect() as conn:
        rows = conn.execute(select(audit.c.actor, audit.c.action, audit.c.kind).order_by(audit.c.seq)).all()[-3:]
    assert rows[0] == ("officer", "signin", "user") and rows[-1] == ("officer", "read", "bulletin")


def test_sign_in_is_throttled_like_the_api(client: TestClient) -> None:
    for _ in range(5):
        r = client.post("/web/signin", data={"username": "officer", "password": "wrong password"})
        assert r.status_code == 401 and "Wrong user name or password" in r.text
    r = client.post("/web/signin", data={"username": "officer", "password": PASSWORD})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
