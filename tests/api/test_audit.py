"""The audit log: every protected endpoint writes one entry per request, whoever asks and whatever the
answer; the chain shows any entry altered or removed."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import delete, func, select, update

from oretrail.access.audit import verify
from oretrail.api.auth import PUBLIC
from oretrail.storage.schema import audit
from tests.api.conftest import Api


def _count(api: Api) -> int:
    with api.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit)).scalar_one())


def _last(api: Api) -> dict[str, object]:
    with api.engine.connect() as conn:
        return dict(conn.execute(select(audit).order_by(audit.c.seq.desc()).limit(1)).mappings().one())


def protected_routes(api: Api) -> list[tuple[str, str]]:
    """Every operation of the OpenAPI document but sign-in (audited as sign-in, tested on its own)."""
    paths = api.client.get("/openapi.json").json()["paths"]
    return [
        (method.upper(), path)
        for path, operations in sorted(paths.items())
        if path not in PUBLIC and path != "/auth/token"
        for method in sorted(operations)
    ]


def _concrete(path: str) -> str:
    return re.sub(r"\{([^}:]+)(:path)?\}", "urn:oretrail:lot:x", path)


@pytest.mark.parametrize("who", ["central", "ent-1", None])
def test_every_protected_endpoint_writes_an_audit_entry(api: Api, who: str | None) -> None:
    routes = protected_routes(api)
    assert len(routes) >= 15  # capture per feed, alerts, chain, screening, auth/me
    for method, path in routes:
        before = _count(api)
        headers = api.headers(who) if who else {}
        r = api.client.request(method, _concrete(path), headers=headers, content=b"{}")
        assert _count(api) == before + 1, (method, path, r.status_code)
        entry = _last(api)
        assert str(entry["detail"]).startswith(f"{method} {_concrete(path)}")
        assert entry["status"] == r.status_code
        assert entry["actor"] == who
        assert entry["client"] == "testclient"
        want = {401: "unauthenticated", 403: "denied"}.get(r.status_code)
        if want:
            assert entry["outcome"] == want
        elif r.status_code < 400:
            assert entry["outcome"] == "allowed"
    with api.engine.connect() as conn:
        assert verify(conn).ok


def test_reads_name_their_object_and_denials_their_reason(api: Api) -> None:
    api.get("central", "/alerts/abc")
    entry = _last(api)
    assert (entry["action"], entry["kind"], entry["object"], entry["status"]) == ("read", "alert", "abc", 404)
    api.get("ent-1", "/alerts", params={"rule": "licence"})
    entry = _last(api)
    assert entry["outcome"] == "denied" and "may not read alert" in str(entry["detail"])
    assert entry["object"] == "rule=licence"


def test_the_chain_names_an_altered_and_a_removed_entry(api: Api) -> None:
    for _ in range(4):
        api.get("central", "/summary")
    with api.engine.connect() as conn:
        good = verify(conn)
    assert good.ok and good.entries == 4
    with api.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 2).values(actor="someone-else"))
    with api.engine.connect() as conn:
        altered = verify(conn)
    assert not altered.ok and altered.first_bad_seq == 2 and "altered" in str(altered.problem)
    with api.engine.begin() as conn:
        conn.execute(update(audit).where(audit.c.seq == 2).values(actor="central"))
        conn.execute(delete(audit).where(audit.c.seq == 3))
    with api.engine.connect() as conn:
        removed = verify(conn)
    assert not removed.ok and removed.first_bad_seq == 3 and "missing" in str(removed.problem)
