"""The pages in a real browser: each role sees exactly what the permission table gives it, an officer acts on
an alert, a bulletin is issued and acknowledged, an enterprise uploads a document and reads what became of
each event, a trace is followed, the language switches; every page in both languages at a desk and a phone
width is screenshot (out/web-screenshots/) and checked by axe-core for serious accessibility violations.

Every page opened fails its test on a console error, a failed or unexpected 4xx/5xx request, or a word
without a translation (conftest.py `Browse`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from oretrail.access.caller import Caller
from oretrail.access.permissions import table
from oretrail.storage.schema import alert_actions, alerts, bulletin_recipients, web_uploads
from tests.api.conftest import ACCOUNTS, CONC_1, E1, E2, HN, JX, MINE_1, MINE_2, ORE_1, USCC_1
from tests.intake import builders as b
from tests.web.conftest import SCREENSHOTS, Browse, Site

NAMES = sorted(ACCOUNTS)
PAGES = {  # nav key -> path
    "alerts": "/web/alerts",
    "trace": "/web/trace",
    "enterprises": "/web/enterprises",
    "licences": "/web/licences",
    "inspections": "/web/inspections",
    "bulletins": "/web/bulletins",
}
# What each account's navigation offers, written out by hand from docs/access.md's table (the oracle).
NAV = {
    "central": {"overview", "alerts", "trace", "enterprises", "licences", "inspections", "bulletins"},
    "admin": set(),
    "commerce": {"overview", "alerts", "enterprises", "licences", "inspections", "bulletins"},
    "customs": {"overview", "alerts", "enterprises", "inspections", "bulletins"},
    "jx-commerce": {"overview", "alerts", "trace", "enterprises", "licences", "inspections", "bulletins"},
    "jx-customs": {"overview", "alerts", "trace", "enterprises", "inspections", "bulletins"},
    "jx-transport": {"overview", "alerts", "trace", "enterprises", "inspections", "bulletins"},
    "hn-commerce": {"overview", "alerts", "trace", "enterprises", "licences", "inspections", "bulletins"},
    "jx-inspector": {"overview", "alerts", "trace", "enterprises", "licences", "inspections", "bulletins"},
    "ent-1": {"overview", "trace", "enterprises", "licences", "portal"},
    "ent-2": {"overview", "trace", "enterprises", "licences", "portal"},
}
REGISTRY_FACTS = {E1: {"province": JX, "party": E1}, E2: {"province": HN, "party": E2}}
LICENCE_FACTS = {"EL2025JX000001": {"province": JX, "party": E1}, "EL2025HN000001": {"province": HN, "party": E2}}


def caller(name: str) -> Caller:
    role, province, department, parties = ACCOUNTS[name]
    return Caller(name, role, province, department, parties)


def allowed(name: str, action: str, kind: str, facts: dict[str, Any]) -> bool:
    """The permission table's answer, evaluated here in Python on the object's facts."""
    alternatives = table().constraints(caller(name), action, kind)
    if alternatives is None:
        return True

    def holds(attribute: str, values: tuple[str, ...]) -> bool:
        fact = facts.get(attribute)
        if attribute == "department":
            return bool(set(fact or ()) & set(values))
        if attribute == "rule":
            return any(fact == v or str(fact).startswith(v + ".") for v in values)
        return fact in values

    return any(all(holds(a, v) for a, v in alt.items()) for alt in alternatives)


def alert_facts(site: Site) -> dict[str, dict[str, Any]]:
    with site.engine.connect() as conn:
        rows = conn.execute(select(alerts).where(alerts.c.settled_at.is_not(None))).all()
    return {
        r.id: {"province": r.jurisdiction, "department": set(orjson.loads(r.departments)), "party": r.party,
               "rule": r.rule}
        for r in rows
    }  # fmt: skip


def shown(page: Any, attribute: str) -> set[str]:
    return set(page.eval_on_selector_all(f"[{attribute}]", f"els => els.map(e => e.getAttribute('{attribute}'))"))


def test_sign_in_refuses_a_wrong_password_and_keeps_the_session_in_httponly_cookies(visit: Any) -> None:
    person: Browse = visit()
    person.open("/web/alerts")  # signed out: sent to the sign-in page, and back afterwards
    assert "/web/signin" in person.page.url
    person.page.fill("#username", "jx-commerce")
    person.page.fill("#password", "not the password")
    person.expected_status = {401}
    person.page.click("form[action='/web/signin'] button[type=submit]")
    assert person.page.locator("p.error").inner_text() == "Wrong user name or password, or the account is disabled."
    person.problems.clear()
    person.sign_in("jx-commerce")
    cookies = {c["name"]: c for c in person.context.cookies()}
    assert cookies["ot_access"]["httpOnly"] and cookies["ot_access"]["sameSite"] == "Strict"
    assert cookies["ot_refresh"]["httpOnly"] and cookies["ot_refresh"]["sameSite"] == "Strict"
    assert person.page.evaluate("document.cookie") == ""  # no script on the page can read them
    # an expired access cookie is refreshed with the refresh token, which is then spent
    person.context.add_cookies([{**cookies["ot_access"], "value": "expired.or.forged"}])
    person.open("/web/bulletins")
    renewed = {c["name"]: c["value"] for c in person.context.cookies()}
    assert renewed["ot_access"] != "expired.or.forged" and renewed["ot_refresh"] != cookies["ot_refresh"]["value"]
    person.page.click("form[action='/web/signout'] button")
    person.page.wait_for_load_state("networkidle")
    assert "/web/signin" in person.page.url
    person.open("/web/bulletins")
    assert "/web/signin" in person.page.url


@pytest.mark.parametrize("name", NAMES)
def test_each_role_sees_exactly_what_the_table_gives_it(visit: Any, site: Site, name: str) -> None:
    person: Browse = visit()
    person.sign_in(name)
    nav = {
        href.removeprefix("/web/").strip("/") or "overview"
        for href in person.page.eval_on_selector_all("header nav a", "els => els.map(e => e.getAttribute('href'))")
    }
    assert nav == NAV[name]
    for key, path in PAGES.items():
        person.open(path, status=200 if key in nav else 403)
        if key not in nav:
            assert person.page.locator("h1").inner_text() == "Not permitted"
    if "alerts" in nav:
        person.open("/web/alerts")
        want = {aid for aid, facts in alert_facts(site).items() if allowed(name, "read", "alert", facts)}
        assert shown(person.page, "data-alert") == want
    if "enterprises" in nav:
        person.open("/web/enterprises?q=")
        want = {p for p, facts in REGISTRY_FACTS.items() if allowed(name, "read", "registry", facts)}
        assert shown(person.page, "data-party") == want
        for party in REGISTRY_FACTS.keys() - want:
            person.open(f"/web/enterprises/{party}", status=403)
    if "licences" in nav:
        person.open("/web/licences")
        want = {n for n, facts in LICENCE_FACTS.items() if allowed(name, "read", "licence", facts)}
        assert shown(person.page, "data-licence") == want


def test_an_officer_acts_on_an_alert(visit: Any, site: Site) -> None:
    with site.engine.connect() as conn:
        aid = conn.execute(
            select(alerts.c.id).where(alerts.c.rule == "licence.missing", alerts.c.jurisdiction == JX)
        ).scalar_one()
    person: Browse = visit()
    person.sign_in("jx-commerce")
    person.open("/web/alerts?rule=licence.missing")
    person.page.click(f"tr[data-alert='{aid}'] a")
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert "What to check" in person.page.locator(".explain").inner_text()
    form = person.page.locator("form[aria-label='assign']")
    form.locator("select").select_option("commerce")
    form.locator("textarea").fill("officer.li")
    form.locator("button").click()
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert person.page.locator("p.ok").inner_text() == "Recorded: assign."
    steps = [("investigate", ""), ("comment", "called the exporter"), ("dismiss", "licence was filed late")]
    for action, words in steps:
        form = person.page.locator(f"form[aria-label='{action}']")
        form.locator("textarea").fill(words)
        form.locator("button").click()
        person.page.wait_for_load_state("networkidle")
        person.check()
    history = person.page.locator("section:has(h2:text('What was done')) tbody").inner_text()
    assert "licence was filed late" in history and "called the exporter" in history
    assert "dismiss" not in [a.get_attribute("aria-label") for a in person.page.locator(".actions form").all()]
    with site.engine.connect() as conn:
        status = conn.execute(select(alerts.c.status).where(alerts.c.id == aid)).scalar_one()
        log = conn.execute(select(alert_actions.c.action, alert_actions.c.actor).where(alert_actions.c.alert_id == aid)
                           .order_by(alert_actions.c.id)).all()  # fmt: skip
    assert status == "dismissed"
    assert [(a, who) for a, who in log if who != "oretrail"] == [
        ("assign", "jx-commerce"), ("investigate", "jx-commerce"), ("comment", "jx-commerce"),
        ("dismiss", "jx-commerce"),
    ]  # fmt: skip
    # a role that may read but not act gets no forms, and a post is refused
    inspector: Browse = visit()
    inspector.sign_in("jx-inspector")
    inspector.open(f"/web/alerts/{aid}")
    assert inspector.page.locator(".actions form").count() == 0


def test_a_bulletin_is_issued_and_acknowledged(visit: Any, site: Site) -> None:
    issuer: Browse = visit()
    issuer.sign_in("commerce")
    issuer.open("/web/bulletins")
    form = issuer.page.locator("#issue form")
    form.locator("#b-severity").select_option("high")
    form.locator("#b-title-zh").fill("关于可疑收货人的预警")
    form.locator("#b-title-en").fill("Warning on a suspect consignee")
    form.locator("#b-body-en").fill("The consignee is suspected of re-exporting gallium.")
    form.locator("#b-until").fill((date.today() + timedelta(days=60)).isoformat())
    form.locator("input[name=departments][value=customs]").check()
    form.locator("input[name=departments][value=commerce]").check()
    form.locator("#b-provinces").select_option(["CN", JX])
    form.locator("#b-names").fill("Example Semiconductor GmbH | DE")
    form.locator("button[type=submit]").click()
    issuer.page.wait_for_load_state("networkidle")
    issuer.check()
    assert issuer.page.locator("p.ok").count() == 1
    bulletin_url = issuer.page.url.split("?")[0].removeprefix(site.url)
    waiting = issuer.page.locator("#recipients tbody tr").all_inner_texts()
    assert len(waiting) == 4 and all("not yet" in w for w in waiting)

    customs: Browse = visit()
    customs.sign_in("customs")
    customs.open("/web/bulletins")
    customs.page.click("text=Warning on a suspect consignee")
    customs.page.wait_for_load_state("networkidle")
    customs.check()
    customs.page.click("button:text-matches('Acknowledge for')")
    customs.page.wait_for_load_state("networkidle")
    customs.check()
    assert customs.page.locator("p.ok").first.inner_text() == "Acknowledged for your unit."

    issuer.open(bulletin_url)
    rows = issuer.page.locator("#recipients tbody tr").all_inner_texts()
    assert sum("customs" in r and "not yet" not in r for r in rows) == 1
    with site.engine.connect() as conn:
        acked = conn.execute(select(bulletin_recipients.c.department, bulletin_recipients.c.province)
                             .where(bulletin_recipients.c.acknowledged_at.is_not(None))).all()  # fmt: skip
    assert acked == [("customs", "CN")]
    # an enterprise never sees bulletins
    enterprise: Browse = visit()
    enterprise.sign_in("ent-1")
    enterprise.open(bulletin_url, status=403)


def _upload(person: Browse, tmp: Path, name: str, data: bytes) -> None:
    path = tmp / name
    path.write_bytes(data)
    person.open("/web/portal")
    person.page.set_input_files("#u-document", str(path))
    person.page.click("#upload button[type=submit]")
    person.page.wait_for_load_state("networkidle")
    person.check()


def test_an_enterprise_uploads_a_document_and_reads_each_event(visit: Any, site: Site, tmp_path: Path) -> None:
    person: Browse = visit()
    person.sign_in("ent-1")
    new_lot = b.lot("ore-web-1", USCC_1)
    doc = b.document(b.mining([(new_lot, 120.0)], "w.ore", 0.004, location=MINE_1))
    _upload(person, tmp_path, "mine-1-june.json", b.encode(doc))
    assert person.page.get_attribute("#upload-outcome", "data-outcome") == "stored"
    assert person.page.locator("#per-event tbody tr").all_inner_texts()[0].split("\t")[2] == "stored"
    # the same document again: every event is already on record
    _upload(person, tmp_path, "mine-1-june-again.json", b.encode(doc))
    assert "already on record" in person.page.locator("#per-event tbody").inner_text()
    # an event at another enterprise's mine: nothing is stored, and the page says which event
    other = b.document(b.mining([(b.lot("ore-web-2", USCC_1), 5.0)], "w.ore", 0.004, location=MINE_2))
    _upload(person, tmp_path, "not-mine.json", b.encode(other))
    assert person.page.get_attribute("#upload-outcome", "data-outcome") == "denied"
    assert MINE_2 in person.page.locator("p.error").inner_text()
    # a document that is not EPCIS: refused, naming the field
    broken = orjson.loads(b.encode(doc))
    del broken["epcisBody"]["eventList"][0]["eventTime"]
    _upload(person, tmp_path, "broken.json", orjson.dumps(broken))
    assert person.page.get_attribute("#upload-outcome", "data-outcome") == "refused"
    assert "eventTime" in person.page.locator("section.card").first.inner_text()
    person.open("/web/portal")
    assert len(person.page.locator("#uploads tbody tr").all()) == 4
    with site.engine.connect() as conn:
        uploads = conn.execute(select(web_uploads.c.user, web_uploads.c.outcome)).all()
    assert sorted(o for u, o in uploads if u == "ent-1") == ["denied", "refused", "stored", "stored"]
    # another enterprise cannot read them
    upload_id = person.page.locator("#uploads tbody a").first.get_attribute("href")
    neighbour: Browse = visit()
    neighbour.sign_in("ent-2")
    neighbour.open(upload_id, status=403)


def test_a_trace_is_followed_as_a_graph_and_withheld_where_the_table_says(visit: Any) -> None:
    person: Browse = visit()
    person.sign_in("jx-commerce")
    person.open("/web/trace")
    person.page.click(f"a:text('{CONC_1}')")
    person.page.wait_for_load_state("networkidle")
    person.check()
    person.page.wait_for_selector("#fig-trace .sankey")  # plotly drew the genealogy
    tree = person.page.locator(".tree").inner_text()
    assert ORE_1 in tree and MINE_1 in tree and "grade" in tree
    person.page.click(f".tree a:text('{ORE_1}')")
    person.page.wait_for_load_state("networkidle")
    person.open(f"/web/trace?lot={ORE_1}&direction=forward")
    assert CONC_1 in person.page.locator(".tree").inner_text()
    outsider: Browse = visit()
    outsider.sign_in("ent-2")
    outsider.open(f"/web/trace?lot={CONC_1}", status=403)


def test_the_language_follows_the_browser_and_the_switch(visit: Any) -> None:
    person: Browse = visit(locale="zh-CN")
    person.open("/web/signin")
    assert person.page.get_attribute("html", "lang") == "zh-CN"
    assert person.page.locator("h1").inner_text() == "登录"
    person.sign_in("central")
    assert person.page.locator("h1").inner_text().startswith("总览")
    person.page.click("header .langs a[lang=en]")
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert person.page.get_attribute("html", "lang") == "en"
    assert person.page.locator("h1").inner_text().startswith("Overview")
    person.open("/web/alerts")
    assert person.page.locator("h1").inner_text() == "Alert queue"
    person.page.click("header .langs a[lang=zh-CN]")
    person.page.wait_for_load_state("networkidle")
    assert person.page.locator("h1").inner_text() == "预警队列"


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _extras(site: Site) -> tuple[str, str]:
    """A bulletin and an upload report to show (the other tests may run in any order, or not at all)."""
    from oretrail.bulletins.model import parse_bulletin
    from oretrail.bulletins.store import issue
    from oretrail.feeds import BY_NAME
    from oretrail.rules.config import load_settings

    with site.engine.connect() as conn:
        found = conn.execute(select(web_uploads.c.id).where(web_uploads.c.user == "ent-1").limit(1)).scalar()
        bulletin = conn.execute(select(bulletin_recipients.c.bulletin_id).limit(1)).scalar()
    if bulletin is None:
        parsed = parse_bulletin(
            {"severity": "medium", "title": {"zh": "关于钨精矿流向的提示", "en": "Note on tungsten concentrate"},
             "body": {"zh": "请核查本月钨精矿的去向。", "en": "Check where this month's tungsten concentrate went."},
             "valid_until": (date.today() + timedelta(days=30)).isoformat(), "departments": ["commerce", "customs"],
             "provinces": ["CN", JX]},
            date.today(),
        )  # fmt: skip
        with site.engine.begin() as conn:
            bulletin = issue(conn, parsed, issuer="commerce", department="commerce", province="CN",
                             settings=load_settings()).id  # fmt: skip
    if found is None:
        doc = b.encode(b.document(b.mining([(b.lot("ore-shot", USCC_1), 10.0)], "w.ore", 0.004, location=MINE_1)))
        done = BY_NAME["events"].read_bytes(site.engine, doc, "shot.json", load_settings())
        report = {"counts": done.counts, "alerts_new": done.alerts_new, "withdrawn": done.withdrawn,
                  "settled": done.settled, "outcomes": done.rows, "remarks": done.remarks}  # fmt: skip
        found = "shot0000shot0000"
        with site.engine.begin() as conn:
            conn.execute(web_uploads.insert().values(
                id=found, user="ent-1", feed="events", document="shot.json", sha256="0" * 64, size=len(doc),
                at=datetime(2025, 6, 30, 12), outcome="stored", report=orjson.dumps(report).decode()))  # fmt: skip
    return bulletin, found


def _pages(site: Site) -> list[tuple[str, str]]:
    with site.engine.connect() as conn:
        aid = conn.execute(select(alerts.c.id).where(alerts.c.rule == "licence.missing").limit(1)).scalar_one()
    bulletin, upload = _extras(site)
    return [
        ("central", "/web/"), ("central", "/web/alerts"), ("central", f"/web/alerts/{aid}"),
        ("central", "/web/trace"), ("central", f"/web/trace?lot={CONC_1}"), ("central", "/web/enterprises"),
        ("central", f"/web/enterprises/{E1}"), ("central", "/web/licences"),
        ("central", "/web/inspections?province=CN-JX&month=2025-06"), ("commerce", "/web/bulletins"),
        ("commerce", f"/web/bulletins/{bulletin}"), ("jx-commerce", "/web/"), ("ent-1", "/web/portal"),
        ("ent-1", f"/web/portal/uploads/{upload}"), ("ent-1", f"/web/enterprises/{E1}"),
        ("jx-inspector", "/web/inspections?month=2025-06&actions=all"), ("hn-commerce", f"/web/enterprises/{E2}"),
        ("jx-commerce", f"/web/alerts/{aid}"),
    ]  # fmt: skip


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_in_both_languages_at_both_sizes_is_accessible(visit: Any, site: Site, lang: str) -> None:
    locale = "zh-CN" if lang == "zh" else "en-GB"
    people: dict[tuple[str, str], Browse] = {}
    found: list[str] = []
    for size in ("desk", "phone"):
        signin: Browse = visit(locale=locale, size=size)
        signin.open("/web/signin")
        signin.shot(f"signin-{lang}-{size}")
        if size == "desk":
            found += [f"/web/signin: {v}" for v in _serious(signin.page)]
        for name, path in _pages(site):
            person = people.get((name, size))
            if person is None:
                person = people[(name, size)] = visit(locale=locale, size=size)
                person.sign_in(name)
            person.open(path)
            if person.page.locator("[data-figure]").count():
                person.page.wait_for_selector(".plot .main-svg")
            slug = path.strip("/").replace("/", "-").replace("?", "-").split("&")[0][:60] or "web"
            shot = person.shot(f"{slug}-{name}-{lang}-{size}")
            assert shot.stat().st_size > 5000
            if size == "desk":
                found += [f"{path}: {v}" for v in _serious(person.page)]
            else:
                wide = person.page.evaluate("document.documentElement.scrollWidth")
                assert wide <= 390 + 1, f"{path} is {wide} px wide on a 390 px phone"
        refused = people[("ent-1", size)]
        refused.open("/web/alerts", status=403)
        refused.shot(f"denied-ent-1-{lang}-{size}")
        if size == "desk":
            found += [f"403 page: {v}" for v in _serious(refused.page)]
    assert found == []
    assert len(list(SCREENSHOTS.glob(f"*-{lang}-*.png"))) >= 2 * (len(_pages(site)) + 1)
