"""Filing the monthly report on the portal, in a real browser: the form is prefilled from the enterprise's own
events (supervision/reports.py `prefill`), a corrected figure is filed through the reports feed's capture,
the months' standing says it came late; the enterprise reads its own reviews with what to improve, guidance
in its language and its training; another enterprise sees none of it and cannot file for it.

A module of its own: a report filed now moves the supervision clock (the newest filing time) to today, which
would change the deadlines and statuses the other modules' pages read."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select

from oretrail.storage.schema import monthly_reports
from oretrail.supervision.template import guidance
from tests.api.conftest import E1
from tests.web.conftest import Browse, Site


def _count(page: Any, selector: str) -> int:
    return int(page.locator(selector).count())


def test_an_enterprise_files_its_monthly_report_and_reads_its_reviews(visit: Any, site: Site) -> None:
    person: Browse = visit()
    person.sign_in("ent-1")
    person.open("/web/portal?month=2025-06")
    prefilled = {r.get_attribute("data-material") for r in person.page.locator("#monthly tr[data-material]").all()}
    assert prefilled == {"w.ore", "w.concentrate"}  # what its own June events moved
    ore = person.page.locator("#monthly tr[data-material='w.ore']")
    assert float(ore.locator("input[name$='.produced_kg']").input_value()) == 500.0
    ore.locator("input[name$='.shipped_kg']").fill("12.5")  # the enterprise corrects a figure before filing
    person.page.click("#report-form button[type=submit]")
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert person.page.locator("p.ok").inner_text() == "The monthly report is filed."
    with site.engine.connect() as conn:
        filed = conn.execute(
            select(monthly_reports).where(monthly_reports.c.enterprise == E1, monthly_reports.c.period == "202506")
        ).one()
    lines = {x["material"]: x for x in orjson.loads(filed.lines)}
    assert set(lines) == {"w.ore", "w.concentrate"}
    assert lines["w.ore"]["produced_g"] == 500_000 and lines["w.ore"]["shipped_g"] == 12_500
    # filed now, long after 10 July 2025: the page says so
    assert person.page.get_attribute("#standing tr[data-period='202506']", "data-state") == "late"
    # its own reviews: the latest with what to improve, and guidance in its language
    assert person.page.get_attribute("#reviews [data-review]", "data-review") == "REV-2"
    assert "+9.1" in person.page.locator("#reviews").inner_text()
    assert _count(person.page, "#improve li") == 8  # every element but review procedures is below level 3
    assert "Export control compliance training" in person.page.locator("#trainings").inner_text()
    zh: Browse = visit(locale="zh-CN")
    zh.sign_in("ent-1")
    zh.open("/web/portal")
    titles = zh.page.locator("#guidance summary").all_inner_texts()
    assert titles == [g.record("zh")["title"] for g in guidance()]
    assert "出口管制合规培训" in zh.page.locator("#trainings").inner_text()

    # another enterprise sees none of it, and cannot file for it
    other: Browse = visit()
    other.sign_in("ent-2")
    other.open("/web/portal")
    assert "No compliance review yet." in other.page.locator("#reviews").inner_text()
    assert _count(other.page, "#standing tr[data-period='202505']") == 0
    r = other.page.request.post(
        site.url + "/web/portal/report",
        form={
            "enterprise": E1,
            "period": "2025-04",
            "rows": "1",
            "line.0.material": "w.ore",
            "line.0.produced_kg": "1",
        },
        headers={"Accept": "text/html"},
    )
    assert r.status == 403
    with site.engine.connect() as conn:
        assert conn.execute(select(monthly_reports).where(monthly_reports.c.period == "202504")).first() is None
