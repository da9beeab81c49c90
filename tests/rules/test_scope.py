"""Two scopes, one code: a capture-time run finds exactly what a scan finds for the subjects it covers; and a
scan's result does not depend on the order the data arrived in, nor on the storage engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, select

from oretrail.catalogue.model import Catalogue
from oretrail.rules.base import Finding
from oretrail.rules.runner import RULE_IDS, SCOPE_KINDS, run_rules
from oretrail.rules.scope import Scope, expanded
from oretrail.storage import schema as s
from tests.conftest import drop_postgres_schema, postgres_engine
from tests.rules.state import State, national_sample


@contextmanager
def sample(engine: Engine, seed: int | None = None) -> Iterator[Connection]:
    """The national sample in a transaction that is rolled back, so one database serves many examples."""
    with engine.connect() as conn:
        trans = conn.begin()
        st = State(None)
        national_sample(st)
        st.write(conn, seed)
        try:
            yield conn
        finally:
            trans.rollback()


def test_sample_raises_every_rule(engine: Engine, cat: Catalogue) -> None:
    with sample(engine) as conn:
        assert {f.rule for f in run_rules(conn, catalogue=cat)} == set(RULE_IDS)


def _ids(conn: Connection, col: object) -> list[str]:
    return sorted({v for v in conn.execute(select(col)).scalars() if v})  # type: ignore[call-overload]


def test_scoped_run_equals_scan_for_the_subjects_it_covers(engine: Engine, cat: Catalogue) -> None:
    with sample(engine) as conn:
        scan = run_rules(conn, catalogue=cat)
        pools = {
            "event_ids": _ids(conn, s.events.c.event_id),
            "lot_ids": _ids(conn, s.event_lots.c.lot_id),
            "waybills": _ids(conn, s.shipments.c.waybill),
            "declaration_nos": _ids(conn, s.declarations.c.declaration_no),
            "licence_nos": _ids(conn, s.licences.c.licence_no),
            "party_ids": _ids(conn, s.events.c.dest_party),
        }
        strategy = st.fixed_dictionaries(
            {k: st.frozensets(st.sampled_from(v), max_size=4) for k, v in pools.items()}
        ).map(lambda d: Scope(**d))

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(strategy)
        def check(scope: Scope) -> None:
            scoped = run_rules(conn, scope, catalogue=cat)
            covered = expanded(conn)
            expected = [f for f in scan if _key(f) in covered.get(SCOPE_KINDS[f.rule], set())]
            assert scoped == expected
            # And nothing a batch directly names is ever missed.
            direct = scope.declaration_nos | scope.licence_nos | scope.lot_ids | scope.waybills | scope.party_ids
            assert {f.ident for f in scan if f.subject_id in direct} <= {f.ident for f in scoped}

        check()


def _key(f: Finding) -> str:
    return f.subject_id


def test_a_declaration_alone_reaches_its_licence_and_its_lots(engine: Engine, cat: Catalogue) -> None:
    with sample(engine) as conn:
        scoped = run_rules(conn, Scope(declaration_nos=frozenset({"530120250000000022"})), catalogue=cat)
        assert {(f.rule, f.subject_id) for f in scoped} == {
            ("licence.overdrawn", "EL2025JX000002"),
            ("licence.mismatch", "530120250000000022"),
            ("licence.invalid", "530120250000000022"),
        }
        # A transformation event reaches the exported descendant's provenance and its declaration.
        scoped = run_rules(conn, Scope(event_ids=frozenset({"urn:uuid:r2"})), catalogue=cat)
        assert {
            ("trace.no_provenance", "urn:oretrail:lot:A:m2"),
            ("declaration.misclassified", "530120250000000051"),
        } <= {(f.rule, f.subject_id) for f in scoped}
        assert run_rules(conn, Scope(), catalogue=cat) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scan_does_not_depend_on_arrival_order(engine: Engine, cat: Catalogue, seed: int) -> None:
    with sample(engine) as conn:
        in_order = run_rules(conn, catalogue=cat)
    with sample(engine, seed) as conn:
        assert run_rules(conn, catalogue=cat) == in_order


@pytest.mark.postgres
def test_sqlite_and_postgresql_find_identical_alerts(sqlite_engine: Engine, cat: Catalogue) -> None:
    pg, schema = postgres_engine()
    try:
        with sample(sqlite_engine) as a, sample(pg) as b:
            lite, post = run_rules(a, catalogue=cat), run_rules(b, catalogue=cat)
        assert lite == post
        assert len(lite) >= len(RULE_IDS)
    finally:
        drop_postgres_schema(pg, schema)


def test_a_lot_reaches_the_parties_it_was_transferred_to_and_no_others(engine: Engine, cat: Catalogue) -> None:
    """A lot in scope (its material or grade may have changed) is re-judged for whoever it was sold or shipped
    to: those are the only rows of a lot that party.unregistered counts. A party that an event merely names
    beside the lot (an observation) has nothing of that lot to be judged on, so the scope leaves it out."""
    from tests.rules.state import EXPORTER, UNREGISTERED

    lot = "urn:oretrail:lot:A:s1"
    observer = "urn:oretrail:party:uscc:91440300MA5G000077"  # unregistered too, but never received the lot
    with engine.connect() as conn, conn.begin() as trans:
        st = State(conn)
        st.enterprise(EXPORTER)
        st.mine(lot, "sb.ore", 1000, 0.05)
        st.sale("urn:uuid:sale-2", lot, 200, EXPORTER, UNREGISTERED)
        st.event("urn:uuid:look", stage="storage", dest_party=observer)
        st.event_lot("urn:uuid:look", lot, "observed", 1000)
        st.close()
        scoped = run_rules(conn, Scope(lot_ids=frozenset({lot})), catalogue=cat)
        parties = expanded(conn).get("party", set())
        assert UNREGISTERED in parties and observer not in parties
        assert ("party.unregistered", UNREGISTERED) in {(f.rule, f.subject_id) for f in scoped}
        # The observer raises nothing in a scan either: leaving it out loses no finding.
        assert observer not in {f.subject_id for f in run_rules(conn, catalogue=cat)}
        trans.rollback()
