"""Warning bulletins (issue 13 §5): issued to departments and provinces, names screened against at once,
acknowledged per recipient, reminded while nobody has."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from oretrail.bulletins.model import parse_bulletin
from oretrail.bulletins.store import BulletinError, acknowledge, issue, listing, read, remind
from oretrail.cli import app
from oretrail.errors import IntakeError
from oretrail.rules.config import Settings
from oretrail.screening.store import current_version
from oretrail.storage.schema import alerts, bulletin_recipients, bulletins
from tests.api.conftest import signed_in
from tests.rules.state import EXPORTER, State

TODAY = date.today()


def _raw(**over: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "severity": "high",
        "title": {"zh": "关于可疑收货人的预警", "en": "Warning on a suspect consignee"},
        "body": {"zh": "该收货人疑似转运镓产品。", "en": "The consignee is suspected of re-exporting gallium."},
        "valid_until": (TODAY + timedelta(days=90)).isoformat(),
        "departments": ["customs", "commerce"],
        "provinces": ["CN", "CN-JX"],
        "names": [{"name": "EXAMPLE SEMICONDUCTOR GMBH", "country": "DE"}],
        "hs_codes": ["8112929010"],
        "enterprises": [EXPORTER],
    }
    raw.update(over)
    return raw


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"severity": "urgent"}, "severity"),
        ({"valid_until": "2020-01-01"}, "valid_until"),
        ({"valid_until": "soon"}, "valid_until"),
        ({"departments": ["army"]}, "departments"),
        ({"provinces": ["CN", "XX-99"]}, "provinces[1]"),
        ({"names": [{"name": " "}]}, "names[0].name"),
        ({"names": [{"name": "X Ltd", "country": "ZZ"}]}, "names[0].country"),
        ({"hs_codes": ["81129"]}, "hs_codes[0]"),
        ({"enterprises": ["ACME"]}, "enterprises[0]"),
        ({"title": {"fr": "Avertissement"}}, "title.fr"),
        ({"body": ""}, "body"),
    ],
)
def test_a_bad_bulletin_names_its_field(over: dict[str, Any], field: str) -> None:
    with pytest.raises(IntakeError) as err:
        parse_bulletin(_raw(**over), TODAY)
    assert err.value.field == field and err.value.document == "bulletin"


def test_named_consignee_is_screened_against_records_already_held(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        st = State(conn)
        st.enterprise(EXPORTER, "CN-JX")
        st.declaration()  # consignee "Example Semiconductor GmbH", no watch list loaded
        assert current_version(conn) is None
        done = issue(conn, parse_bulletin(_raw(), TODAY), issuer="officer.li", department="commerce",
                     province="CN", settings=settings)  # fmt: skip
        assert done.recipients == 4 and len(done.alerts) == 1
        row = conn.execute(select(alerts).where(alerts.c.id == done.alerts[0])).one()
        assert (row.rule, row.subject_id) == ("screening.watchlist", "530120250000123456")
        assert current_version(conn) is not None
        # Lapsed: its names leave the screening list.
        conn.execute(update(bulletins).values(valid_until=TODAY - timedelta(days=1)))
        assert current_version(conn) is None


def test_acknowledgement_and_reminders(engine: Engine, settings: Settings) -> None:
    with engine.begin() as conn:
        done = issue(conn, parse_bulletin(_raw(names=[]), TODAY), issuer="officer.li", department="commerce",
                     province="CN", settings=settings)  # fmt: skip
        assert done.alerts == []
        issued = conn.execute(select(bulletins.c.issued_at)).scalar_one()
        first = acknowledge(conn, done.id, "customs", "CN-JX", "officer.wang")
        assert acknowledge(conn, done.id, "customs", "CN-JX", "officer.zhao") == first  # the first stands
        with pytest.raises(BulletinError, match="not sent to tax"):
            acknowledge(conn, done.id, "tax", "CN", "x")
        with pytest.raises(BulletinError, match="no bulletin"):
            acknowledge(conn, "BLT-0", "customs", "CN", "x")
        assert remind(conn, issued + timedelta(hours=23)) == []
        told = remind(conn, issued + timedelta(days=1))
        assert {(t.department, t.province, t.reminders) for t in told} == {
            ("commerce", "CN", 1), ("commerce", "CN-JX", 1), ("customs", "CN", 1)
        }  # fmt: skip
        assert remind(conn, issued + timedelta(days=1, hours=12)) == []  # a day between reminders
        assert {t.reminders for t in remind(conn, issued + timedelta(days=2))} == {2}
        assert [b["id"] for b in listing(conn, unacknowledged=True)] == [done.id]
        for dept, prov in [("commerce", "CN"), ("commerce", "CN-JX"), ("customs", "CN")]:
            acknowledge(conn, done.id, dept, prov, "officer.chen")
        assert listing(conn, unacknowledged=True) == [] and remind(conn, issued + timedelta(days=9)) == []
        record = read(conn, done.id, "zh")
        assert record["title"] == "关于可疑收货人的预警" and read(conn, done.id)["title"].startswith("Warning")
        waiting = conn.execute(select(bulletin_recipients).where(bulletin_recipients.c.acknowledged_at.is_(None)))
        assert waiting.all() == []


def test_bulletins_over_http_and_cli(tmp_path: Path) -> None:
    from oretrail.api.app import create_app
    from oretrail.storage.engine import make_engine, migrate

    db = f"sqlite:///{tmp_path / 'b.db'}"
    migrate(make_engine(db))
    client = signed_in(TestClient(create_app(db)), "officer.li", "commerce")
    r = client.post("/bulletins", json=_raw(title="只有中文标题"))
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    got = client.get(f"/bulletins/{bid}", headers={"Accept-Language": "en"}).json()
    assert got["title"] == "只有中文标题" and got["body"].startswith("The consignee") and got["languages"] == ["zh"]
    assert client.get(f"/bulletins/{bid}", headers={"Accept-Language": "zh"}).json()["body"].startswith("该收货人")
    bad = client.post("/bulletins", json=_raw(severity="x"))
    assert bad.status_code == 422 and "severity" in bad.text
    own = client.post(f"/bulletins/{bid}/acknowledgements", json={})  # commerce at the centre: its own unit
    assert own.status_code == 200 and (own.json()["department"], own.json()["province"]) == ("commerce", "CN")
    ack = client.post(f"/bulletins/{bid}/acknowledgements", json={"department": "customs"})
    assert ack.status_code == 403  # commerce cannot acknowledge for customs
    customs = signed_in(TestClient(create_app(db)), "officer.wang", "customs")
    assert customs.post(f"/bulletins/{bid}/acknowledgements", json={}).status_code == 200
    assert customs.post(f"/bulletins/{bid}/acknowledgements", json={"province": "CN-HN"}).status_code == 403
    jx = signed_in(TestClient(create_app(db)), "officer.xu", "provincial", province="CN-JX", department="customs")
    assert [b["id"] for b in jx.get("/bulletins").json()] == [bid]
    hn = signed_in(TestClient(create_app(db)), "officer.he", "provincial", province="CN-HN", department="tax")
    assert hn.get("/bulletins").json() == [] and hn.get(f"/bulletins/{bid}").status_code == 403
    from_hunan = hn.post("/bulletins", json=_raw(provinces=["CN-HN"]))
    assert from_hunan.status_code == 201 and hn.get("/bulletins").json()[0]["department"] == "tax"
    assert client.get("/bulletins/BLT-none").status_code == 403  # commerce's view is narrowed: no probing
    waiting = client.get("/bulletins", params={"unacknowledged": True}).json()
    assert [b["id"] for b in waiting] == [from_hunan.json()["id"], bid]

    runner = CliRunner()
    spec = tmp_path / "b.json"
    spec.write_bytes(orjson.dumps(_raw(names=[], departments=["tax"], provinces=["CN-HN"])))
    out = runner.invoke(app, ["bulletins", "issue", str(spec), "--issuer", "officer.li", "--department", "customs",
                              "--db", db, "--format", "json"])  # fmt: skip
    assert out.exit_code == 0, out.output
    second = orjson.loads(out.stdout)["id"]
    out = runner.invoke(app, ["bulletins", "ack", second, "--department", "tax", "--province", "CN-HN",
                              "--actor", "officer.zhao", "--db", db])  # fmt: skip
    assert out.exit_code == 0 and "acknowledged" in out.output
    out = runner.invoke(app, ["bulletins", "list", "--unacknowledged", "--db", db, "--format", "jsonl"])
    assert [orjson.loads(line)["id"] for line in out.stdout.splitlines()] == [from_hunan.json()["id"], bid]
    assert runner.invoke(app, ["bulletins", "show", "BLT-none", "--db", db]).exit_code == 3
    spec.write_bytes(orjson.dumps(_raw(hs_codes=["1"])))
    out = runner.invoke(app, ["bulletins", "issue", str(spec), "--issuer", "x", "--department", "customs", "--db", db])
    assert out.exit_code == 1 and "hs_codes[0]" in out.output
    out = runner.invoke(app, ["bulletins", "remind", "--db", db, "--format", "json"])
    assert out.exit_code == 0 and orjson.loads(out.stdout) == []  # nothing is a day old yet


def test_bulletins_and_reminders_go_to_the_outbox(engine: Engine, settings: Settings) -> None:
    from oretrail.storage.schema import outbox

    with engine.begin() as conn:
        done = issue(conn, parse_bulletin(_raw(names=[], provinces=["CN-JX"]), TODAY), issuer="officer.li",
                     department="commerce", province="CN", settings=settings)  # fmt: skip
        issued = conn.execute(select(bulletins.c.issued_at)).scalar_one()
        acknowledge(conn, done.id, "customs", "CN-JX", "officer.wang")
        remind(conn, issued + timedelta(days=1))
        rows = conn.execute(select(outbox.c.kind, outbox.c.subject, outbox.c.payload).order_by(outbox.c.seq)).all()
    assert [(k, s) for k, s, _ in rows] == [
        ("bulletin.issued", "oretrail.bulletin.CN-JX.commerce"),
        ("bulletin.issued", "oretrail.bulletin.CN-JX.customs"),
        ("bulletin.reminded", "oretrail.bulletin.reminder.CN-JX.commerce"),
    ]
    assert all(orjson.loads(p)["id"] == done.id for _, _, p in rows)
