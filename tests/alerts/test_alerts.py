"""Alert store, routing, severity, explanation and workflow, on both back ends."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from oretrail.alerts import routing
from oretrail.alerts.explain import explain
from oretrail.alerts.judge import judge
from oretrail.alerts.severity import severity
from oretrail.alerts.store import alert_id, query_alerts, record_findings
from oretrail.alerts.workflow import WorkflowError, record_action, state
from oretrail.catalogue.model import Catalogue
from oretrail.cli import app
from oretrail.rules import table
from oretrail.rules.base import Finding
from oretrail.rules.config import Config, Settings
from oretrail.rules.runner import RULE_IDS, RULES, run_rules
from oretrail.rules.scope import Scope
from oretrail.storage.schema import alerts
from tests.rules.state import EXPORTER, REFINERY, State, national_sample

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def _finding(**over: object) -> Finding:
    base: dict[str, object] = {
        "rule": "licence.missing",
        "subject_kind": "declaration",
        "subject_id": "530120250000000001",
        "message": "m",
        "evidence": ("530120250000000001",),
        "details": {},
        "material": "ga.metal",
        "stake_g": 1000,
    }
    return Finding(**(base | over))  # type: ignore[arg-type]


def test_rescan_raises_nothing_new_and_ids_are_deterministic(
    engine: Engine, cat: Catalogue, settings: Settings
) -> None:
    with engine.begin() as conn:
        national_sample(State(conn))
        first = judge(conn, None, settings)
        again = judge(conn, None, settings)
        stored = conn.execute(select(func.count()).select_from(alerts)).scalar_one()
        # A capture-time run over everything the sample touched finds the same alerts, all already there.
        scoped = judge(conn, Scope(declaration_nos=frozenset({"530120250000000001"})), settings)
    assert len(first.new) == stored >= len(RULE_IDS)
    assert again.new == [] and sorted({alert_id(*f.ident) for f in again.findings}) == sorted(first.new)
    assert (again.withdrawn, again.reinstated) == (0, 0)
    assert scoped.new == [] and len(scoped.findings) == 2  # licence.missing and declaration.unit_value
    assert scoped.withdrawn == 0  # what the scope covers is found again, nothing else is judged
    assert alert_id("licence.missing", "declaration", "530120250000000001") in first.new


def test_jsonl_record_is_exactly_the_spec_record(engine: Engine, cat: Catalogue, settings: Settings) -> None:
    with engine.begin() as conn:
        national_sample(State(conn))
        judge(conn, None, settings)
        records = list(query_alerts(conn, rule="licence.missing"))
    assert len(records) == 1
    r = records[0]
    assert list(r) == [
        "id",
        "rule",
        "severity",
        "raised_at",
        "subject",
        "jurisdiction",
        "departments",
        "evidence",
        "message",
    ]
    assert r["subject"] == {"kind": "declaration", "id": "530120250000000001"}
    assert r["jurisdiction"] == "CN-JX" and r["departments"] == ["customs", "commerce"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", r["raised_at"])


def test_routing_facility_then_owner_then_party_then_national(engine: Engine) -> None:
    unknown_site = "urn:oretrail:loc:91360700MA35F0AX28:depot-77"
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise(EXPORTER, province="CN-JX")
        st.facility(REFINERY, province="CN-HN")  # a Jiangxi firm's plant in Hunan: the plant's province counts
        found = routing.jurisdictions(
            conn,
            [
                _finding(location=REFINERY, party=EXPORTER),
                _finding(location=unknown_site),
                _finding(party=EXPORTER),
                _finding(location="urn:oretrail:port:CNSZX", party="urn:oretrail:party:uscc:91110000100000000X"),
            ],
        )
    assert found == ["CN-HN", "CN-JX", "CN-JX", "CN"]


def test_the_docs_table_is_written_from_the_declarations() -> None:
    assert routing.departments("balance.lot") == ("industry", "natural_resources")
    assert routing.departments("licence.mismatch.port") == routing.departments("licence.mismatch")
    assert routing.departments("no.such_rule") == ("central",)
    text = DOCS.read_text()
    assert table.markdown() in text, "docs/rules.md is stale: run python -m oretrail.rules.table docs/rules.md"
    block = text.split(table.BEGIN, 1)[1].split(table.END, 1)[0]
    documented = dict(re.findall(r"^\| `([a-z_.]+)` \| [^|]+ \| [^|]+ \| ([a-z_, ]+) \|", block, re.MULTILINE))
    assert documented == {r.id: ", ".join(r.departments) for r in RULES}


def test_severity_policy(cat: Catalogue, cfg: Config) -> None:
    price = cat.materials["ga.metal"].unit_value_min  # USD/kg, lower reference bound
    line_kg = cfg.statutory_line_usd / price
    assert severity(_finding(stake_g=round(line_kg * 1000) - 1000), cat, cfg) == "medium"
    assert severity(_finding(stake_g=round(line_kg * 1000) + 1000), cat, cfg) == "high"
    assert severity(_finding(stake_g=round(line_kg * cfg.critical_multiple * 1000) + 1000), cat, cfg) == "critical"
    # The declared value counts when it is higher than the reference price.
    assert severity(_finding(stake_g=1, value_usd=cfg.statutory_line_usd), cat, cfg) == "high"
    assert severity(_finding(controlled=False, stake_g=1), cat, cfg) == "low"
    assert severity(_finding(controlled=False, material=None, value_usd=cfg.statutory_line_usd), cat, cfg) == "medium"


def test_explain_walks_the_evidence_in_plain_words(engine: Engine, cat: Catalogue, settings: Settings) -> None:
    with engine.begin() as conn:
        national_sample(State(conn))
        judge(conn, None, settings)
        aid = alert_id("trace.no_provenance", "lot", "urn:oretrail:lot:A:m2")
        text = explain(conn, aid)
        with pytest.raises(KeyError):
            explain(conn, "0" * 64)
    assert "trace.no_provenance" in text and "urn:oretrail:lot:X:ghost" in text
    assert "declaration 530120250000000051:" in text  # the declaration looked up, not just named
    assert "event urn:uuid:exp-51: export departing" in text
    assert "What to check:" in text and "purchase records" in text


def test_workflow_is_an_append_only_log_with_derived_state(engine: Engine, cat: Catalogue, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.declaration(licence_no=None)
        (aid,) = record_findings(conn, run_rules(conn, catalogue=cat, rules=["licence.missing"]), settings).new
        t = datetime(2025, 7, 1)
        record_action(conn, aid, "assign", "officer.li", note="officer.wang", at=t)
        record_action(conn, aid, "share", "officer.wang", department="commerce", at=t)
        with pytest.raises(WorkflowError):
            record_action(conn, aid, "share", "officer.wang", department="army", at=t)
        with pytest.raises(WorkflowError):
            record_action(conn, aid, "dismiss", "officer.wang", at=t)  # no reason given
        record_action(conn, aid, "dismiss", "officer.wang", note="licence found under a typo", at=t)
        with pytest.raises(WorkflowError):
            record_action(conn, aid, "assign", "officer.li", note="officer.zhao", at=t)
        record_action(conn, aid, "comment", "officer.li", note="typo reported to MOFCOM", at=t)
        s = state(conn, aid)
        assert "officer.wang: dismiss" in explain(conn, aid)
    assert s.status == "dismissed" and s.assignee == "officer.wang" and s.shared_with == ["commerce"]
    assert [a.action for a in s.history] == ["assign", "share", "dismiss", "comment"]


def test_cli_load_scan_alerts_explain(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    decl = {
        "declaration_no": "530120250000000001",
        "date": "2025-06-03",
        "exporter": EXPORTER,
        "hs_code": "8112929010",
        "net_kg": 120.0,
        "value_usd": 84000.0,
        "destination": "DE",
        "consignee": "Example Semiconductor GmbH",
        "port": "CNSZX",
        "licence_no": None,
    }
    f = tmp_path / "decl.jsonl"
    f.write_bytes(orjson.dumps(decl) + b"\n")
    runner = CliRunner()
    res = runner.invoke(app, ["load", "declarations", str(f), "--db", db], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "alerts: 1 new" in res.output  # raised at load time, from the batch's own scope
    res = runner.invoke(app, ["scan", "--db", db, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert orjson.loads(res.stdout.splitlines()[0]) == {"rule": "licence.missing", "findings": 1, "new_alerts": 0}
    res = runner.invoke(app, ["alerts", "--db", db, "--format", "jsonl", "--department", "customs"])
    (line,) = res.stdout.splitlines()
    rec = orjson.loads(line)
    assert rec["rule"] == "licence.missing" and rec["subject"]["id"] == "530120250000000001"
    res = runner.invoke(app, ["alerts", "--db", db, "--format", "jsonl", "--province", "CN-JX"])
    assert res.stdout == ""  # exporter not in the registry: jurisdiction CN
    res = runner.invoke(app, ["explain", rec["id"][:10], "--db", db])
    assert res.exit_code == 0 and "cites no export licence" in res.stdout
