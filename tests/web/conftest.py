"""A running server with the pages and a real browser: Debian's Chromium driven by Playwright for Python.

The server is the app `oretrail serve` runs (uvicorn on a loopback port), on a database holding the small
two-province world of the API tests (tests/api/conftest.py) and one account with a password per role. The
browser is /usr/bin/chromium launched headless by its path: Playwright's own browser builds are never
downloaded. Without Chromium these tests skip, except under CI=true, where they fail.

Every page a test opens goes through `Browse.open`, which fails the test on a console error, a failed
request (or any answer of 400 and above that the test did not expect) and a word without a translation
(`data-missing-translations` on the page).
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, insert

from oretrail.access.users import add_user
from oretrail.alerts.store import alert_id
from oretrail.storage.schema import alerts
from tests.api.conftest import (
    ACCOUNTS,
    CONC_1,
    E1,
    E2,
    HN,
    JX,
    MINE_1,
    MINE_2,
    ORE_1,
    ORE_2,
    REGISTRY,
    SMELTER_1,
    _lines,
    declaration,
    licence,
)
from tests.intake import builders as b

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "web-screenshots"
SIZES = {"desk": (1280, 900), "phone": (390, 844)}


def chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    message = "Chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    url: str
    engine: Engine
    alert_ids: dict[str, str]  # rule -> id of the extra alerts planted


def load_world(engine: Engine) -> dict[str, str]:
    """The API tests' world, through the feeds (as the capture routes do), and a few alerts of rules the
    feeds do not raise by themselves."""
    from oretrail.feeds import BY_NAME
    from oretrail.rules.config import load_settings

    settings = load_settings()
    docs = {
        "registry": REGISTRY,
        "events": b.encode(
            b.document(
                b.mining([(ORE_1, 500.0)], "w.ore", 0.005, location=MINE_1),
                b.smelting(inputs=[(ORE_1, 500.0)], outputs=[(CONC_1, 4.0)], material="w.concentrate", grade=0.55,
                           location=SMELTER_1),
                b.mining([(ORE_2, 300.0)], "w.ore", 0.005, location=MINE_2),
            )
        ),
        "licences": _lines(licence("EL2025JX000001", E1), licence("EL2025HN000001", E2)),
        "declarations": _lines(declaration("530120250000000001", E1), declaration("530120250000000002", E2)),
        "supervision": _lines(*SUPERVISION),
        "reports": _lines({"enterprise": E1, "period": "2025-05", "filed_at": "2025-06-05T10:00:00+08:00",
                           "lines": [{"material": "w.ore", "produced_kg": 10}]}),
    }  # fmt: skip
    for feed, data in docs.items():
        BY_NAME[feed].read_bytes(engine, data, f"world-{feed}", settings)
    now = datetime(2025, 7, 1)
    extra = [
        ("transit.diverted", "shipment", "urn:oretrail:waybill:WB1", JX, ["transport", "public_security"], E1),
        ("balance.lot", "lot", ORE_2, HN, ["industry", "natural_resources"], E2),
        ("mirror.gap", "trade-flow", "DE:811292:202506", "CN", ["central", "customs", "commerce"], None),
        ("licence.overdrawn", "licence", "EL2025HN000001", HN, ["commerce", "customs"], E2),
    ]
    with engine.begin() as conn:
        conn.execute(
            insert(alerts),
            [
                {"id": alert_id(rule, kind, subject), "rule": rule, "severity": "high", "raised_at": now,
                 "subject_kind": kind, "subject_id": subject, "jurisdiction": place, "party": party,
                 "departments": orjson.dumps(depts).decode(), "evidence": "[]", "message_key": "alert.legacy",
                 "message_params": orjson.dumps({"text": f"{rule} test alert"}).decode(), "details": "{}",
                 "settles_at": None, "settled_at": now, "withdrawn_at": None, "status": "new",
                 "level": "central" if place == "CN" else "province", "shared_with": "[]"}
                for rule, kind, subject, place, depts, party in extra
            ],
        )  # fmt: skip
        from oretrail.alerts.store import settle_due

        settle_due(conn, datetime(2100, 1, 1))
        from oretrail.supervision.score import score_all

        for day in (date(2025, 4, 1), date(2025, 6, 1)):  # a risk history of two scores
            score_all(conn, settings.config, settings.catalogue, day)
    return {rule: alert_id(rule, kind, subject) for rule, kind, subject, *_ in extra}


ELEMENTS = ("policy", "organisation", "risk", "review", "emergency", "training", "audit", "records", "manual")
SUPERVISION: list[dict[str, Any]] = [
    {"kind": "review", "id": "REV-1", "enterprise": E1, "reviewer": "jx-inspector", "date": "2025-02-01",
     "elements": {e: {"level": 2, "findings": "", "evidence": ["doc:manual-v1"]} for e in ELEMENTS}},
    {"kind": "review", "id": "REV-2", "enterprise": E1, "reviewer": "jx-inspector", "date": "2025-05-01",
     "elements": {**{e: {"level": 2, "findings": "", "evidence": []} for e in ELEMENTS},
                  "review": {"level": 4, "findings": "screening in the ERP", "evidence": []}}},
    {"kind": "inspection", "id": "INS-HN-1", "enterprise": E2, "province": HN, "inspector": "hn-inspector",
     "date": "2025-02-10", "basis": "risk", "items": [{"item": "icp.records", "result": "major", "note": "no files"}],
     "actions": [{"id": "CA-HN-1", "item": "icp.records", "text": "keep files five years"}]},
    {"kind": "inspection", "id": "INS-JX-1", "enterprise": E1, "facility": MINE_1, "province": JX,
     "inspector": "jx-inspector", "date": "2025-05-20", "basis": "random", "facility_status": "yellow",
     "items": [{"item": "facility.scales", "result": "minor", "note": "scale not calibrated"},
               {"item": "icp.training", "result": "pass", "note": ""}],
     "actions": [{"id": "CA-JX-1", "item": "facility.scales", "text": "calibrate the weighbridge",
                  "due": "2025-08-01"}]},
    {"kind": "training", "id": "TR-JX-1", "date": "2025-04-01", "province": JX, "topic": "screening",
     "title": {"zh": "出口管制合规培训", "en": "Export control compliance training"}, "guidance": [],
     "attendance": [{"enterprise": E1, "attendees": 3}]},
]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from oretrail.api.app import create_app

    root = tmp_path_factory.mktemp("web")
    os.environ["ORETRAIL_SIGNING_KEY"] = str(root / "signing.key")
    app = create_app(f"sqlite:///{root / 'web.db'}")
    engine: Engine = app.state.engine
    with engine.begin() as conn:
        for name, (role, province, department, parties) in ACCOUNTS.items():
            add_user(conn, name, role, password=PASSWORD, province=province, department=department, parties=parties)
    planted = load_world(engine)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", workers=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", engine, planted)
    server.should_exit = True
    thread.join(10)
    engine.dispose()


@dataclass
class Browse:
    """One browser context (one person at one screen size and language) with the checks every page gets."""

    context: Any
    site: Site
    problems: list[str] = field(default_factory=list)
    expected_status: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} {r.failure}"))
        self.page.on("response", self._response)

    def _console(self, msg: Any) -> None:
        expected = any(f"status of {code} " in msg.text for code in self.expected_status)
        if msg.type == "error" and not expected:  # Chromium logs the refused page the test asked for too
            self.problems.append(f"console error: {msg.text}")

    def _response(self, response: Any) -> None:
        if response.status >= 400 and response.status not in self.expected_status:
            self.problems.append(f"{response.status} from {response.url}")

    def open(self, path: str, *, status: int = 200) -> Any:
        self.expected_status = {status} if status >= 400 else set()
        response = self.page.goto(self.site.url + path)
        assert response is not None and response.status == status, (path, response and response.status)
        self.page.wait_for_load_state("networkidle")
        self.check()
        return response

    def check(self) -> None:
        missing = self.page.get_attribute("body", "data-missing-translations")
        assert missing == "", f"words without a translation on {self.page.url}: {missing}"
        assert self.problems == [], self.problems
        self.expected_status = set()

    def sign_in(self, name: str, password: str = PASSWORD) -> None:
        self.page.goto(self.site.url + "/web/signin")
        self.page.fill("#username", name)
        self.page.fill("#password", password)
        self.page.click("form[action='/web/signin'] button[type=submit]")
        self.page.wait_for_load_state("networkidle")
        self.check()

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9._=-]+", "-", name).strip("-") + ".png")
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    path = chromium_or_skip()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(path), headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def visit(browser: Any, site: Site) -> Iterator[Any]:
    """`visit(locale="zh-CN", size="desk")`: a fresh context (no cookies) as a new person would have."""
    contexts: list[Any] = []

    def make(locale: str = "en-GB", size: str = "desk") -> Browse:
        width, height = SIZES[size]
        context = browser.new_context(locale=locale, viewport={"width": width, "height": height})
        contexts.append(context)
        return Browse(context, site)

    yield make
    for c in contexts:
        c.close()
