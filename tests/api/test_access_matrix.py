"""Role × endpoint, generated from the permission table: every allowed read answers, every other is 403.

The expectation is computed here from `access/permissions.toml` and the facts of each object (its province,
party, departments, rule), in Python; the API answers from its SQL predicates (`access/scope.py`). The two
must agree for every account of every role, on every object of a world with two provinces and two
enterprises.
"""

from __future__ import annotations

from typing import Any

import pytest

from oretrail.access.permissions import table
from tests.api.conftest import ACCOUNTS, E1, E2, HN, JX, MINE_1, MINE_2, SMELTER_1, Api, World

NAMES = sorted(ACCOUNTS)


def holds(attribute: str, values: tuple[str, ...], facts: dict[str, Any]) -> bool:
    fact = facts.get(attribute)
    if attribute == "department":
        return bool(set(fact or ()) & set(values))
    if attribute == "rule":
        return any(fact == v or str(fact).startswith(v + ".") for v in values)
    return fact in values


def expected(api: Api, name: str, action: str, kind: str, facts: dict[str, Any] | None = None) -> bool:
    """Whether the permission table lets account `name` do `action` on an object with these facts."""
    alternatives = table().constraints(api.caller(name), action, kind)
    if alternatives is None:
        return True
    if facts is None:
        return False
    return any(all(holds(a, v, facts) for a, v in alt.items()) for alt in alternatives)


def is_denial(response: Any) -> bool:
    return (
        response.status_code == 403
        and response.headers["content-type"] == "application/problem+json"
        and response.json()["detail"]
    )


def test_every_role_of_the_table_has_an_account_here() -> None:
    assert {role for role, *_ in ACCOUNTS.values()} == set(table().roles)


@pytest.mark.parametrize("name", NAMES)
def test_alert_list_is_what_the_table_allows(world: World, name: str) -> None:
    r = world.api.get(name, "/alerts")
    if not table().grants(world.api.caller(name), "read", "alert"):
        assert is_denial(r), r.text
        return
    assert r.status_code == 200, r.text
    want = {aid for aid, facts in world.alerts.items() if expected(world.api, name, "read", "alert", facts)}
    assert {a["id"] for a in r.json()} == want


@pytest.mark.parametrize("name", NAMES)
def test_alert_reads_and_explanations(world: World, name: str) -> None:
    for aid, facts in world.alerts.items():
        allowed = expected(world.api, name, "read", "alert", facts)
        for url in (f"/alerts/{aid}", f"/alerts/{aid}/explain"):
            r = world.api.get(name, url)
            if allowed:
                assert r.status_code == 200, (name, url, r.text)
            else:
                assert is_denial(r), (name, url, r.status_code, r.text)


@pytest.mark.parametrize("name", NAMES)
def test_alert_actions(world: World, name: str) -> None:
    for aid, facts in world.alerts.items():
        r = world.api.post(name, f"/alerts/{aid}/actions", json={"action": "comment", "note": "seen"})
        if expected(world.api, name, "act", "alert", facts):
            assert r.status_code == 200, (name, aid, r.text)
        else:
            assert is_denial(r), (name, aid, r.status_code, r.text)


@pytest.mark.parametrize("name", NAMES)
def test_lot_traces(world: World, name: str) -> None:
    for lot, facts in world.lots.items():
        for direction in ("backward", "forward"):
            r = world.api.get(name, f"/lots/{lot}/trace", params={"direction": direction})
            if expected(world.api, name, "read", "lot", facts):
                assert r.status_code == 200, (name, lot, r.text)
                assert r.json()["lot"] == lot and "withheld" not in r.json()
            else:
                assert is_denial(r), (name, lot, r.status_code, r.text)


@pytest.mark.parametrize("name", NAMES)
def test_whole_kind_endpoints(world: World, name: str) -> None:
    for method, url, kind, body in (
        ("GET", "/summary", "ledger", None),
        ("GET", "/ledger/verify", "ledger", None),
        ("POST", "/screen", "watchlist", {"names": ["Example Semiconductor GmbH"]}),
    ):
        r = world.api.client.request(method, url, headers=world.api.headers(name), json=body)
        if expected(world.api, name, "read", kind):
            assert r.status_code in (200, 409), (name, url, r.text)  # 409: no watch list loaded yet
        else:
            assert is_denial(r), (name, url, r.status_code, r.text)


# The world's events by their place: the facts the table's event constraints read.
EVENT_PLACES = {
    MINE_1: {"province": JX, "party": E1},
    SMELTER_1: {"province": JX, "party": E1},
    MINE_2: {"province": HN, "party": E2},
}


def _listed(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]  # type: ignore[no-any-return]


def _world_events(world: World) -> dict[str, dict[str, Any]]:
    every = _listed(world.api.get("central", "/events", params={"perPage": 1000}))
    facts = {e["eventID"]: EVENT_PLACES[e["bizLocation"]["id"]] for e in every}
    assert len(facts) == 3
    return facts


@pytest.mark.parametrize("name", NAMES)
def test_epcis_event_reads(world: World, name: str) -> None:
    """The binding's reads: GET /events, one event, a browse list and a value's events, each what the table
    lets the account read (an enterprise its own events, a provincial officer its province's)."""
    api = world.api
    events = _world_events(world)
    if not table().grants(api.caller(name), "read", "event"):
        for url in ("/events", f"/events/{next(iter(events))}", "/bizLocations", f"/bizLocations/{MINE_1}/events",
                    "/queries", "/capture"):  # fmt: skip
            r = api.get(name, url)
            assert is_denial(r) and r.json()["type"] == "epcisException:SecurityException", (name, url, r.text)
        return
    want = {eid for eid, facts in events.items() if expected(api, name, "read", "event", facts)}
    assert {e["eventID"] for e in _listed(api.get(name, "/events", params={"perPage": 1000}))} == want
    for eid in events:
        r = api.get(name, f"/events/{eid}")
        assert r.status_code == (200 if eid in want else 404), (name, eid, r.text)
    places = {place for place, facts in EVENT_PLACES.items() if expected(api, name, "read", "event", facts)}
    assert set(api.get(name, "/bizLocations").json()["member"]) == places
    for place in EVENT_PLACES:
        found = {e["eventID"] for e in _listed(api.get(name, f"/bizLocations/{place}/events"))}
        assert found == {eid for eid in want if events[eid] is EVENT_PLACES[place]}, (name, place)


def test_the_matrix_has_both_answers_for_every_constrained_role(world: World) -> None:
    """A matrix where a role is allowed everything or nothing would prove little about its constraint."""
    for name in NAMES:
        who = world.api.caller(name)
        answers = {
            expected(world.api, name, "read", kind, facts)
            for kind, objects in (("alert", world.alerts), ("lot", world.lots), ("event", _world_events(world)))
            for facts in objects.values()
        }
        if who.role in ("central",):
            assert answers == {True}
        elif who.role in ("admin",):
            assert answers == {False}
        else:
            assert answers == {True, False}, name
