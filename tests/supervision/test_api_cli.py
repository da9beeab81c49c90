"""Supervision through the API (permissions: an enterprise sees its own, officers their province; problems
as application/problem+json) and the CLI, on a small simulated world."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from oretrail.cli import app
from tests.api.conftest import E1, E2, World

PERIOD = "2025-03"


def _records() -> list[dict]:
    review = {"kind": "review", "id": "REV-1", "enterprise": E1, "reviewer": "jx", "date": "2025-02-01",
              "elements": {e: {"level": 2, "findings": "", "evidence": ["doc:manual-v1"]}
                           for e in ("policy", "organisation", "risk", "review", "emergency", "training", "audit",
                                     "records", "manual")}}  # fmt: skip
    later = {**review, "id": "REV-2", "date": "2025-05-01",
             "elements": {**review["elements"], "review": {"level": 4, "findings": "screening in ERP"}}}  # fmt: skip
    ins = {"kind": "inspection", "id": "INS-1", "enterprise": E2, "province": "CN-HN", "inspector": "hn",
           "date": "2025-02-10", "basis": "risk", "items": [{"item": "icp.records", "result": "major"}],
           "actions": [{"id": "CA-1", "item": "icp.records", "text": "keep files five years"}]}  # fmt: skip
    return [review, later, ins]


def test_records_reviews_dossier_and_permissions(world: World) -> None:
    api = world.api
    body = b"\n".join(orjson.dumps(r) for r in _records())
    # A Jiangxi inspector may not record a Hunan enterprise's inspection: refused whole, naming the line.
    r = api.post("jx-inspector", "/capture/supervision", content=body)
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert "line 3" in r.json()["detail"]
    assert api.post("central", "/capture/supervision", content=body).status_code == 200

    review = api.get("ent-1", "/supervision/reviews/REV-2", headers={"Accept-Language": "zh"}).json()
    assert review["score_change"] == round(100 * 4 / 44, 1)  # the review element (weight 2) rose 2 levels
    assert [e["change"] for e in review["elements"] if e["element"] == "review"] == [2]
    assert review["guidance"] and review["guidance"][0]["documents"] and "得分" in review["method"]
    assert api.get("ent-2", "/supervision/reviews/REV-2").status_code == 403
    assert {x["id"] for x in api.get("ent-1", "/supervision/reviews").json()} == {"REV-1", "REV-2"}
    assert api.get("ent-2", "/supervision/reviews").json() == []
    assert [a["id"] for a in api.get("hn-commerce", "/supervision/actions").json()] == ["CA-1"]
    assert api.get("jx-commerce", "/supervision/actions").json() == []

    d = api.get("ent-1", f"/enterprises/{E1}/dossier").json()
    assert [x["id"] for x in d["reviews"]] == ["REV-1", "REV-2"] and d["timeline"]
    denied = api.get("ent-1", f"/enterprises/{E2}/dossier")
    assert denied.status_code == 403 and denied.headers["content-type"] == "application/problem+json"
    missing = api.get("central", "/enterprises/urn:oretrail:party:uscc:000000000000000000/dossier")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"

    plan = api.post("jx-inspector", "/supervision/plans",
                    json={"province": "CN-JX", "month": "2025-06", "capacity": 1, "seed": 2})  # fmt: skip
    assert plan.status_code == 200 and len(plan.json()["picks"]) == 1
    assert api.post("jx-inspector", "/supervision/plans",
                    json={"province": "CN-HN", "month": "2025-06", "capacity": 1}).status_code == 403  # fmt: skip
    risk = api.get("central", f"/enterprises/{E1}/risk").json()
    assert risk["history"] and {c["component"] for c in risk["history"][-1]["components"]} >= {"review", "alerts"}
    zh = api.get("central", "/supervision/template", headers={"Accept-Language": "zh"}).json()
    assert zh["elements"][0]["name"] == "拟定政策声明" and len(zh["elements"]) == 9


def test_reports_capture_prefill_and_channels(world: World) -> None:
    api = world.api
    report = {"enterprise": E1, "period": PERIOD, "filed_at": "2025-04-05T10:00:00+08:00",
              "lines": [{"material": "sb.ore", "produced_kg": 10}]}  # fmt: skip
    assert api.post("ent-2", "/capture/reports", content=orjson.dumps(report)).status_code == 403
    assert api.post("ent-1", "/capture/reports", content=orjson.dumps(report)).status_code == 200
    assert [x["period"] for x in api.get("ent-1", "/reports").json()] == ["202503"]
    assert api.get("ent-2", "/reports").json() == []
    pre = api.get("ent-1", "/reports/prefill", params={"enterprise": E1, "period": PERIOD})
    assert pre.status_code == 200 and pre.json()["period"] == PERIOD
    assert api.get("ent-2", "/reports/prefill", params={"enterprise": E1, "period": PERIOD}).status_code == 403
    r = api.post("customs", "/customs/channels", json={"seed": 1})
    assert r.status_code == 200
    assert api.post("ent-1", "/customs/channels", json={}).status_code == 403


def test_cli_dossier_plan_and_guidance(tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'o.db'}"
    reg = tmp_path / "registry.jsonl"
    firm = {"kind": "enterprise", "id": E1, "uscc": E1.rsplit(":", 1)[1], "name": "X", "province": "CN-JX",
            "stages": ["mining"], "registered": "2024-12-01"}  # fmt: skip
    reg.write_text(orjson.dumps(firm).decode())
    assert runner.invoke(app, ["load", "registry", str(reg), "--db", db]).exit_code == 0
    sup = tmp_path / "s.jsonl"
    sup.write_bytes(orjson.dumps(_records()[0]))
    assert runner.invoke(app, ["load", "supervision", str(sup), "--db", db]).exit_code == 0
    out = runner.invoke(app, ["dossier", E1, "--db", db, "--format", "json"])
    assert out.exit_code == 0 and orjson.loads(out.output)["reviews"][0]["score"] == 50.0
    assert runner.invoke(app, ["dossier", E2, "--db", db]).exit_code == 3
    plan = runner.invoke(app, ["plan", "inspections", "--province", "CN-JX", "--month", "2025-06", "--capacity",
                               "1", "--db", db, "--format", "json"])  # fmt: skip
    assert plan.exit_code == 0, plan.output
    pick = orjson.loads(plan.output)["picks"][0]
    assert pick["enterprise"] == E1 and pick["basis"] in ("risk", "random")
    zh = runner.invoke(app, ["--lang", "zh", "supervision", "guidance", "G-ICP-SCREEN", "--format", "json"])
    assert "订单审查" in orjson.loads(zh.output)["title"]
    bad = runner.invoke(app, ["plan", "inspections", "--province", "XX", "--month", "2025-06", "--capacity", "1",
                              "--db", db])  # fmt: skip
    assert bad.exit_code == 1
