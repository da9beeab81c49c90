"""The access layer on both engines: the audit chain under concurrent appenders, every visibility predicate
as SQL each engine runs, and a permission table that says something unenforceable is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, select

from oretrail.access import scope
from oretrail.access.audit import Entry, append, verify
from oretrail.access.caller import Caller
from oretrail.access.permissions import PermissionTableError, parse_table
from oretrail.storage.schema import alerts, declarations, enterprises, events, facilities, licences, lots
from tests.api.conftest import ACCOUNTS


def test_concurrent_appenders_keep_one_contiguous_chain(engine: Engine) -> None:
    def write(i: int) -> int:
        return append(engine, Entry(f"u{i % 4}", "central", "read", "alert", str(i), "allowed", 200, "127.0.0.1", ""))

    with ThreadPoolExecutor(4) as pool:
        seqs = list(pool.map(write, range(40)))
    assert sorted(seqs) == list(range(1, 41))
    with engine.connect() as conn:
        verdict = verify(conn)
    assert verdict.ok and verdict.entries == 40


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
def test_every_predicate_runs_on_both_engines(engine: Engine, name: str) -> None:
    role, province, department, parties = ACCOUNTS[name]
    who = Caller(name, role, province, department, parties)
    with engine.connect() as conn:
        for table, predicate in (
            (alerts, scope.alerts_visible),
            (events, scope.events_visible),
            (lots, scope.lots_visible),
            (licences, scope.licences_visible),
            (declarations, scope.declarations_visible),
            (enterprises, scope.enterprises_visible),
            (facilities, scope.facilities_visible),
        ):
            assert conn.execute(select(table).where(predicate(who))).all() == []


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"actions": ["delete"]}, "actions"),
        ({"kinds": ["alerts"]}, "kinds"),
        ({"constraint": {"colour": "red"}}, "colour"),
        ({"constraint": {"province": "$city"}}, "$city"),
        ({"kinds": ["event"], "constraint": {"rule": "licence"}}, "means nothing for event"),
        ({"role": "mayor"}, "mayor"),
    ],
)
def test_an_unenforceable_table_is_refused(change: dict[str, object], named: str) -> None:
    entry = {"role": "clerk", "actions": ["read"], "kinds": ["alert"], **change}
    with pytest.raises(PermissionTableError, match=named.replace("$", r"\$")):
        parse_table({"roles": {"clerk": {"title": "Clerk"}}, "permission": [entry]})
