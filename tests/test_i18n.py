"""Everything an officer reads exists in 简体中文 and English, and the catalogue keeps up with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from oretrail.alerts.explain import explain
from oretrail.alerts.store import message_of, query_alerts
from oretrail.cli import app
from oretrail.cli.i18n import declare_all
from oretrail.i18n.catalogue import PO_LOCALE
from oretrail.i18n.message import MESSAGES, Message, Said
from oretrail.i18n.po import gaps
from oretrail.i18n.words import country, province, quantity, render_text
from oretrail.rules.runner import RULES
from oretrail.storage.schema import alerts
from tests.api.conftest import signed_in

HAN = re.compile(r"[\u4e00-\u9fff]")


def test_every_message_has_a_current_translation() -> None:
    declare_all()
    assert len(MESSAGES) > 100
    assert gaps(MESSAGES.values(), PO_LOCALE) == []


def test_a_changed_english_is_caught_and_not_shown_in_stale_chinese() -> None:
    declare_all()
    real = MESSAGES["transit.not_received.undeclared"]
    changed = Message.__new__(Message)
    object.__setattr__(changed, "key", real.key)
    object.__setattr__(changed, "en", "a destination nobody declared")
    assert f"{real.key}: the {PO_LOCALE} translation is of an older English text" in gaps([changed], PO_LOCALE)
    assert "未申报" in real.render("zh")
    from oretrail.i18n.catalogue import template

    assert template(changed, "zh") == "a destination nobody declared"


def test_parameters_read_in_each_language() -> None:
    assert quantity(12_500, "en") == "12.500 kg" and quantity(12_500, "zh") == "12.500 千克"
    assert quantity(25_000_000, "zh") == "25.0 吨"
    assert country("NL", "zh") == "荷兰 (NL)" and country("NL", "en") == "Netherlands (NL)"
    assert province("CN-JX", "zh") == "江西省"
    assert render_text("{p:month}", {"p": "202403"}, "zh") == "2024年3月"
    assert render_text("{p:month}", {"p": "202403"}, "en") == "March 2024"
    # nested messages and lists travel through JSON and come back the same
    said = MESSAGES["licence.invalid"](
        declaration="D1", grams=1000, licence="L1", reasons=[MESSAGES["licence.invalid.status"](status="revoked")]
    )
    again = Said.from_json(said.to_json())
    assert again.render("zh") == said.render("zh") and "已撤销" in said.render("zh")
    assert "the licence is revoked" in said.render("en")


def test_every_rule_title_and_check_reads_in_chinese() -> None:
    for rule in RULES:
        assert HAN.search(rule.said("title", "zh")), rule.id
        assert HAN.search(rule.said("check", "zh")), rule.id
        assert rule.said("title", "en") == rule.title


@pytest.fixture(scope="module")
def raised(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The small sample that raises every rule (tests/rules/state.py), judged and settled as a scan would."""
    from datetime import datetime

    from oretrail.alerts.judge import judge
    from oretrail.alerts.store import settle_due
    from oretrail.rules.config import load_settings
    from oretrail.storage.engine import make_engine, migrate
    from tests.rules.state import State, national_sample

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('i18n') / 'oretrail.db'}")
    migrate(engine)
    st = State(None)
    national_sample(st)
    with engine.begin() as conn:
        st.write(conn, None)
        judge(conn, None, load_settings())
        settle_due(conn, datetime(2100, 1, 1))
    return engine


def test_every_stored_alert_renders_in_both_languages(raised: Engine) -> None:
    with raised.connect() as conn:
        rows = conn.execute(select(alerts)).all()
        assert {r.rule for r in rows} == {r.id for r in RULES}
        for row in rows:
            said = message_of(row)
            zh, en = said.render("zh"), said.render("en")
            assert HAN.search(zh) and not HAN.search(en.replace(row.subject_id, "")), (row.rule, zh, en)
            assert "{" not in zh and "{" not in en
            text = explain(conn, row.id, "zh")
            assert "发现的问题" in text and "核查要点" in text and zh in text
        records = list(query_alerts(conn, include_provisional=True, lang="zh"))
        assert records and all(HAN.search(r["message"]) for r in records)


def test_accept_language_and_lang_choose_the_language(raised: Engine, tmp_path: Path) -> None:
    from oretrail.api.app import create_app

    url = str(raised.url)
    client = signed_in(TestClient(create_app(url)))
    with raised.connect() as conn:
        aid = conn.execute(select(alerts.c.id).where(alerts.c.settled_at.is_not(None))).scalars().first()
    assert aid
    zh = client.get(f"/alerts/{aid}", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).json()
    en = client.get(f"/alerts/{aid}", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.1"}).json()
    assert HAN.search(zh["message"]) and not HAN.search(en["message"])
    assert HAN.search(client.get(f"/alerts/{aid}/explain", headers={"Accept-Language": "zh"}).json()["explanation"])
    assert not HAN.search(client.get(f"/alerts/{aid}/explain").json()["explanation"])

    runner = CliRunner()
    said_zh = runner.invoke(app, ["--lang", "zh", "explain", aid, "--db", url])
    assert said_zh.exit_code == 0 and "核查要点" in said_zh.output
    said_env = runner.invoke(app, ["explain", aid, "--db", url], env={"ORETRAIL_LANG": "zh_CN"})
    assert "核查要点" in said_env.output
    said_en = runner.invoke(app, ["explain", aid, "--db", url], env={"ORETRAIL_LANG": "en", "LANG": "zh_CN.UTF-8"})
    assert "What to check" in said_en.output


def test_every_feed_has_its_words_on_the_portal() -> None:
    from oretrail.feeds import FEEDS

    declare_all()
    missing = [f.name for f in FEEDS if f"web.portal.feed.{f.name}" not in MESSAGES]
    assert missing == []
