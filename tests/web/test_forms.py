"""The one way a page handler lets a request in (web/forms.py), without a browser: the audit note is named,
the permission table's own denial is raised in the reader's language with a stable code, a form is read
after the check (or after the field that decides the kind), too large a body is refused unread, fields are
refused by their label; and every form handler and page of the app goes through it."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from oretrail.access.caller import Caller
from oretrail.api.auth import note
from oretrail.i18n.message import Said
from oretrail.web import forms
from oretrail.web.errors import BadInput, Denied, NotFound, PageError, out_of_sight
from oretrail.web.forms import Posted, label, parse_day, parse_month, parse_whole, posted

INSPECTOR = Caller("jx-inspector", "inspector", "CN-JX", None, ())
FIRM = Caller("ent-1", "enterprise", None, None, ("urn:oretrail:party:uscc:91360700MA35F0AX28",))
CALLERS = {"inspector": INSPECTOR, "firm": FIRM}


def _who(request: Request) -> Caller:
    return CALLERS[request.headers["x-who"]]


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A bare app with the pages' error answer: what `posted` leaves on the audit note is echoed back."""
    from oretrail.web.routes import _page_error

    app = FastAPI()
    app.add_exception_handler(PageError, _page_error)
    seen: dict[str, Any] = {}

    def echo(request: Request, form: Posted) -> Response:
        audit = note(request)
        seen.update(action=audit.action, kind=audit.kind, object=audit.object)
        return JSONResponse({"fields": {k: form.text(k) for k in form.form}, "many": form.texts("many")})

    @app.post("/record")
    async def record(request: Request, who: Annotated[Caller, Depends(_who)]) -> Response:
        return echo(request, await posted(request, who, "capture", "supervision", "X-1"))

    @app.post("/upload")
    async def upload(request: Request, who: Annotated[Caller, Depends(_who)]) -> Response:
        def kind(form: Any) -> str:
            return {"events": "event", "supervision": "supervision"}[str(form.get("feed"))]

        return echo(request, await posted(request, who, "capture", kind, max_bytes=1024))

    @app.middleware("http")
    async def keep(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        audit = getattr(request.state, "audit", None)
        if audit is not None:
            seen.update(action=audit.action, kind=audit.kind, reason=audit.reason)
        return response

    with TestClient(app) as c:
        c.seen = seen  # type: ignore[attr-defined]
        yield c


def test_a_permitted_form_is_read_and_its_audit_note_named(client: TestClient) -> None:
    r = client.post("/record", data={"topic": "  icp ", "many": ["a", " ", "b"]}, headers={"x-who": "inspector"})
    assert r.status_code == 200
    assert r.json()["fields"]["topic"] == "icp" and r.json()["many"] == ["a", "b"]
    assert client.seen["action"] == "capture" and client.seen["kind"] == "supervision"  # type: ignore[attr-defined]
    assert client.seen["object"] == "X-1"  # type: ignore[attr-defined]


def test_a_role_the_table_refuses_gets_its_denial_in_the_readers_language(client: TestClient) -> None:
    en = client.post("/record", data={"topic": "icp"}, headers={"x-who": "firm"})
    assert en.status_code == 403 and en.headers["content-type"] == "application/problem+json"
    assert en.json()["code"] == "access.denied" and en.json()["title"] == "Not permitted"
    assert en.json()["detail"].startswith("ent-1 (role enterprise, parties ")
    assert "may not capture supervision records" in en.json()["detail"]
    assert client.seen["reason"] == en.json()["detail"]  # type: ignore[attr-defined]  # the log keeps English
    zh = client.post("/record", data={"topic": "icp"}, headers={"x-who": "firm", "Accept-Language": "zh-CN"})
    assert zh.json()["code"] == "access.denied" and zh.json()["title"] == "无权访问"
    assert zh.json()["detail"].startswith("ent-1（角色 企业、主体 ") and "无权报送监管类记录" in zh.json()["detail"]


def test_a_kind_read_from_the_form_is_checked_after_reading_it(client: TestClient) -> None:
    assert client.post("/upload", data={"feed": "events"}, headers={"x-who": "firm"}).status_code == 200
    assert client.seen["kind"] == "event"  # type: ignore[attr-defined]
    r = client.post("/upload", data={"feed": "supervision"}, headers={"x-who": "firm"})
    assert r.status_code == 403 and client.seen["kind"] == "supervision"  # type: ignore[attr-defined]


def test_too_large_a_body_is_refused_before_it_is_read(client: TestClient) -> None:
    big = {"feed": "events", "blob": "x" * (1024 + 70_000)}
    r = client.post("/upload", data=big, headers={"x-who": "firm"})
    assert r.status_code == 422 and r.json()["code"] == "web.refused.too_large"
    assert r.json()["detail"] == "the file is over the 0 MiB limit; send it in smaller parts"
    assert client.seen["action"] == "capture"  # type: ignore[attr-defined]


def test_fields_are_refused_by_their_label_in_either_language() -> None:
    with pytest.raises(BadInput) as day:
        parse_day("2025-13-01", label("web.training.date"))
    assert day.value.code == "web.invalid.date" and day.value.status == 422
    assert day.value.said.render("en") == "Date of the training: a date, YYYY-MM-DD (got '2025-13-01')"
    assert day.value.said.render("zh") == "培训日期：应为日期，格式 YYYY-MM-DD（收到“2025-13-01”）"
    with pytest.raises(BadInput) as month:
        parse_month("2025-13", label("web.inspections.month"))
    assert month.value.code == "web.invalid.month"
    assert parse_month("2025-6", label("web.inspections.month")) == "2025-06"
    for text in ("0", "x", "10001"):
        with pytest.raises(BadInput) as whole:
            parse_whole(text, label("web.plan.capacity"), 1, 10_000)
        assert whole.value.said.render("en").startswith("Inspections possible this month: a whole number from 1")
    assert parse_whole("7", label("web.plan.capacity"), 1, 10_000) == 7
    assert parse_day("2025-06-01", label("web.training.date")).isoformat() == "2025-06-01"


def test_one_object_out_of_sight_is_not_found_or_denied_by_the_readers_view() -> None:
    central = Caller("central", "central", None, None, ())
    missing = out_of_sight(central, "read", "alert", "A-1")
    assert isinstance(missing, NotFound) and missing.detail == "no alert A-1"
    hidden = out_of_sight(INSPECTOR, "capture", "supervision", "CA-9", thing="action")
    assert isinstance(hidden, Denied) and hidden.code == "access.out_of_sight"
    assert hidden.detail.startswith("corrective action CA-9 is not among those jx-inspector may read (role inspector")
    assert hidden.said.render("zh").startswith("整改措施 CA-9不在jx-inspector可读取的范围内（角色 检查员")


def test_a_page_error_carries_a_message_never_finished_text() -> None:
    said = forms.REQUIRED(field=label("web.training.topic"))
    err = BadInput(said)
    assert isinstance(err.said, Said) and str(err) == err.detail == "Topic: required" and err.code == said.key
    assert BadInput(said, code="intake.refused").code == "intake.refused"


def _handlers() -> list[APIRoute]:
    from oretrail.web import account, alerts, bulletins, dossier, inspections, licences, overview, portal, trace

    modules = (account, overview, alerts, trace, dossier, licences, inspections, bulletins, portal)
    return [r for m in modules for r in m.router.routes if isinstance(r, APIRoute)]


def test_every_form_handler_and_page_of_the_app_goes_through_the_helper() -> None:
    """Signing in and out and the language switch have no caller to check yet; the overview shows each part
    only to whoever may read it; every other page and form starts with `permitted` or `posted`."""
    exempt = {"/web/signin", "/web/signout", "/web/lang/{code}", "/web/"}
    routes = [r for r in _handlers() if r.path not in exempt]
    assert len(routes) >= 20
    for route in routes:
        source = inspect.getsource(route.endpoint)
        if "POST" in route.methods:
            assert "await posted(request, who, " in source, route.path
        else:
            assert "permitted(request, who, " in source, route.path
        assert "note(request)" not in source, route.path  # the helper names the audit note


def test_no_page_refuses_in_finished_english() -> None:
    """Every refusal of the pages is a declared message (a `Said`), read in the reader's language."""
    root = Path(__file__).resolve().parents[2] / "src" / "oretrail" / "web"
    raised = re.compile(r"raise (Denied|BadInput|NotFound|PageError)\((f?[\"'])")
    found = [f"{p.name}: {m.group(0)}" for p in root.glob("*.py") for m in raised.finditer(p.read_text())]
    assert found == []
