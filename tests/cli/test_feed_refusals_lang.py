"""The refusals of every line-oriented feed, and of the alert workflow and bulletins, as `oretrail --lang zh`
and `--lang en` print them: the file, line and field named in both, the reason in the reader's language, and in
Chinese no English sentence left (the value at fault aside)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from oretrail.alerts.store import alert_id
from oretrail.cli import app
from oretrail.storage.engine import make_engine, migrate
from oretrail.storage.schema import alerts
from tests.api.test_feed_refusals_i18n import REFUSALS
from tests.cli.test_lang import ENGLISH, HAN, _words_only

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'refusals.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


def _run(lang: str, *args: str, env: dict[str, str], code: int) -> str:
    res = runner.invoke(app, ["--lang", lang, *args], env=env)
    assert res.exit_code == code, (args, res.output)
    return res.stderr


def _plain(text: str) -> str:
    """What was printed, as one line (the console wraps long lines)."""
    return " ".join(text.split())


def _no_english_sentence(text: str) -> None:
    """No run of three English words, commands quoted as code (`oretrail load watchlist FILE`) aside."""
    assert ENGLISH.findall(_words_only(re.sub(r"`[^`]*`", " ", text))) == [], text


@pytest.mark.parametrize("feed", sorted(REFUSALS))
def test_a_feeds_refusal_reads_in_the_chosen_language(feed: str, db: str, tmp_path: Path) -> None:
    body, line, field, code, value = REFUSALS[feed]
    source = tmp_path / f"{feed}.sample"
    source.write_bytes(body)
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem"), "COLUMNS": "400"}
    zh = _plain(_run("zh", "load", feed, str(source), "--db", db, env=env, code=1))
    en = _plain(_run("en", "load", feed, str(source), "--db", db, env=env, code=1))
    assert f"第 {line} 行 字段 {field}：" in zh and HAN.search(zh.split("：", 1)[1]), zh
    assert f"line {line} field {field}: " in en and not HAN.search(en), en
    assert value in zh and value in en
    _no_english_sentence(zh)
    machine = orjson.loads(_run("zh", "load", feed, str(source), "--db", db, "-f", "json", env=env, code=1))
    assert (machine["line"], machine["field"], machine["code"]) == (line, field, code)


def test_workflow_bulletin_and_screening_errors_read_in_the_chosen_language(db: str, tmp_path: Path) -> None:
    alert = alert_id("mirror.gap", "trade-flow", "DE:811292:202506")
    now = datetime(2025, 7, 1)
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(
            insert(alerts),
            [{"id": alert, "rule": "mirror.gap", "severity": "high", "raised_at": now, "subject_kind": "trade-flow",
              "subject_id": "DE:811292:202506", "jurisdiction": "CN", "party": None, "departments": '["customs"]',
              "evidence": "[]", "message_key": "alert.legacy", "message_params": '{"text": "a gap"}',
              "details": "{}", "settles_at": None, "settled_at": now, "withdrawn_at": None, "status": "new",
              "level": "central", "shared_with": "[]"}],
        )  # fmt: skip
    engine.dispose()
    env = {"COLUMNS": "400"}
    names = tmp_path / "names.txt"
    names.write_text("Gazprom\n«»\n", encoding="utf-8")
    cases = [
        (("screen", "--file", str(names)), 1, "第 2 行，字段 name：'«»' 不含可筛查", "line 2, field name: '«»' has no"),
        (("screen", "Gazprom"), 1, "尚未载入关注名单", "no watch list is loaded"),
        (("act", alert, "dismiss", "--actor", "officer.li"), 1, "排除须附备注", "dismiss needs a note"),
        (("act", alert, "hand_down", "--actor", "officer.li", "--province", "CN-XX"), 1, "交办须注明省份",
         "hand_down needs the province"),
        (("bulletins", "show", "BLT-none"), 3, "不存在通报 BLT-none", "no bulletin BLT-none"),
    ]  # fmt: skip
    for args, code, in_zh, in_en in cases:
        zh = _plain(_run("zh", *args, "--db", db, env=env, code=code))
        en = _plain(_run("en", *args, "--db", db, env=env, code=code))
        assert in_zh in zh and in_en in en, (zh, en)
        _no_english_sentence(zh)
