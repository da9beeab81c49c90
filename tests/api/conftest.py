"""An identity for every API test: users per role, headers to send as each, and a small loaded world.

`api` is a running app on a fresh database with one account per role of the permission table (and the
provincial role once per department that has permissions of its own). Accounts are made without passwords
and signed in by minting their access token directly, so a test pays argon2 only where sign-in is what it
tests. `world` adds a small dataset over two provinces and two enterprises, loaded over HTTP by the central
office, and a few alerts of rules the feeds do not raise by themselves.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select

from oretrail.access.caller import Caller
from oretrail.access.tokens import issue_access
from oretrail.access.users import add_user
from oretrail.alerts.store import alert_id
from oretrail.api.app import create_app
from oretrail.registry.uscc import make_uscc
from oretrail.storage.schema import alerts
from tests.intake import builders as b

JX, HN = "CN-JX", "CN-HN"
USCC_1 = b.USCC  # Jiangxi
USCC_2 = make_uscc(random.Random(13), "430100")  # Hunan
E1 = f"urn:oretrail:party:uscc:{USCC_1}"
E2 = f"urn:oretrail:party:uscc:{USCC_2}"
MINE_1 = f"urn:oretrail:loc:{USCC_1}:mine-1"
SMELTER_1 = f"urn:oretrail:loc:{USCC_1}:smelter-1"
MINE_2 = f"urn:oretrail:loc:{USCC_2}:mine-1"
ORE_1, CONC_1 = b.lot("ore-1", USCC_1), b.lot("conc-1", USCC_1)
ORE_2 = b.lot("ore-2", USCC_2)

# One account per role and scope the matrix needs: name -> (role, province, department, parties)
ACCOUNTS: dict[str, tuple[str, str | None, str | None, tuple[str, ...]]] = {
    "central": ("central", None, None, ()),
    "admin": ("admin", None, None, ()),
    "commerce": ("commerce", None, None, ()),
    "customs": ("customs", None, None, ()),
    "jx-commerce": ("provincial", JX, "commerce", ()),
    "jx-customs": ("provincial", JX, "customs", ()),
    "jx-transport": ("provincial", JX, "transport", ()),
    "hn-commerce": ("provincial", HN, "commerce", ()),
    "jx-inspector": ("inspector", JX, None, ()),
    "ent-1": ("enterprise", None, None, (E1,)),
    "ent-2": ("enterprise", None, None, (E2,)),
}


@dataclass
class Api:
    client: TestClient
    engine: Engine
    tokens: dict[str, str] = field(default_factory=dict)

    def caller(self, name: str) -> Caller:
        role, province, department, parties = ACCOUNTS[name]
        return Caller(name, role, province, department, parties)

    def headers(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}

    def get(self, name: str, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers={**self.headers(name), **kw.pop("headers", {})}, **kw)

    def post(self, name: str, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers={**self.headers(name), **kw.pop("headers", {})}, **kw)


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))
    app = create_app(f"sqlite:///{tmp_path / 'api.db'}")
    engine: Engine = app.state.engine
    with engine.begin() as conn:
        for name, (role, province, department, parties) in ACCOUNTS.items():
            add_user(conn, name, role, password=None, province=province, department=department, parties=parties)
    tokens = {name: issue_access(app.state.token_key, name, spec[0]) for name, spec in ACCOUNTS.items()}
    with TestClient(app) as client:
        yield Api(client, engine, tokens)
    engine.dispose()


def _lines(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


REGISTRY = _lines(
    {"kind": "enterprise", "id": E1, "uscc": USCC_1, "name": "Ganzhou Rare Metals", "province": JX,
     "stages": ["mining", "smelting"], "registered": "2018-04-02"},
    {"kind": "enterprise", "id": E2, "uscc": USCC_2, "name": "Changsha Tungsten", "province": HN,
     "stages": ["mining"], "registered": "2019-01-10"},
    {"kind": "facility", "id": MINE_1, "owner": E1, "type": "mine", "province": JX},
    {"kind": "facility", "id": SMELTER_1, "owner": E1, "type": "smelter", "province": JX},
    {"kind": "facility", "id": MINE_2, "owner": E2, "type": "mine", "province": HN},
)  # fmt: skip


def licence(no: str, exporter: str) -> dict[str, Any]:
    return {"licence_no": no, "exporter": exporter, "material": "ga.metal", "hs_code": "8112929010",
            "quantity_kg": 500, "destination": "DE", "consignee": "Example Semiconductor GmbH",
            "end_user": "Example Semiconductor GmbH", "end_use": "GaAs wafers", "valid_from": "2025-03-01",
            "valid_to": "2025-12-31", "status": "approved"}  # fmt: skip


def declaration(no: str, exporter: str) -> dict[str, Any]:
    return {"declaration_no": no, "date": "2025-06-03", "exporter": exporter, "hs_code": "8112929010",
            "description": "gallium, unwrought", "net_kg": 50.0, "value_usd": 30000.0, "destination": "DE",
            "consignee": "Example Semiconductor GmbH", "port": "CNSZX", "licence_no": None}  # fmt: skip


@dataclass
class World:
    api: Api
    # Facts per object, as the permission table's attributes name them: the oracle of the matrix test.
    alerts: dict[str, dict[str, Any]]
    lots: dict[str, dict[str, Any]]


@pytest.fixture
def world(api: Api) -> World:
    docs = {
        "registry": REGISTRY,
        "events": b.encode(
            b.document(
                b.mining([(ORE_1, 500.0)], "w.ore", 0.005, location=MINE_1),
                b.smelting(inputs=[(ORE_1, 500.0)], outputs=[(CONC_1, 4.0)], material="w.concentrate", grade=0.55,
                           location=SMELTER_1),
                b.mining([(ORE_2, 300.0)], "w.ore", 0.005, location=MINE_2),
            )
        ),
        "licences": _lines(licence("EL2025JX000001", E1), licence("EL2025HN000001", E2)),
        "declarations": _lines(declaration("530120250000000001", E1), declaration("530120250000000002", E2)),
    }  # fmt: skip
    for feed, data in docs.items():
        r = api.post("central", f"/capture/{feed}", content=data)
        assert r.status_code == 200, r.text
    # Alerts of rules the feeds above do not raise: one per jurisdiction and department family.
    now = datetime(2025, 7, 1)
    extra = [
        ("transit.diverted", "shipment", "urn:oretrail:waybill:WB1", JX, ["transport", "public_security"], E1),
        ("balance.lot", "lot", ORE_2, HN, ["industry", "natural_resources"], E2),
        ("mirror.gap", "trade-flow", "DE:811292:202506", "CN", ["central", "customs", "commerce"], None),
        ("licence.overdrawn", "licence", "EL2025HN000001", HN, ["commerce", "customs"], E2),
    ]
    with api.engine.begin() as conn:
        conn.execute(
            insert(alerts),
            [
                {"id": alert_id(rule, kind, subject), "rule": rule, "severity": "high", "raised_at": now,
                 "subject_kind": kind, "subject_id": subject, "jurisdiction": place, "party": party,
                 "departments": orjson.dumps(depts).decode(), "evidence": "[]", "message_key": "alert.legacy",
                 "message_params": orjson.dumps({"text": f"{rule} test alert"}).decode(), "details": "{}",
                 "settles_at": None, "settled_at": now, "withdrawn_at": None, "status": "new",
                 "level": "central" if place == "CN" else "province", "shared_with": "[]"}
                for rule, kind, subject, place, depts, party in extra
            ],
        )  # fmt: skip
    queue = {a["id"] for a in api.get("central", "/alerts").json()}  # the central office sees every alert
    with api.engine.connect() as conn:
        rows = [r for r in conn.execute(select(alerts)) if r.id in queue]
    facts = {
        r.id: {"province": r.jurisdiction, "department": set(orjson.loads(r.departments)), "party": r.party,
               "rule": r.rule}
        for r in rows
    }  # fmt: skip
    assert {alert_id(rule, kind, subject) for rule, kind, subject, *_ in extra} <= set(facts)
    assert {f["province"] for f in facts.values() if f["rule"] == "licence.missing"} == {JX, HN}
    lots = {
        ORE_1: {"province": JX, "party": E1},
        CONC_1: {"province": JX, "party": E1},
        ORE_2: {"province": HN, "party": E2},
    }
    return World(api, facts, lots)


def signed_in(client: TestClient, name: str = "central", role: str = "central", **scope: Any) -> TestClient:
    """A test client of any app, signed in as a (new) account `name` of `role`: for tests outside tests/api
    that open the API and are not about access. Returns the client, its headers set."""
    app = client.app
    with app.state.engine.begin() as conn:  # type: ignore[attr-defined]
        add_user(conn, name, role, password=None, **scope)
    token = issue_access(app.state.token_key, name, role)  # type: ignore[attr-defined]
    client.headers.update({"Authorization": f"Bearer {token}"})
    return client
