"""What the CLI prints, in 简体中文: the main commands run with `--lang zh` while every message rendered is
recorded; each must have a current Chinese translation, every table heading must be a declared message, and
no English sentence may be left in what was printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from oretrail import output
from oretrail.cli import app
from oretrail.cli.i18n import declare_all
from oretrail.i18n import message
from oretrail.i18n.catalogue import PO_LOCALE, _translations
from oretrail.i18n.message import MESSAGES, Message
from oretrail.i18n.po import gaps
from oretrail.sim import simulate
from tests.intake import builders as b

HAN = re.compile(r"[\u4e00-\u9fff]")


def _bad_event_document() -> bytes:
    doc = b.document(b.mining([(b.lot("ore-x"), 10.0)], "w.ore", 0.005))
    doc["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "LBR"
    return b.encode(doc)


# --- the CLI ---------------------------------------------------------------------------------------------
# Three or more lower-case English words in a row: a sentence nobody translated. Identifiers (URIs, ids,
# rule ids, codes) never hold a space, so they do not match.
ENGLISH = re.compile(r"(?<![\w:./-])[a-z]{2,}(?: [a-z]{2,}){2,}(?![\w:./-])")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("zh")
    data = tmp / "data"
    simulate(data, scale=0.02, seed=11)
    env = {"ORETRAIL_SIGNING_KEY": str(tmp / "key.pem"), "ORETRAIL_LANG": "zh"}
    yield f"sqlite:///{tmp / 'zh.db'}", data, env


def _recording(monkeypatch: pytest.MonkeyPatch) -> tuple[list[tuple[str, str]], list[str]]:
    """Every (message key, language) rendered, and every table heading shown that is no message."""
    said: list[tuple[str, str]] = []
    bare: list[str] = []
    render = message.Said.render

    def recorded(self: message.Said, lang: str = "en") -> str:
        said.append((self.key, lang))
        return render(self, lang)

    heading = output.heading

    def headed(column: str) -> str:
        if column not in output.HEADINGS:
            bare.append(column)
        return heading(column)

    monkeypatch.setattr(message.Said, "render", recorded)
    monkeypatch.setattr(output, "heading", headed)
    return said, bare


def test_the_main_commands_in_chinese_leave_nothing_in_english(
    world: tuple[str, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    db, data, env = world
    said, bare = _recording(monkeypatch)
    runner = CliRunner()
    refused = tmp_path / "refused.jsonld"
    refused.write_bytes(_bad_event_document())
    printed: list[str] = []

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, ["--lang", "zh", *args], env=env)
        assert res.exit_code == code, (args, res.output)
        printed.append(res.output)
        return res.output

    run("load", "registry", str(data / "registry.jsonl"), "--db", db)
    loaded = run("load", "events", str(data / "events"), "--db", db)
    assert "个事件" in loaded and "预警" in loaded
    run("load", "licences", str(data / "licences.jsonl"), "--db", db)
    run("load", "declarations", str(data / "declarations.jsonl"), "--db", db)
    rejected = run("load", "events", str(refused), "--db", db, code=1)
    assert "拒收" in rejected and "字段 quantityList[0].uom" in rejected
    run("scan", "--db", db)
    table = run("alerts", "--db", db, "--provisional")
    assert "严重程度" in table and "管辖地" in table
    alert = orjson.loads(run("alerts", "--db", db, "--provisional", "--format", "json"))[0]["id"]
    assert "核查要点" in run("explain", alert, "--db", db)
    lot = orjson.loads(run("trace", "--db", db, "--format", "json", next(iter(_lots(db)))))["lot"]
    assert "⟵ 向后" in run("trace", lot, "--db", db)
    assert "台账完好" in run("verify", "--db", db)
    run("summary", "--db", db)
    assert "不存在批次" in run("trace", "nolot", "--db", db, code=3)
    assert "不存在预警" in run("explain", "nosuchalert", "--db", db, code=3)
    assert "不存在规则" in run("alerts", "--rule", "nosuchrule", "--db", db, code=3)
    for command in (["alerts"], ["explain"], ["trace"], ["verify"], ["load", "events"]):
        assert HAN.search(run(*command, "--help")), command

    current = _translations(PO_LOCALE)
    in_chinese = {key for key, lang in said if lang == "zh"}
    assert len(in_chinese) > 40
    missing = sorted(k for k in in_chinese if k not in current or current[k][0] != MESSAGES[k].en)
    assert missing == []
    assert sorted(set(bare)) == []
    leftovers = sorted({m.group(0) for text in printed for m in ENGLISH.finditer(_words_only(text))})
    assert leftovers == [], leftovers


def _lots(db: str) -> list[str]:
    from sqlalchemy import create_engine, select

    from oretrail.storage.schema import lots

    with create_engine(db).connect() as conn:
        return list(conn.execute(select(lots.c.lot_id).where(lots.c.created_stage == "smelting").limit(1)).scalars())


def _words_only(text: str) -> str:
    """What a reader reads as words: without the JSON of machine output, Click's usage line of command
    names, URIs and paths."""
    skipped = ("{", "[", '"', "Usage:")
    kept = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(skipped))
    return re.sub(r"\S*[:/]\S*", " ", kept)


def test_a_message_without_a_translation_is_caught() -> None:
    declare_all()
    fresh = Message("test.untranslated", "a sentence nobody translated")
    try:
        assert "test.untranslated: no zh_CN translation" in gaps(MESSAGES.values(), PO_LOCALE)
        assert fresh.render("zh") == "a sentence nobody translated"  # shown in English, never blank
    finally:
        del MESSAGES["test.untranslated"]
