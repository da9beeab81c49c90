"""Supervision on the pages, in a real browser: each role sees on a dossier exactly the supervision records
the permission table gives it (risk score and its components, reviews, inspections, corrective actions,
facility status, training, monthly reports); an inspector plans a month, records an inspection with its
findings and a corrective action, and closes the action; officers who may not are given no form and refused
when they post; an officer attaches a file to an alert and downloads it. (Filing a monthly report, which moves the
supervision clock to today, has its own world: test_monthly_report.py.)

Every page opened fails its test on a console error, a failed or unexpected 4xx/5xx request, or a word
without a translation (conftest.py `Browse`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from oretrail.storage.schema import (
    action_closures,
    alert_actions,
    alerts,
    corrective_actions,
    facility_statuses,
    inspection_plans,
    inspections,
)
from tests.api.conftest import ACCOUNTS, E1, E2, HN, JX, MINE_1, SMELTER_1
from tests.web.conftest import Browse, Site
from tests.web.test_pages import NAV, allowed

SECTIONS = ("#risk", "#reviews", "#inspections", "#actions", "#trainings")
FACTS = {E1: {"province": JX, "party": E1}, E2: {"province": HN, "party": E2}}


def _count(page: Any, selector: str) -> int:
    return int(page.locator(selector).count())


@pytest.mark.parametrize("name", sorted(n for n in ACCOUNTS if "enterprises" in NAV[n]))
def test_each_role_sees_the_supervision_records_the_table_gives_it(visit: Any, name: str) -> None:
    person: Browse = visit()
    person.sign_in(name)
    for party, facts in FACTS.items():
        if not allowed(name, "read", "registry", facts):
            continue
        person.open(f"/web/enterprises/{party}")
        supervision = allowed(name, "read", "supervision", facts)
        reports = allowed(name, "read", "report", facts)
        for section in SECTIONS:
            assert _count(person.page, section) == int(supervision), (name, party, section)
        assert _count(person.page, "#reports") == int(reports), (name, party)
        assert _count(person.page, "[data-slot]") == 0  # no placeholder is left
        if supervision and party == E1:
            # the risk score is explained, component by component, with its history drawn
            components = person.page.locator("#risk-components tbody tr").all()
            assert len(components) == 9
            assert "REV-2" in person.page.locator("#risk-components tr[data-component=review]").inner_text()
            person.page.wait_for_selector("#fig-risk .main-svg")
            assert person.page.get_attribute(f"tr:has(td:text('{MINE_1}')) [data-status]", "data-status") == "yellow"
            assert "screening in the ERP" not in person.page.locator("#reviews").inner_text()  # levels, not text
            assert person.page.locator("#reviews [data-review=REV-2]").inner_text().startswith("59.1")
            assert "scale not calibrated" in (person.page.locator("[data-inspection=INS-JX-1]").text_content() or "")
            assert _count(person.page, "#actions tr[data-action=CA-JX-1].overdue") == 0
            assert "Export control compliance training" in person.page.locator("#trainings").inner_text()
        if supervision and party == E2:  # its action was due 90 days after 10 February: overdue
            assert _count(person.page, "#actions tr[data-action=CA-HN-1].overdue") == 1
        if reports and party == E1:
            assert person.page.get_attribute("#reports tr[data-period='202505']", "data-state") == "on_time"


def test_an_inspector_plans_records_an_inspection_and_closes_its_action(visit: Any, site: Site) -> None:
    person: Browse = visit()
    person.sign_in("jx-inspector")
    person.open("/web/inspections?month=2025-06")
    assert "No plan for this month yet." in person.page.locator("#plan").inner_text()
    person.page.fill("#p-capacity", "1")
    person.page.fill("#p-seed", "2")
    person.page.click("#plan-form button")
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert person.page.locator("p.ok").inner_text() == "The plan is made."
    picks = person.page.locator("#picks tbody tr").all()
    assert [p.get_attribute("data-pick") for p in picks] == [E1]  # the province's only enterprise
    basis = picks[0].get_attribute("data-basis")
    why = picks[0].locator("td").nth(3).inner_text()
    assert ("drawn at random" in why) if basis == "random" else ("compliance review" in why)
    with site.engine.connect() as conn:
        plan = conn.execute(select(inspection_plans).where(inspection_plans.c.province == JX)).one()
    assert (plan.month, plan.capacity, plan.seed) == ("2025-06", 1, 2)

    # from the plan to the inspection form, the enterprise and the plan filled in
    picks[0].locator("a:text('Record its inspection')").click()
    person.page.wait_for_load_state("networkidle")
    person.check()
    form = person.page.locator("#record form")
    assert form.locator("#i-enterprise").input_value() == E1
    assert form.locator("input[name=plan]").input_value() == plan.id
    form.locator("#i-facility").select_option(SMELTER_1)  # MINE_1 keeps the status the dossier test reads
    form.locator("#i-date").fill("2025-06-20")
    form.locator("select[name='result.facility.scales']").select_option("major")
    form.locator("input[name='note.facility.scales']").fill("seal broken on the weighbridge")
    form.locator("select[name='result.icp.records']").select_option("pass")
    form.locator("#i-status").select_option("red")
    form.locator("#a-0-item").select_option("facility.scales")
    form.locator("#a-0-text").fill("replace and seal the weighbridge")
    form.locator("#a-0-due").fill("2025-07-20")
    form.locator("button[type=submit]").click()
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert person.page.locator("p.ok").inner_text() == "The inspection is recorded."
    with site.engine.connect() as conn:
        done = conn.execute(select(inspections).where(inspections.c.plan == plan.id)).one()
        action = conn.execute(select(corrective_actions).where(corrective_actions.c.inspection_id == done.id)).one()
        status = conn.execute(select(facility_statuses.c.status).where(facility_statuses.c.inspection_id == done.id))
        status_set = status.scalar_one()
    assert (done.enterprise, done.facility, done.plan, str(done.date)) == (E1, SMELTER_1, plan.id, "2025-06-20")
    assert orjson.loads(done.items) == [
        {"item": "icp.records", "result": "pass", "note": ""},
        {"item": "facility.scales", "result": "major", "note": "seal broken on the weighbridge"},
    ]
    assert (action.item, action.text, str(action.due_on)) == ("facility.scales", "replace and seal the weighbridge",
                                                               "2025-07-20")  # fmt: skip
    assert status_set == "red"

    # the new action is listed among the province's open ones, and closed from there
    row = person.page.locator(f"#action-list tr[data-action='{action.id}']")
    row.locator("textarea").fill("photo:weighbridge-seal-2025-07-01.jpg")
    row.locator("input[type=date]").fill("2025-07-01")
    row.locator("button").click()
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert person.page.locator("p.ok").inner_text() == "The corrective action is closed."
    assert _count(person.page, f"#action-list tr[data-action='{action.id}']") == 0  # open ones only
    with site.engine.connect() as conn:
        closed = conn.execute(select(action_closures).where(action_closures.c.action_id == action.id)).one()
    assert (str(closed.closed_on), closed.by) == ("2025-07-01", "jx-inspector")
    assert orjson.loads(closed.evidence) == ["photo:weighbridge-seal-2025-07-01.jpg"]
    person.open("/web/inspections?month=2025-06&actions=all")
    assert "closed on 2025-07-01" in person.page.locator(f"tr[data-action='{action.id}']").inner_text()


@pytest.mark.parametrize("name", ["customs", "jx-transport", "commerce"])
def test_officers_who_may_not_record_get_no_form_and_are_refused(visit: Any, site: Site, name: str) -> None:
    person: Browse = visit()
    person.sign_in(name)
    person.open("/web/inspections?province=CN-JX&month=2025-06")
    assert _count(person.page, "#plan") == 1  # they read the plan
    assert _count(person.page, "#plan-form") + _count(person.page, "#record") + _count(person.page, "form.close") == 0
    for path, data in (
        ("/web/inspections/record", {"province": JX, "month": "2025-06", "enterprise": E1, "date": "2025-06-21",
                                     "basis": "risk", "result.icp.records": "pass"}),
        ("/web/inspections/plan", {"province": JX, "month": "2025-06", "capacity": "1"}),
        ("/web/inspections/actions/CA-JX-1/close", {"province": JX, "date": "2025-06-21"}),
    ):  # fmt: skip
        r = person.page.request.post(site.url + path, form=data, headers={"Accept": "text/html"})
        assert r.status == 403, (name, path, r.status)
    with site.engine.connect() as conn:
        assert conn.execute(select(inspections.c.id).where(inspections.c.date == "2025-06-21")).first() is None
        assert conn.execute(select(action_closures).where(action_closures.c.action_id == "CA-JX-1")).first() is None


def test_a_province_officer_plans_and_records_in_their_province_only(visit: Any, site: Site) -> None:
    person: Browse = visit()
    person.sign_in("hn-commerce")
    person.open("/web/inspections?province=CN-JX&month=2025-06")  # the province is theirs, whatever is asked
    assert "Hunan" in person.page.locator("h1").inner_text()
    assert _count(person.page, f"#picks tr[data-pick='{E1}']") == 0
    assert _count(person.page, "#plan-form") == 1 and _count(person.page, "#record") == 1
    assert _count(person.page, "#action-list tr[data-action='CA-JX-1']") == 0
    assert _count(person.page, "#action-list tr[data-action='CA-HN-1'].overdue") == 1
    refused = [
        ("/web/inspections/plan", {"province": JX, "month": "2025-06", "capacity": "1"}),
        ("/web/inspections/record", {"province": JX, "month": "2025-06", "enterprise": E1, "date": "2025-06-22",
                                     "basis": "risk", "result.icp.records": "pass"}),
        ("/web/inspections/actions/CA-JX-1/close", {"province": JX, "date": "2025-06-22"}),
    ]  # fmt: skip
    for path, data in refused:
        r = person.page.request.post(site.url + path, form=data, headers={"Accept": "text/html"})
        assert r.status == 403, (path, r.status)
    with site.engine.connect() as conn:
        assert conn.execute(select(inspection_plans).where(inspection_plans.c.province == JX,
                                                           inspection_plans.c.capacity == 1,
                                                           inspection_plans.c.seed == 0)).first() is None  # fmt: skip
        assert conn.execute(select(inspections.c.id).where(inspections.c.date == "2025-06-22")).first() is None


def test_an_officer_attaches_a_file_to_an_alert_and_downloads_it(visit: Any, site: Site, tmp_path: Path) -> None:
    with site.engine.connect() as conn:
        aid = conn.execute(
            select(alerts.c.id).where(alerts.c.rule == "licence.missing", alerts.c.jurisdiction == JX)
        ).scalar_one()
    report = tmp_path / "site-visit.pdf"
    report.write_bytes(b"%PDF-1.4\n% inspection report of the smelter\n" + bytes(range(256)) * 20)
    person: Browse = visit()
    person.sign_in("jx-commerce")
    person.open(f"/web/alerts/{aid}")
    assert "Nothing to show." in person.page.locator("#files").inner_text()
    person.page.set_input_files("#a-file", str(report))
    person.page.fill("#a-note", "photos of the smelter's weighbridge")
    person.page.click("#attach-form button")
    person.page.wait_for_load_state("networkidle")
    person.check()
    link = person.page.locator("#file-list a")
    assert link.inner_text() == "site-visit.pdf · photos of the smelter's weighbridge"
    href = link.get_attribute("href")
    assert href is not None
    got = person.page.request.get(site.url + href)
    assert got.status == 200 and got.body() == report.read_bytes()
    assert got.headers["content-disposition"].startswith("attachment")
    with site.engine.connect() as conn:
        attached = alert_actions.c.alert_id == aid, alert_actions.c.action == "attach"
        logged = conn.execute(select(alert_actions.c.actor, alert_actions.c.attachment).where(*attached)).all()
    assert [(a, h) for a, h in logged] == [("jx-commerce", href.rsplit("/", 1)[1])]
    # a reader who may not act sees the file but no form, and a post is refused
    inspector: Browse = visit()
    inspector.sign_in("jx-inspector")
    inspector.open(f"/web/alerts/{aid}")
    assert _count(inspector.page, "#file-list a") == 1 and _count(inspector.page, "#attach-form") == 0
    r = inspector.page.request.post(site.url + f"/web/alerts/{aid}/attach",
                                    multipart={"file": {"name": "x.txt", "mimeType": "text/plain", "buffer": b"x"}},
                                    headers={"Accept": "text/html"})  # fmt: skip
    assert r.status == 403
    # whoever may not read the alert cannot download its files
    outsider: Browse = visit()
    outsider.sign_in("hn-commerce")
    assert outsider.page.request.get(site.url + href, headers={"Accept": "text/html"}).status == 403
    enterprise: Browse = visit()
    enterprise.sign_in("ent-1")
    assert enterprise.page.request.get(site.url + href, headers={"Accept": "text/html"}).status == 403
