"""Forms and refusals in a real browser: an inspector records a training session on the inspections page and
the attending enterprise sees it in its portal and on its dossier; a bad training form is refused naming the
field, in the reader's language; an officer who may not record supervision gets no form and is refused; a
denial reads in Chinese for a Chinese reader, with the refusal's code unchanged.

Every page opened fails its test on a console error, a failed or unexpected 4xx/5xx request, or a word
without a translation (conftest.py `Browse`); the training form is checked by axe-core at both widths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from oretrail.storage.schema import training_attendance, trainings
from tests.api.conftest import E1, JX, MINE_1, USCC_1
from tests.intake import builders as b
from tests.web.conftest import Browse, Site
from tests.web.test_pages import _serious, _upload


def _fill_training(person: Browse, *, topic: str, day: str, attend: dict[str, str]) -> None:
    form = person.page.locator("#training-form")
    form.locator("#t-date").fill(day)
    form.locator("#t-topic").fill(topic)
    form.locator("#t-title-zh").fill("最终用户审查培训")
    form.locator("#t-title-en").fill("End-user screening workshop")
    form.locator("input[name=guidance][value=G-ICP-SCREEN]").check()
    for party, n in attend.items():
        form.locator(f"#attendance tr[data-enterprise='{party}'] input").fill(n)
    form.locator("button[type=submit]").click()
    person.page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("size", ["desk", "phone"])
def test_an_inspector_records_a_training_and_the_enterprise_sees_it(visit: Any, site: Site, size: str) -> None:
    person: Browse = visit(size=size)
    person.sign_in("jx-inspector")
    person.open("/web/inspections?month=2025-06")
    assert person.page.locator("#training-form").count() == 1
    assert _serious(person.page) == []
    whole = person.shot(f"training-form-{size}-en")
    person.page.locator("#training").screenshot(path=str(whole.with_name(f"training-section-{size}-en.png")))
    day = "2025-06-12" if size == "desk" else "2025-06-13"
    _fill_training(person, topic="screening", day=day, attend={E1: "4"})
    person.check()
    assert person.page.locator("p.ok").inner_text() == "The training is recorded."
    with site.engine.connect() as conn:
        row = conn.execute(select(trainings).where(trainings.c.date == day)).one()
        attended = conn.execute(
            select(training_attendance.c.enterprise, training_attendance.c.attendees).where(
                training_attendance.c.training_id == row.id
            )
        ).all()
    assert (row.province, row.topic) == (JX, "screening")
    assert [tuple(a) for a in attended] == [(E1, 4)]
    # the dossier (read by the officer) and the portal (the enterprise's own) show it, each in its language
    person.open(f"/web/enterprises/{E1}")
    assert "End-user screening workshop" in person.page.locator(f"#trainings [data-training='{row.id}']").inner_text()
    firm: Browse = visit(locale="zh-CN", size=size)
    firm.sign_in("ent-1")
    firm.open(f"/web/portal?party={E1}")
    said = firm.page.locator(f"#trainings [data-training='{row.id}']").inner_text()
    assert "最终用户审查培训" in said and "4" in said


def test_a_bad_training_form_is_refused_naming_the_field(visit: Any, site: Site) -> None:
    for locale, field, heading in (("en-GB", "Attendance", "The request cannot be carried out"),
                                   ("zh-CN", "参训情况", None)):  # fmt: skip
        person: Browse = visit(locale=locale)
        person.sign_in("jx-inspector")
        person.open("/web/inspections?month=2025-06")
        person.expected_status = {422}
        _fill_training(person, topic="classification", day="2025-06-20", attend={})  # nobody attended
        person.check()
        refusal = person.page.locator("p.error")
        assert refusal.inner_text().startswith(field), refusal.inner_text()
        assert refusal.get_attribute("data-code") == "web.invalid.attendance"
        if heading:
            assert person.page.locator("h1").inner_text() == heading
        person.page.click("#back-to-form")  # back to the page the form was posted from, to correct it
        person.page.wait_for_load_state("networkidle")
        person.check()
        assert person.page.url.endswith("/web/inspections?month=2025-06")
        assert person.page.locator("#training-form").count() == 1
    # a number of attendees the form does not take, posted past the browser's own checks: the field is named
    r = person.page.request.post(
        site.url + "/web/inspections/training",
        form={"province": JX, "month": "2025-06", "date": "2025-06-20", "topic": "x", "title_en": "T",
              f"attend.{E1}": "many"},
        headers={"Accept": "application/json", "Accept-Language": "zh-CN"},
    )  # fmt: skip
    assert r.status == 422 and r.json()["code"] == "web.invalid.whole"
    assert r.json()["detail"] == f"{E1}的参训人数：应为1至100000之间的整数（收到“many”）"
    with site.engine.connect() as conn:
        assert conn.execute(select(trainings.c.id).where(trainings.c.date == "2025-06-20")).first() is None


@pytest.mark.parametrize("name", ["customs", "jx-transport", "jx-customs"])
def test_officers_who_may_not_record_supervision_get_no_training_form(visit: Any, site: Site, name: str) -> None:
    person: Browse = visit()
    person.sign_in(name)
    person.open("/web/inspections?province=CN-JX&month=2025-06")
    assert person.page.locator("#training-form").count() == 0
    r = person.page.request.post(
        site.url + "/web/inspections/training",
        form={"province": JX, "month": "2025-06", "date": "2025-06-25", "topic": "icp", "title_en": "T",
              f"attend.{E1}": "2"},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert r.status == 403 and r.json()["code"] == "access.denied", (name, r.status)
    assert "may not capture supervision records" in r.json()["detail"]
    with site.engine.connect() as conn:
        assert conn.execute(select(trainings.c.id).where(trainings.c.date == "2025-06-25")).first() is None


def test_a_province_officer_may_not_record_a_training_for_another_province(visit: Any, site: Site) -> None:
    person: Browse = visit()
    person.sign_in("hn-commerce")
    r = person.page.request.post(
        site.url + "/web/inspections/training",
        form={"province": JX, "month": "2025-06", "date": "2025-06-26", "topic": "icp", "title_en": "T",
              f"attend.{E1}": "2"},
        headers={"Accept": "application/json"},
    )  # fmt: skip
    assert r.status == 403 and r.json()["code"] == "capture.denied", r.json()
    with site.engine.connect() as conn:
        assert conn.execute(select(trainings.c.id).where(trainings.c.date == "2025-06-26")).first() is None


def test_a_denial_reads_in_chinese_for_a_chinese_reader(visit: Any) -> None:
    person: Browse = visit(locale="zh-CN")
    person.sign_in("ent-1")
    person.open("/web/alerts", status=403)
    assert person.page.locator("h1").inner_text() == "无权访问"
    refusal = person.page.locator("p.error")
    assert "无权查看预警类记录" in refusal.inner_text() and "may not" not in refusal.inner_text()
    assert refusal.get_attribute("data-code") == "access.denied"
    assert _serious(person.page) == []
    person.shot("denied-zh")
    # the reader's own choice of language wins over the browser's, on the same refusal
    person.page.goto(person.site.url + "/web/lang/en?next=/web/alerts")
    person.page.wait_for_load_state("networkidle")
    assert "may not read alert records" in person.page.locator("p.error").inner_text()
    person.problems.clear()  # the 403 of the page the switch returned to, asked for on purpose
    person.open("/web/lang/zh?next=/web/inspections", status=403)
    assert "检查页面仅供监管人员使用" in person.page.locator("p.error").inner_text()


def test_an_upload_refused_reads_in_the_readers_language(visit: Any, tmp_path: Path) -> None:
    """The refusal is kept as a message with the upload: whoever reads the report later reads it in theirs."""
    broken = orjson.loads(b.encode(b.document(b.mining([(b.lot("ore-zh-1", USCC_1), 5.0)], "w.ore", 0.004,
                                                        location=MINE_1))))  # fmt: skip
    del broken["epcisBody"]["eventList"][0]["eventTime"]
    person: Browse = visit(locale="zh-CN")
    person.sign_in("ent-1")
    _upload(person, tmp_path, "broken-zh.json", orjson.dumps(broken))
    refusal = person.page.locator("p.error")
    assert refusal.get_attribute("data-code") is not None
    assert "broken-zh.json 事件 0 字段 eventTime" in refusal.inner_text()
    person.page.click("header .langs a[lang=en]")
    person.page.wait_for_load_state("networkidle")
    person.check()
    assert "broken-zh.json event 0 field eventTime" in person.page.locator("p.error").inner_text()
