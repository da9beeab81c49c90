"""The CLI as people use it: `--db` before or after the subcommand, `--version`, `--format` on every report,
unwrapped errors in pipes, "not found" as an exit code of its own, and where the signing key lives."""

from __future__ import annotations

import fnmatch
import os
from importlib.metadata import version
from pathlib import Path

import orjson
import pytest
from sqlalchemy import create_engine, select, update
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.cli.common import EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_TAMPERED
from oretrail.ledger.keys import LEGACY_KEY_FILE, create_key, key_path, load_key, public_hex
from oretrail.sim import simulate
from oretrail.storage.schema import alerts, ledger, lots
from tests.intake import builders as b

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    res = runner.invoke(app, list(args), env=env)
    return res.exit_code, res.stdout, res.stderr


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("usage")
    simulate(root / "data", scale=0.01, seed=5)
    return root / "data"


@pytest.fixture(scope="module")
def loaded(data: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with every feed loaded and scanned, so there are lots, alerts and checkpoints to ask about."""
    tmp = tmp_path_factory.mktemp("loaded")
    db = f"sqlite:///{tmp / 'usage.db'}"
    env = {"ORETRAIL_SIGNING_KEY": str(tmp / "key.pem")}
    for feed, path in (
        ("registry", "registry.jsonl"),
        ("events", "events"),
        ("licences", "licences.jsonl"),
        ("declarations", "declarations.jsonl"),
        ("mirror", "mirror.csv"),
        ("watchlist", "watchlist.jsonl"),
    ):
        code, _, stderr = run("load", feed, str(data / path), "--db", db, env=env)
        assert code == 0, stderr
    assert run("scan", "--db", db)[0] == 0
    return db


def an_alert(db: str) -> str:
    with create_engine(db).connect() as conn:
        return str(conn.execute(select(alerts.c.id).order_by(alerts.c.id).limit(1)).scalar_one())


def counts(db: str) -> dict[str, float]:
    code, stdout, stderr = run("summary", "--db", db, "--format", "json")
    assert code == 0, stderr
    return {r["what"]: r["count"] for r in orjson.loads(stdout)}


# --- --db before the subcommand, --version -----------------------------------------------------------------
def test_db_is_accepted_before_the_subcommand_and_after_it(data: Path, tmp_path: Path) -> None:
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem")}
    first, second = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
    code, _, stderr = run("--db", first, "load", "registry", str(data / "registry.jsonl"), env=env)
    assert code == 0, stderr
    code, _, stderr = run("load", "--db", second, "events", str(data / "events"), env=env)
    assert code == 0, stderr
    assert counts(first)["enterprises"] > 0 and counts(first)["events (live)"] == 0
    assert counts(second)["events (live)"] > 0 and counts(second)["enterprises"] == 0
    # The nearest --db wins; a --db before the subcommand wins over ORETRAIL_DB.
    code, stdout, _ = run("--db", first, "summary", "--db", second, "--format", "json")
    assert {r["what"]: r["count"] for r in orjson.loads(stdout)}["events (live)"] > 0
    code, stdout, _ = run("--db", second, "summary", "--format", "json", env={"ORETRAIL_DB": first})
    assert {r["what"]: r["count"] for r in orjson.loads(stdout)}["events (live)"] > 0
    code, stdout, _ = run("summary", "--format", "json", env={"ORETRAIL_DB": first})
    assert {r["what"]: r["count"] for r in orjson.loads(stdout)}["enterprises"] > 0


def test_version_prints_the_package_version() -> None:
    code, stdout, _ = run("--version")
    assert code == 0
    assert stdout.strip() == f"oretrail {version('oretrail')}"


# --- nothing wraps in a pipe --------------------------------------------------------------------------------
def _refused_document(tmp_path: Path) -> tuple[Path, str]:
    step = "https://ref.gs1.org/cbv/BizStep-" + "not-a-business-step-" * 8
    ev = b.mining()
    ev["bizStep"] = step
    doc = tmp_path / "refused.jsonld"
    doc.write_bytes(b.encode(b.document(ev)))
    assert len(step) > 120
    return doc, step


def test_a_refusal_in_a_pipe_is_one_unbroken_line(tmp_path: Path) -> None:
    doc, step = _refused_document(tmp_path)
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem")}
    code, _, stderr = run("load", "events", str(doc), "--db", f"sqlite:///{tmp_path / 'x.db'}", env=env)
    assert code == EXIT_REFUSED
    [line] = [ln for ln in stderr.splitlines() if "refused.jsonld" in ln]
    assert step in line and "field bizStep" in line


def test_a_refusal_in_json_is_an_object_naming_document_index_and_field(tmp_path: Path) -> None:
    doc, step = _refused_document(tmp_path)
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem")}
    db = f"sqlite:///{tmp_path / 'x.db'}"
    code, stdout, stderr = run("load", "events", str(doc), "--db", db, "--format", "json", env=env)
    assert code == EXIT_REFUSED
    refusal = orjson.loads(stderr.splitlines()[0])
    assert refusal == {"document": str(doc), "index": 0, "field": "bizStep", "reason": refusal["reason"],
                       "code": refusal["code"]}  # fmt: skip
    assert refusal["code"].startswith("intake.")
    assert step in refusal["reason"]
    # The report on stdout says what became of each event: the refused one, with its field.
    rows = orjson.loads(stdout)
    assert [(r["outcome"], r["index"], r["field"]) for r in rows] == [("refused", 0, "bizStep")]


def test_a_refused_line_in_json_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"licence_no": "EL1", "exporter": "x"}\n')
    code, stdout, stderr = run("load", "licences", str(bad), "--db", f"sqlite:///{tmp_path / 'x.db'}", "-f", "jsonl")
    assert code == EXIT_REFUSED and stdout == ""
    refusal = orjson.loads(stderr)
    assert (refusal["file"], refusal["line"]) == (str(bad), 1) and refusal["field"] and refusal["reason"]


def test_an_unreadable_file_is_refused_by_name(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jsonl"
    code, _, stderr = run("load", "registry", str(missing), "--db", f"sqlite:///{tmp_path / 'x.db'}", "-f", "json")
    assert code == EXIT_REFUSED
    assert orjson.loads(stderr)["file"] == str(missing)


# --- what does not exist is said so, with exit 3 ------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["trace", "urn:oretrail:lot:91360700MA35F0AX28:never-made"], "never-made"),
        (["trace", "urn:oretrail:lot:91360700MA35F0AX28:never-made", "--forward", "-f", "json"], "never-made"),
        (["explain", "ffffffffffff"], "ffffffffffff"),
        (["act", "ffffffffffff", "note", "--actor", "officer.li", "--note", "x"], "ffffffffffff"),
        (["alerts", "--rule", "licence.forged"], "licence.forged"),
        (["alerts", "--province", "CN-XX"], "CN-XX"),
        (["alerts", "--department", "army"], "army"),
        (["scan", "--rule", "no.such_rule"], "no.such_rule"),
    ],
)
def test_an_unknown_lookup_exits_3_naming_what_is_missing(loaded: str, args: list[str], named: str) -> None:
    code, stdout, stderr = run(*args, "--db", loaded)
    assert code == EXIT_NOT_FOUND, stderr
    assert named in stderr and stdout == ""


def test_an_unknown_lookup_in_json_is_a_json_error(loaded: str) -> None:
    code, _, stderr = run("alerts", "--rule", "licence.forged", "--format", "json", "--db", loaded)
    assert code == EXIT_NOT_FOUND
    assert "licence.forged" in orjson.loads(stderr)["error"]


def test_known_filters_are_accepted(loaded: str) -> None:
    for args in (
        ["--rule", "licence.mismatch.port"],  # a finer sub-rule of a listed rule
        ["--rule", "mirror"],  # a family
        ["--province", "CN"],
        ["--province", "CN-JX"],
        ["--department", "customs"],
    ):
        code, _, stderr = run("alerts", *args, "--db", loaded, "--format", "json")
        assert code == 0, (args, stderr)


def test_scan_on_one_connection_or_several_finds_the_same(loaded: str) -> None:
    found = {}
    for workers in ("1", "3"):
        code, stdout, stderr = run("scan", "--workers", workers, "--db", loaded, "--format", "json")
        assert code == 0, stderr
        found[workers] = {r["rule"]: (r["findings"], r["new_alerts"]) for r in orjson.loads(stdout)}
    assert found["1"] == found["3"] and sum(n for n, _ in found["1"].values()) > 0
    code, _, stderr = run("scan", "--workers", "0", "--db", loaded)
    assert code == 2 and "--workers" in stderr


def test_a_known_lot_is_traced(loaded: str) -> None:
    with create_engine(loaded).connect() as conn:
        lot = conn.execute(select(lots.c.lot_id).order_by(lots.c.lot_id).limit(1)).scalar_one()
    code, stdout, _ = run("trace", lot, "--db", loaded, "--format", "json")
    assert code == 0 and orjson.loads(stdout)["lot"] == lot


# --- --format on every report ----------------------------------------------------------------------------------
def test_load_events_reports_what_became_of_each_event(data: Path, tmp_path: Path) -> None:
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem")}
    db = f"sqlite:///{tmp_path / 'x.db'}"
    code, stdout, stderr = run("load", "events", str(data / "events"), "--db", db, "--format", "json", env=env)
    assert code == 0, stderr
    rows = orjson.loads(stdout)
    assert {r["outcome"] for r in rows} <= {"stored", "off_profile", "unchanged", "correction"}
    stored = sum(r["outcome"] == "stored" for r in rows)
    corrected = sum(r["outcome"] == "correction" for r in rows)  # each retracts one stored event
    assert stored - corrected == counts(db)["events (live)"] > 0


@pytest.mark.parametrize(
    ("feed", "path", "keys"),
    [
        ("registry", "registry.jsonl", {"file", "new", "changed", "unchanged"}),
        ("licences", "licences.jsonl", {"file", "new", "alerts_new"}),
        ("mirror", "mirror.csv", {"file", "rows", "periods_replaced", "alerts_new"}),
        ("watchlist", "watchlist.jsonl", {"file", "entities", "version", "added", "removed", "alerts_new"}),
    ],
)
def test_every_load_reports_in_jsonl_and_csv(data: Path, tmp_path: Path, feed: str, path: str, keys: set[str]) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    code, stdout, stderr = run("load", feed, str(data / path), "--db", db, "--format", "jsonl")
    assert code == 0, stderr
    [line] = stdout.splitlines()
    assert keys <= set(orjson.loads(line))
    code, stdout, _ = run("load", feed, str(data / path), "--db", db, "--format", "csv")
    header, row = stdout.splitlines()
    assert keys <= set(header.split(",")) and row.startswith(str(data / path))


def test_verify_and_rebuild_report_in_json_and_verify_exits_2_when_tampered(data: Path, tmp_path: Path) -> None:
    env = {"ORETRAIL_SIGNING_KEY": str(tmp_path / "key.pem")}
    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert run("load", "events", str(data / "events"), "--db", db, env=env)[0] == 0
    code, stdout, _ = run("verify", "--db", db, "--format", "json")
    verdict = orjson.loads(stdout)
    assert code == 0 and verdict["ok"] is True and verdict["records"] > 0 and verdict["checkpoints"] > 0
    code, stdout, stderr = run("rebuild", "--db", db, "--format", "json")
    assert code == 0 and stderr == "" and sum(orjson.loads(stdout).values()) > 0
    with create_engine(db).begin() as conn:
        conn.execute(update(ledger).where(ledger.c.seq == 3).values(body='{"forged": true}'))
    code, stdout, _ = run("verify", "--db", db, "--format", "jsonl")
    verdict = orjson.loads(stdout)
    assert code == EXIT_TAMPERED and (verdict["ok"], verdict["first_bad_seq"]) == (False, 3)


def test_explain_in_json_is_the_record_with_its_evidence_and_history(loaded: str) -> None:
    alert = an_alert(loaded)
    words = run("explain", alert[:12], "--db", loaded)[1]
    assert words.startswith(f"Alert {alert}")
    code, stdout, stderr = run("act", alert[:12], "investigate", "--actor", "officer.li", "--db", loaded, "-f", "json")
    assert code == 0, stderr
    state = orjson.loads(stdout)
    assert (state["alert_id"], state["status"]) == (alert, "investigating")
    code, stdout, _ = run("explain", alert, "--db", loaded, "--format", "json")
    record = orjson.loads(stdout)
    assert code == 0 and record["id"] == alert
    assert {"rule", "severity", "subject", "jurisdiction", "departments", "evidence", "message"} <= set(record)
    assert record["status"] == "investigating" and record["history"][-1]["actor"] == "officer.li"
    assert len(record["evidence_described"]) == len(record["evidence"]) and record["details"]


def test_act_in_table_keeps_its_words(loaded: str) -> None:
    alert = an_alert(loaded)
    code, stdout, stderr = run(
        "act", alert, "share", "--actor", "officer.li", "--department", "customs", "--db", loaded
    )
    assert code == 0 and stdout == ""
    assert f"alert {alert[:12]} is" in stderr and "shared with customs" in stderr


# --- the signing key -------------------------------------------------------------------------------------------
@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder of its own, no ORETRAIL_SIGNING_KEY, and a data folder inside the test's tmp."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("ORETRAIL_SIGNING_KEY", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    return work


def test_the_key_is_kept_beside_the_database_not_in_the_working_folder(data: Path, workdir: Path) -> None:
    store = workdir.parent / "store"
    db = f"sqlite:///{store / 'oretrail.db'}"
    store.mkdir()
    code, _, stderr = run("--db", db, "load", "events", str(data / "events"))
    assert code == 0, stderr
    key = store / "oretrail.db.signing.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert list(workdir.iterdir()) == []
    trusted = public_hex(load_key(key))
    assert run("verify", "--db", db, "--public-key", trusted)[0] == 0
    stranger = public_hex(create_key(workdir.parent / "other.pem"))
    assert run("verify", "--db", db, "--public-key", stranger)[0] == EXIT_TAMPERED


def test_a_server_database_keeps_its_key_in_the_data_folder(workdir: Path) -> None:
    path = key_path(database="postgresql+psycopg://officer:secret@db.example:5433/oretrail")
    assert path == workdir.parent / "xdg" / "oretrail" / "postgresql-db.example-5433-oretrail.signing.key"
    assert "secret" not in str(path)
    assert key_path(database="sqlite://").parent == workdir.parent / "xdg" / "oretrail"
    assert key_path(database="sqlite:///rel/x.db") == Path("rel/x.db.signing.key")


def test_the_environment_still_wins(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(workdir.parent / "chosen.pem"))
    assert key_path(database="sqlite:///x.db") == workdir.parent / "chosen.pem"


def test_a_key_left_in_the_working_folder_is_not_silently_replaced(data: Path, workdir: Path) -> None:
    legacy = workdir / LEGACY_KEY_FILE
    create_key(legacy)
    db = f"sqlite:///{workdir.parent / 'x.db'}"
    code, _, stderr = run("load", "events", str(data / "events"), "--db", db)
    assert code == EXIT_REFUSED
    assert LEGACY_KEY_FILE in stderr and "x.db.signing.key" in stderr
    assert not (workdir.parent / "x.db.signing.key").exists()
    code, _, stderr = run("load", "events", str(data / "events"), "--db", db, env={"ORETRAIL_SIGNING_KEY": str(legacy)})
    assert code == 0, stderr


def test_gitignore_lists_the_key_files() -> None:
    patterns = [ln.strip() for ln in (ROOT / ".gitignore").read_text().splitlines() if ln.strip()]
    for name in ("oretrail.db.signing.key", LEGACY_KEY_FILE):
        assert any(fnmatch.fnmatch(name, p) for p in patterns), name


def test_the_readme_shows_db_before_the_subcommand_and_version() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "oretrail --db " in readme and "oretrail --version" in readme
    assert all(f"exit {n}" in readme or f"exits {n}" in readme for n in (EXIT_REFUSED, EXIT_TAMPERED, EXIT_NOT_FOUND))
    assert os.path.basename(str(key_path(database="sqlite:///oretrail.db"))) in readme
