"""What the CLI prints, in 简体中文: the commands run with `--lang zh` (or ORETRAIL_LANG=zh) while every message
rendered is recorded; each must have a current Chinese translation, every table heading and title must be a
declared message, and no English sentence may be left in what was printed. Every command's `--help`, found by
walking the app as Typer builds it, is held to the same, and so is a representative run of each group.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import typer.main
from typer.testing import CliRunner

from oretrail import output
from oretrail.cli import app
from oretrail.cli.common import HELP, OPTION_HELP
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
    title_of = output.title_of

    def headed(column: str) -> str:
        if column not in output.HEADINGS:
            bare.append(column)
        return heading(column)

    def titled(title: str | message.Message | message.Said | None) -> str | None:
        if isinstance(title, str) and title not in output.TITLES:
            bare.append(title)
        return title_of(title)

    monkeypatch.setattr(message.Said, "render", recorded)
    monkeypatch.setattr(output, "heading", headed)
    monkeypatch.setattr(output, "title_of", titled)
    return said, bare


def _in_chinese_throughout(said: list[tuple[str, str]], bare: list[str], printed: list[str]) -> None:
    """Every message rendered in Chinese has a current translation, every heading and title is a message, and
    no English sentence is left."""
    current = _translations(PO_LOCALE)
    in_chinese = {key for key, lang in said if lang == "zh"}
    missing = sorted(k for k in in_chinese if k not in current or current[k][0] != MESSAGES[k].en)
    assert missing == []
    assert sorted(set(bare)) == []
    leftovers = sorted({m.group(0) for text in printed for m in ENGLISH.finditer(_words_only(text))})
    assert leftovers == [], leftovers


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

    assert len({key for key, lang in said if lang == "zh"}) > 40
    _in_chinese_throughout(said, bare, printed)


def _lots(db: str) -> list[str]:
    from sqlalchemy import create_engine, select

    from oretrail.storage.schema import lots

    with create_engine(db).connect() as conn:
        return list(conn.execute(select(lots.c.lot_id).where(lots.c.created_stage == "smelting").limit(1)).scalars())


def _words_only(text: str) -> str:
    """What a reader reads as words: without the JSON of machine output, Click's usage line of command
    names and its 'oretrail … --help' hint, commands quoted in `backticks` or given to run (`python3 -m uv run
    oretrail …`), URIs and paths."""
    skipped = ("{", "[", '"', "Usage:")
    kept = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(skipped))
    kept = re.sub(r"`[^`]*`|'[^'\n]*--help'|python3 -m uv run oretrail [^\n│#]*", " ", kept)
    return re.sub(r"\S*[:/]\S*", " ", kept)


def test_a_message_without_a_translation_is_caught() -> None:
    declare_all()
    fresh = Message("test.untranslated", "a sentence nobody translated")
    try:
        assert "test.untranslated: no zh_CN translation" in gaps(MESSAGES.values(), PO_LOCALE)
        assert fresh.render("zh") == "a sentence nobody translated"  # shown in English, never blank
    finally:
        del MESSAGES["test.untranslated"]


# --- every command's help ----------------------------------------------------------------------------------
def _walk(command: object, path: str = "") -> Iterator[tuple[str, object]]:
    yield path, command
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        yield from _walk(sub, f"{path} {name}".strip())


COMMANDS = [path for path, _ in _walk(typer.main.get_command(app))]


def test_the_walk_finds_every_group_and_its_subcommands() -> None:
    assert len(COMMANDS) > 60
    wanted = ["", "users add", "keys issue", "signing show", "notify status", "supervision tick", "export parquet",
              "load events", "i18n check", "bulletins ack", "channels show", "plan inspections", "demo"]  # fmt: skip
    assert set(wanted) <= set(COMMANDS)


def test_every_command_and_option_declares_its_help() -> None:
    """A command or option whose help is no message would be shown in English to a Chinese reader."""
    undeclared = []
    for path, command in _walk(typer.main.get_command(app)):
        if path not in HELP:
            undeclared.append(path or "oretrail")
        undeclared += [f"{path} {p.name}" for p in getattr(command, "params", ()) if p.help not in OPTION_HELP]
    assert undeclared == []


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p or "oretrail")
def test_every_help_in_chinese(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    said, bare = _recording(monkeypatch)
    res = CliRunner().invoke(app, ["--lang", "zh", *path.split(), "--help"])
    assert res.exit_code == 0, res.output
    assert HAN.search(res.output)
    assert "选项" in res.output  # Typer's own panel titles too
    assert {key for key, _ in said} >= {HELP[path].key, "help.option.help"}
    _in_chinese_throughout(said, bare, [res.output])


def test_help_follows_the_language_given_after_help_or_only_in_the_environment() -> None:
    runner = CliRunner()
    assert "选项" in runner.invoke(app, ["--help", "--lang", "zh"]).output
    assert "显示此帮助信息" in runner.invoke(app, ["users", "add", "--help"], env={"ORETRAIL_LANG": "zh"}).output
    english = runner.invoke(app, ["--lang", "en", "users", "add", "--help"], env={"ORETRAIL_LANG": "zh"}).output
    assert "Make an account" in english and "Options" in english and not HAN.search(english)


# --- what the other commands print -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    from oretrail.feeds import load_dataset
    from oretrail.rules.config import load_settings
    from oretrail.storage.engine import open_database

    tmp = tmp_path_factory.mktemp("zhgroups")
    data = tmp / "data"
    simulate(data, scale=0.01, seed=5)
    env = {"ORETRAIL_SIGNING_KEY": str(tmp / "key.pem"), "ORETRAIL_LANG": "zh"}
    db = f"sqlite:///{tmp / 'groups.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORETRAIL_SIGNING_KEY", env["ORETRAIL_SIGNING_KEY"])
        load_dataset(open_database(db), data, load_settings())
    yield db, data, env


def _first(db: str, column: object) -> str:
    from sqlalchemy import create_engine, select

    with create_engine(db).connect() as conn:
        return str(conn.execute(select(column).limit(1)).scalar_one())


def test_each_group_prints_in_chinese(
    loaded: tuple[str, Path, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No `--lang`: ORETRAIL_LANG chooses, as it does for help."""
    from oretrail.storage.schema import declarations, enterprises

    db, data, env = loaded
    said, bare = _recording(monkeypatch)
    runner = CliRunner()
    printed: list[str] = []

    def run(*args: str, code: int = 0, stdin: str | None = None) -> str:
        local = args[0] in ("simulate", "i18n") or args[:2] == ("supervision", "guidance")
        res = runner.invoke(app, list(args) if local else [*args, "--db", db], env=env, input=stdin)
        assert res.exit_code == code, (args, res.output)
        printed.append(res.output)
        return res.output

    # users, keys, audit
    assert "已添加 alice" in run(
        "users", "add", "alice", "--role", "central", "--password-stdin", stdin="a long password\n"
    )
    refused = run("users", "add", "bob", "--role", "provincial", "--no-password", code=1)
    assert "错误" in refused and "bob：角色 provincial 需要 province且department" in refused
    assert "密码至少需要" in run(
        "users", "add", "carol", "--role", "central", "--password-stdin", stdin="short\n", code=1
    )
    listed = run("users", "list")
    assert "账户" in listed and "│ 否 " in listed and "False" not in listed  # not an API account
    assert "已停用 alice" in run("users", "disable", "alice")
    assert "不存在用户 nobody" in run("users", "disable", "nobody", code=3)
    assert "仅显示这一次" in run("keys", "issue", "alice", "--label", "ERP")
    assert "不存在用户 nobody" in run("keys", "issue", "nobody", code=3)
    assert "密钥有效期为 1 至 366 天" in run("keys", "issue", "alice", "--days", "999", code=1)
    assert "到期时间" in run("keys", "list")
    assert "不存在密钥 nokey" in run("keys", "revoke", "nokey", code=3)
    assert "审计日志完好" in run("audit", "--verify")
    assert "操作人" in run("audit")
    assert "不存在结果 bogus" in run("audit", "--outcome", "bogus", code=3)
    # the signing key, the ledger
    assert "签名密钥" in run("signing", "show")
    assert HAN.search(run("signing", "init", code=1).split("错误", 1)[1])  # a key is recorded already
    rebuilt = run("rebuild")
    assert "已从台账重建" in rebuilt and "企业" in rebuilt
    # bulletins
    bulletin = tmp_path / "bulletin.json"
    named = {"name": "EXAMPLE SEMICONDUCTOR GMBH", "country": "DE"}
    bulletin.write_bytes(orjson.dumps({"severity": "high", "title": {"zh": "关于可疑收货人的预警", "en": "Warning"},
                                       "body": {"zh": "该收货人疑似转运镓产品。", "en": "Suspected."},
                                       "valid_until": "2099-03-31", "departments": ["customs"], "provinces": ["CN"],
                                       "names": [named]}))  # fmt: skip
    issued = run("bulletins", "issue", str(bulletin), "--issuer", "li", "--department", "customs")
    assert "已发送给 1 个接收单位" in issued
    bulletin_id = issued.split()[1]
    assert "不存在部门 nowhere" in run("bulletins", "issue", str(bulletin), "--issuer", "li", "--department",
                                        "nowhere", code=1)  # fmt: skip
    assert "通报" in run("bulletins", "list") and "待确认" in run("bulletins", "show", bulletin_id)
    assert "确认收悉" in run("bulletins", "ack", bulletin_id, "--department", "customs", "--actor", "li")
    run("bulletins", "remind")
    # screening against the watch list (and the bulletin's consignee)
    assert "筛查命中" in run("screen", "EXAMPLE SEMICONDUCTOR GMBH")
    assert "没有要筛查的名称" in run("screen", code=1)
    # supervision, plans, reports, channels
    party = _first(db, enterprises.c.party_id)
    assert "风险评分" in run("supervision", "scores")
    assert "整改措施" in run("supervision", "actions")
    assert "监管规则" in run("supervision", "tick")
    assert "指导文件" in run("supervision", "guidance")
    assert "家企业中选出" in run("plan", "inspections", "--province", "CN-JX", "--month", "2024-03", "--capacity", "2")
    assert "--month 2024-13：应为 YYYY-MM" in run("plan", "inspections", "--province", "CN-JX", "--month", "2024-13",
                                                  "--capacity", "2", code=1)  # fmt: skip
    assert "截至" in run("dossier", party, "--format", "table")
    assert "登记中不存在企业 nobody" in run("dossier", "nobody", "--format", "table", code=3)
    assert "海关通道" in run("channels", "assign")
    assert "尚未分配通道" in run("channels", "show", "no-such-declaration", "--format", "table", code=3)
    run("channels", "show", _first(db, declarations.c.declaration_no), "--format", "table")
    # export, notifications
    assert "导出：台账" in run("export", "parquet", str(tmp_path / "export"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_bytes(b'{"format": "elsewhere"}')
    assert "字段 format 为 'elsewhere'" in run("export", "parquet", str(other), code=1)
    assert "尚无任何投递目标" in run("notify", "status")
    assert "需要 http:// 或 https:// 地址" in run("notify", "subscribe", "ftp://x", code=1)
    assert "签名密钥" in run("notify", "subscribe", "https://example.org/hook")
    assert "位置" in run("notify", "subscriptions")
    assert "不存在网络钩子订阅 99" in run("notify", "unsubscribe", "99", code=3)
    assert "--once 与 --follow 必须且只能给出其一" in run("notify", "publish", code=1)
    # the simulator and its evaluation, the catalogue
    assert "个事件" in run("simulate", str(tmp_path / "sim"), "--scale", "0.002")
    assert "总体召回率" in run("evaluate", str(data / "labels.jsonl"))
    assert "条消息" in run("i18n", "check")

    assert len({key for key, lang in said if lang == "zh"}) > 60
    _in_chinese_throughout(said, bare, printed)


USAGE = [
    (["keys", "issue", "alice", "--days", "abc"], "'--days' 的值无效：应为有效整数"),
    (["audit", "--since", "someday"], "'--since' 的值无效：应为有效的日期时间"),
    (["users", "list", "--format", "bad"], "'--format' / '-f' 的值无效：'bad' 不是"),
    (["screen", "--threshold", "2", "x"], "'--threshold' 的值无效"),
    (["users", "add", "bob"], "缺少选项 '--role'"),
    (["keys", "issue"], "缺少参数 'user'"),
    (["users", "list", "--bogus"], "不存在选项：--bogus"),
    (["nosuch"], "不存在命令 'nosuch'"),
    (["users", "list", "extra"], "多余的参数（extra）"),
]


@pytest.mark.parametrize(("args", "said"), USAGE, ids=lambda a: " ".join(a) if isinstance(a, list) else "")
def test_a_refused_command_line_names_the_option_in_chinese(
    args: list[str], said: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    recorded, bare = _recording(monkeypatch)
    res = CliRunner().invoke(app, ["--lang", "zh", "--db", f"sqlite:///{tmp_path / 'u.db'}", *args])
    assert res.exit_code == 2, res.output
    assert said in res.output and "错误" in res.output and "查看帮助" in res.output
    _in_chinese_throughout(recorded, bare, [res.output])


def test_a_refused_command_line_in_english_still_names_the_option() -> None:
    res = CliRunner().invoke(app, ["--lang", "en", "keys", "issue", "alice", "--days", "abc"])
    assert res.exit_code == 2 and "Invalid value for '--days': Input should be a valid integer" in res.output


def test_the_demo_in_chinese(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    said, bare = _recording(monkeypatch)
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))
    res = CliRunner().invoke(app, ["--lang", "zh", "demo", "--dir", str(tmp_path / "demo"), "--scale", "0.005"])
    assert res.exit_code == 0, res.output
    for words in ("模拟的全国战略矿产经济", "全面扫描", "在案数据", "按规则统计的预警", "按风险排列的企业", "风险评分",
                  "对照预设违规的检出情况", "总体召回率", "可继续查看"):  # fmt: skip
        assert words in res.output, words
    _in_chinese_throughout(said, bare, [res.output])
