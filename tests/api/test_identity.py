"""Signing in and staying signed in: password flow, refresh, expiry, API keys, HTTP Basic for API accounts,
throttling, disabling; and what an enterprise may capture."""

from __future__ import annotations

import base64
from datetime import timedelta

import orjson
from sqlalchemy import func, select

from oretrail.access.keys import issue_key, revoke_key
from oretrail.access.tokens import issue_access
from oretrail.access.users import add_user, disable_user
from oretrail.clock import utcnow
from oretrail.storage.schema import alert_actions, audit, events, ledger
from tests.api.conftest import E1, E2, MINE_1, MINE_2, ORE_1, ORE_2, SMELTER_1, Api, World
from tests.intake import builders as b

PASSWORD = "correct horse battery"


def _account(api: Api, name: str = "li", *, api_account: bool = False, role: str = "central") -> None:
    with api.engine.begin() as conn:
        add_user(conn, name, role, password=PASSWORD, api=api_account)


def _signin(api: Api, name: str = "li", password: str = PASSWORD) -> object:
    return api.client.post("/auth/token", data={"grant_type": "password", "username": name, "password": password})


def _basic(user: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def test_no_identity_is_401_with_a_challenge(api: Api) -> None:
    r = api.client.get("/alerts")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert "Bearer" in r.headers["www-authenticate"] and "Basic" in r.headers["www-authenticate"]
    assert "no identity" in r.json()["detail"]
    assert api.client.get("/alerts", headers={"Authorization": "Bearer forged"}).status_code == 401


def test_password_flow_then_refresh_once(api: Api) -> None:
    _account(api)
    r = _signin(api)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert tokens["token_type"] == "bearer" and 0 < tokens["expires_in"] <= 3600
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["user"] == "li" and me.json()["role"] == "central" and me.json()["via"] == "token"
    again = api.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert again.status_code == 200, again.text
    newer = again.json()["refresh_token"]
    assert newer != tokens["refresh_token"]
    assert (
        api.client.get("/alerts", headers={"Authorization": f"Bearer {again.json()['access_token']}"}).status_code
        == 200
    )
    # The spent token presented again: refused, and the whole sign-in (the newer token too) is revoked.
    reused = api.client.post(
        "/auth/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert "already used" in reused.json()["detail"]
    late = api.client.post("/auth/token", data={"grant_type": "refresh_token", "refresh_token": newer})
    assert late.status_code == 400 and "revoked" in late.json()["detail"]


def test_wrong_password_and_unknown_grant(api: Api) -> None:
    _account(api)
    r = _signin(api, password="wrong password!")
    assert r.status_code == 401 and r.json()["error"] == "invalid_grant"
    assert _signin(api, name="nobody").status_code == 401
    assert api.client.post("/auth/token", data={"grant_type": "client_credentials"}).json()["error"] == (
        "unsupported_grant_type"
    )


def test_an_expired_access_token_is_401_saying_so(api: Api) -> None:
    token = issue_access(api.client.app.state.token_key, "central", "central", now=utcnow() - timedelta(hours=1))
    r = api.client.get("/alerts", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_a_disabled_account_is_cut_off_at_once(api: Api) -> None:
    assert api.get("commerce", "/alerts").status_code == 200
    with api.engine.begin() as conn:
        disable_user(conn, "commerce")
    r = api.get("commerce", "/alerts")
    assert r.status_code == 401 and "disabled" in r.json()["detail"]


def test_api_keys_by_header_and_bearer_then_revoked(api: Api) -> None:
    with api.engine.begin() as conn:
        issued = issue_key(conn, "customs", "ERP")
    assert api.client.get("/alerts", headers={"X-API-Key": issued.key}).status_code == 200
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {issued.key}"}).json()
    assert me["user"] == "customs" and me["via"] == "key"
    wrong = issued.key[:-4] + "AAAA"
    assert api.client.get("/alerts", headers={"X-API-Key": wrong}).status_code == 401
    with api.engine.begin() as conn:
        revoke_key(conn, issued.key_id)
    r = api.client.get("/alerts", headers={"X-API-Key": issued.key})
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_an_expired_key_and_a_rotated_key(api: Api) -> None:
    with api.engine.begin() as conn:
        old = issue_key(conn, "customs", "old", days=1, now=utcnow() - timedelta(days=2))
        current = issue_key(conn, "customs", "current")
        rotated = issue_key(conn, "customs", "next", replaces=current.key_id)
    r = api.client.get("/alerts", headers={"X-API-Key": old.key})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert api.client.get("/alerts", headers={"X-API-Key": current.key}).status_code == 401
    assert api.client.get("/alerts", headers={"X-API-Key": rotated.key}).status_code == 200


def test_basic_for_api_accounts_only(api: Api) -> None:
    _account(api, "epcis-client", api_account=True)
    _account(api, "person")
    assert api.client.get("/alerts", headers=_basic("epcis-client", PASSWORD)).status_code == 200
    r = api.client.get("/alerts", headers=_basic("person", PASSWORD))
    assert r.status_code == 401 and "not an API account" in r.json()["detail"]
    with api.engine.begin() as conn:
        key = issue_key(conn, "epcis-client", "bruno").key
    assert api.client.get("/auth/me", headers=_basic("epcis-client", key)).json()["via"] == "basic"
    assert api.client.get("/alerts", headers=_basic("person", key)).status_code == 401


def test_password_guessing_is_throttled(api: Api) -> None:
    _account(api)
    for _ in range(5):
        assert _signin(api, password="guess guess guess").status_code == 401
    r = _signin(api)  # the right password, too late
    assert r.status_code == 429, r.text
    assert int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"] == "application/problem+json"
    with api.engine.connect() as conn:
        outcomes = conn.execute(select(audit.c.outcome).where(audit.c.action == "signin")).scalars().all()
    assert outcomes == ["unauthenticated"] * 5 + ["throttled"]


def test_basic_guessing_is_throttled_too(api: Api) -> None:
    _account(api, "feed", api_account=True)
    for _ in range(5):
        assert api.client.get("/summary", headers=_basic("feed", "nope nope nope")).status_code == 401
    assert api.client.get("/summary", headers=_basic("feed", PASSWORD)).status_code == 429


def test_actions_carry_the_caller_as_actor(world: World) -> None:
    aid = next(a for a, f in world.alerts.items() if f["rule"] == "licence.missing" and f["province"] == "CN-JX")
    r = world.api.post("jx-commerce", f"/alerts/{aid}/actions", json={"action": "comment", "note": "called them"})
    assert r.status_code == 200, r.text
    with world.api.engine.connect() as conn:
        actors = conn.execute(select(alert_actions.c.actor).where(alert_actions.c.action == "comment")).scalars().all()
    assert actors == ["jx-commerce"]
    free = world.api.post(
        "central", f"/alerts/{aid}/actions", json={"action": "comment", "note": "x", "actor": "mallory"}
    )
    assert free.status_code == 422


# --- capture by enterprises ---------------------------------------------------------------------------------
def _ledger_size(api: Api) -> int:
    with api.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger)).scalar_one())


def test_an_enterprise_cannot_capture_at_a_facility_it_does_not_own(world: World) -> None:
    api = world.api
    before = _ledger_size(api)
    own = b.mining([(b.lot("ore-7"), 10.0)], location=MINE_1)
    theirs = b.mining([(b.lot("ore-8", E2.rsplit(":", 1)[1]), 10.0)], location=MINE_2)
    r = api.post("ent-1", "/capture/events", content=b.encode(b.document(own, theirs)))
    assert r.status_code == 403, r.text
    detail = r.json()["detail"]
    assert theirs["eventID"] in detail and MINE_2 in detail and "event 1" in detail and E2 in detail
    assert _ledger_size(api) == before  # nothing of the document was kept
    ok = api.post("ent-1", "/capture/events", content=b.encode(b.document(own)))
    assert ok.status_code == 200, ok.text
    assert _ledger_size(api) == before + 1
    with api.engine.connect() as conn:
        denied = conn.execute(select(audit.c.detail).where(audit.c.outcome == "denied", audit.c.actor == "ent-1"))
        assert MINE_2 in denied.scalar_one()


def test_an_enterprise_may_report_at_a_port_and_never_an_unregistered_place(world: World) -> None:
    api = world.api
    export = b.export([(b.lot("conc-1"), 1.0)], "530120250000000001")
    assert api.post("ent-1", "/capture/events", content=b.encode(b.document(export))).status_code == 200
    elsewhere = b.mining([(b.lot("ore-9"), 1.0)], location="urn:epc:id:sgln:0614141.00001.0")
    r = api.post("ent-1", "/capture/events", content=b.encode(b.document(elsewhere)))
    assert r.status_code == 403 and "not in the registry" in r.json()["detail"]


def test_capture_of_other_feeds_follows_the_table(world: World) -> None:
    api = world.api
    registry_hn = orjson.dumps(
        {"kind": "facility", "id": f"{MINE_2}x", "owner": E2, "type": "mine", "province": "CN-HN"}
    )
    assert api.post("ent-1", "/capture/registry", content=registry_hn).status_code == 403
    r = api.post("jx-commerce", "/capture/registry", content=registry_hn)
    assert r.status_code == 403 and "CN-HN" in r.json()["detail"]
    assert api.post("hn-commerce", "/capture/registry", content=registry_hn).status_code == 200
    assert api.post("commerce", "/capture/declarations", content=b"{}\n").status_code == 403
    assert api.post("customs", "/capture/declarations", content=b'{"declaration_no": "1"}\n').status_code == 422


def test_a_trace_withholds_what_the_caller_may_not_read(world: World) -> None:
    api = world.api
    mixed = b.lot("mixed-1")
    doc = b.document(
        b.smelting(inputs=[(ORE_1, 100.0), (ORE_2, 100.0)], outputs=[(mixed, 2.0)], material="w.concentrate",
                   grade=0.55, location=SMELTER_1)
    )  # fmt: skip
    assert api.post("central", "/capture/events", content=b.encode(doc)).status_code == 200
    full = api.get("central", f"/lots/{mixed}/trace").json()
    seen = api.get("ent-1", f"/lots/{mixed}/trace").json()
    parents = {n["lot"]: n for n in seen["via"][0]["lots"]}
    assert parents[ORE_1]["location"] == MINE_1 and "withheld" not in parents[ORE_1]
    assert parents[ORE_2]["withheld"] and parents[ORE_2]["location"] is None and parents[ORE_2]["material"] is None
    assert {n["lot"] for n in full["via"][0]["lots"]} == set(parents)
    assert all("withheld" not in n for n in full["via"][0]["lots"])
    with api.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() >= 4
    assert E1 != E2


def test_basic_remembers_a_verified_password_until_it_changes(api: Api) -> None:
    from oretrail.access.users import set_password

    _account(api, "feed2", api_account=True)
    assert api.client.get("/auth/me", headers=_basic("feed2", PASSWORD)).status_code == 200
    assert api.client.get("/auth/me", headers=_basic("feed2", PASSWORD)).status_code == 200
    with api.engine.begin() as conn:
        set_password(conn, "feed2", "another long password")
    assert api.client.get("/auth/me", headers=_basic("feed2", PASSWORD)).status_code == 401
    with api.engine.begin() as conn:
        disable_user(conn, "feed2")
    assert api.client.get("/auth/me", headers=_basic("feed2", "another long password")).status_code == 401
