"""Capture end to end (intake → ledger → projections), on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from oretrail import pipeline
from oretrail.errors import IntakeError
from oretrail.feeds import rebuild_all
from oretrail.ledger.store import count
from oretrail.ledger.verify import verify
from oretrail.pipeline import Capture
from oretrail.rules.config import Settings
from oretrail.storage.schema import event_lots, events, exports, genealogy, lots, positions, shipments
from tests.intake import builders as b

PROJECTIONS = (events, lots, event_lots, positions, shipments, genealogy, exports)


def capture(engine: Engine, *evs: dict[str, Any]) -> Any:
    return Capture(engine).document(b.encode(b.document(*evs)), "doc.jsonld")


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every projection row except ledger sequence numbers, which a rebuild legitimately keeps."""
    out = {}
    with engine.connect() as conn:
        for t in PROJECTIONS:
            cols = [c for c in t.columns if c.name != "seq"]
            out[t.name] = sorted(tuple(r) for r in conn.execute(select(*cols)))
    return out


def chain_events() -> list[dict[str, Any]]:
    ore, conc = b.lot("ore-1"), b.lot("conc-1")
    return [
        b.mining([(ore, 1000.0)], "w.ore", 0.005, event_id="urn:uuid:e1", location=b.MINE),
        b.shipping([(ore, 1000.0)], "urn:oretrail:waybill:W1", origin=b.MINE, destination=b.SMELTER,
                   event_id="urn:uuid:e2"),
        b.receiving([(ore, 1000.0)], "urn:oretrail:waybill:W1", location=b.SMELTER, event_id="urn:uuid:e3"),
        b.smelting(inputs=[(ore, 1000.0)], outputs=[(conc, 8.0)], material="w.concentrate", grade=0.55,
                   event_id="urn:uuid:e4", location=b.SMELTER),
    ]  # fmt: skip


def test_capture_is_idempotent_and_verifiable(engine: Engine) -> None:
    evs = chain_events()
    first = capture(engine, *evs)
    assert (first.new, first.unchanged) == (4, 0)
    again = capture(engine, *reversed(evs))
    assert (again.new, again.unchanged) == (0, 4)
    with engine.connect() as conn:
        assert count(conn, "event") == 4
        assert verify(conn).ok
        assert conn.execute(select(func.count()).select_from(genealogy)).scalar_one() == 1


def test_changed_content_without_error_declaration_is_refused(engine: Engine) -> None:
    evs = chain_events()
    capture(engine, *evs)
    evs[0]["quantityList"][0]["quantity"] = 2000.0
    with pytest.raises(IntakeError, match="errorDeclaration"):
        capture(engine, evs[0])


def test_correction_retracts_and_corrective_event_applies(engine: Engine) -> None:
    evs = chain_events()[:1]
    capture(engine, *evs)
    wrong = {**evs[0], "errorDeclaration": {"declarationTime": "2025-06-02T00:00:00Z", "reason": "incorrect_data",
                                           "correctiveEventIDs": ["urn:uuid:fix"]}}  # fmt: skip
    fixed = b.mining([(b.lot("ore-1b"), 900.0)], "w.ore", 0.005, event_id="urn:uuid:fix")
    report = capture(engine, wrong, fixed)
    assert (report.corrections, report.new) == (1, 1)
    with engine.connect() as conn:
        held = dict(conn.execute(select(positions.c.lot_id, positions.c.grams)).all())
        assert held == {b.lot("ore-1b"): 900_000}
        assert count(conn, "event") == 3  # original, its correction record, the corrective event
    # The correction re-sent is a no-op; so is a stale re-send of the original.
    assert capture(engine, wrong).unchanged == 1
    assert capture(engine, evs[0]).unchanged == 1


def _declared_wrong(ev: dict[str, Any], at: str = "2025-06-02T00:00:00Z") -> dict[str, Any]:
    return {**ev, "errorDeclaration": {"declarationTime": at, "reason": "incorrect_data"}}


def test_a_correction_inside_a_document_leaves_the_rest_reading_current_holdings(engine: Engine) -> None:
    ore = b.lot("ore-9")
    mined = b.mining([(ore, 1000.0)], "w.ore", 0.005, event_id="urn:uuid:m9", location=b.MINE)
    wrong = b.shipping([(ore, 400.0)], "urn:oretrail:waybill:W1", origin=b.MINE, destination=b.SMELTER,
                       event_id="urn:uuid:s1")  # fmt: skip
    first = b.shipping([(ore, 300.0)], "urn:oretrail:waybill:W2", origin=b.MINE, destination=b.SMELTER,
                       event_id="urn:uuid:s2")  # fmt: skip
    rest = b.shipping([(ore, 700.0)], "urn:oretrail:waybill:W3", origin=b.MINE, destination=b.SMELTER,
                      event_id="urn:uuid:s3")  # fmt: skip
    capture(engine, mined, wrong, _declared_wrong(wrong), first, rest)
    with engine.connect() as conn:
        held = {(r.place, r.grams) for r in conn.execute(select(positions.c.place, positions.c.grams))}
    # The mine's holding, emptied by the last shipment, is gone; the withdrawn shipment left nothing.
    assert held == {("urn:oretrail:waybill:W2", 300_000), ("urn:oretrail:waybill:W3", 700_000)}
    before = snapshot(engine)
    rebuild_all(engine)
    assert snapshot(engine) == before


def test_a_further_declaration_becomes_the_newest_version_of_its_event(engine: Engine) -> None:
    evs = chain_events()[:1]
    capture(engine, *evs)
    capture(engine, _declared_wrong(evs[0]))
    later = _declared_wrong(evs[0], at="2025-06-03T00:00:00Z")
    assert capture(engine, later).corrections == 1
    assert capture(engine, later).unchanged == 1  # re-sent: judged against the newest version, a no-op
    with engine.connect() as conn:
        assert count(conn, "event") == 3


def test_a_bad_event_lands_nothing_of_its_document(engine: Engine) -> None:
    evs = chain_events()
    evs[2]["quantityList"][0]["quantity"] = -1
    with pytest.raises(IntakeError) as exc:
        capture(engine, *evs)
    assert exc.value.index == 2
    with engine.connect() as conn:
        assert count(conn) == 0
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0


def test_rebuild_equals_incremental(engine: Engine) -> None:
    evs = chain_events()
    capture(engine, *evs[:2])
    capture(engine, *evs[2:])
    before = snapshot(engine)
    rebuild_all(engine)
    assert snapshot(engine) == before


def test_oversized_document_is_refused_before_reading(tmp_path: Path, sqlite_engine: Engine) -> None:
    from oretrail.pipeline import read_bounded

    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(50 * 2**20)
    with pytest.raises(IntakeError, match="MiB limit"):
        read_bounded(big)


# --- properties ---------------------------------------------------------------------------------------
# A random chain: lots mined, some shipped and received, some merged or split in transformations; then
# captured in random batches. Rebuilding must give the same state, and every lot's mass must be conserved.
@st.composite
def random_chain(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[int]]:
    n_mines = draw(st.integers(1, 4))
    evs: list[dict[str, Any]] = []
    stock: list[tuple[str, float, str]] = []  # (lot, kg, place)
    for i in range(n_mines):
        kg = draw(st.integers(1, 5000)) + draw(st.sampled_from([0.0, 0.5, 0.125]))
        lot = b.lot(f"ore-{i}")
        evs.append(b.mining([(lot, kg)], "w.ore", 0.005, event_id=f"urn:uuid:m{i}", location=b.MINE))
        stock.append((lot, kg, b.MINE))
    for j in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["ship", "transform"]))
        if not stock:
            break
        k = draw(st.integers(0, len(stock) - 1))
        lot, kg, place = stock.pop(k)
        if op == "ship":
            dest = b.SMELTER if place != b.SMELTER else b.WAREHOUSE
            wb = f"urn:oretrail:waybill:R{j}"
            evs.append(b.shipping([(lot, kg)], wb, origin=place, destination=dest, event_id=f"urn:uuid:s{j}"))
            if draw(st.booleans()):
                evs.append(b.receiving([(lot, kg)], wb, location=dest, event_id=f"urn:uuid:r{j}"))
                stock.append((lot, kg, dest))
        else:
            outs = [(b.lot(f"out-{j}-{n}"), round(kg * 0.004, 3) or 0.001) for n in range(draw(st.integers(1, 3)))]
            evs.append(
                b.smelting(inputs=[(lot, kg)], outputs=outs, material="w.concentrate", grade=0.55,
                           event_id=f"urn:uuid:t{j}", location=place)
            )  # fmt: skip
            stock.extend((o, q, place) for o, q in outs)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(evs) - 1)), max_size=3))))
    return evs, cuts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=random_chain())
def test_property_rebuild_equals_incremental_and_mass_is_conserved(sqlite_engine: Engine, case: Any) -> None:
    from oretrail.chain.projector import clear_projections

    evs, cuts = case
    with sqlite_engine.begin() as conn:  # fresh state for each example on the shared fixture
        from oretrail.storage.schema import checkpoints, ledger

        clear_projections(conn)
        conn.execute(ledger.delete())
        conn.execute(checkpoints.delete())
    bounds = [0, *cuts, len(evs)]
    for lo, hi in itertools.pairwise(bounds):
        if hi > lo:
            capture(sqlite_engine, *evs[lo:hi])
    before = snapshot(sqlite_engine)
    rebuild_all(sqlite_engine)
    assert snapshot(sqlite_engine) == before
    with sqlite_engine.connect() as conn:
        held = dict(
            conn.execute(select(positions.c.lot_id, func.sum(positions.c.grams)).group_by(positions.c.lot_id)).all()
        )
        made = dict(conn.execute(select(lots.c.lot_id, lots.c.mass_g)).all())
        empty = conn.execute(select(func.count()).select_from(positions).where(positions.c.grams == 0)).scalar_one()
        used = dict(
            conn.execute(
                select(event_lots.c.lot_id, func.sum(event_lots.c.grams))
                .where(event_lots.c.role == "input")
                .group_by(event_lots.c.lot_id)
            ).all()
        )
    for lot, grams in made.items():
        assert held.get(lot, 0) == grams - used.get(lot, 0), lot
    assert empty == 0  # a holding that reaches zero is dropped, whichever way the batch learnt its amount


def _docs(*groups: list[dict[str, Any]]) -> list[tuple[bytes, str]]:
    return [(b.encode(b.document(*evs)), f"doc-{i}.jsonld") for i, evs in enumerate(groups)]


def test_documents_commit_in_groups_and_refuse_documents_one_by_one(engine: Engine) -> None:
    e1, e2, e3, e4 = chain_events()
    rewritten = {**e2, "eventTime": "2025-03-02T00:00:00Z"}  # e2 again with other content: refused
    items = [*_docs([e1], [e2]), (b"{not json", "broken.json"), *_docs([rewritten, e3]), *_docs([e3, e4])]
    reports = list(Capture(engine).documents(items, group_events=2))
    assert [len(r.errors) for r in reports] == [0, 0, 1, 1, 0]
    assert reports[2].errors[0].document == "broken.json"
    assert reports[3].errors[0].field == "eventID" and reports[3].errors[0].document == "doc-0.jsonld"
    assert [r.new for r in reports] == [1, 1, 0, 0, 2]
    with engine.connect() as conn:
        assert count(conn, "event") == 4  # nothing of the refused document, e3 once
        assert verify(conn).ok


def test_documents_are_reported_only_once_their_group_is_committed(engine: Engine) -> None:
    e1, e2, e3, e4 = chain_events()
    stream = Capture(engine).documents(_docs([e1, e2], [e3], [e4]), group_events=3)
    first = next(stream)
    assert first.new == 2
    with engine.connect() as other:  # another connection sees the whole first group, committed
        assert count(other, "event") == 3
    assert [r.new for r in stream] == [1, 1]


def test_an_unexpected_failure_rolls_the_open_group_back(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    e1, e2, e3, e4 = chain_events()
    calls = itertools.count()
    real = pipeline.judge

    def judge(*args: Any, **kwargs: Any) -> Any:
        if next(calls) == 1:  # the second group's judgement
            raise RuntimeError("rule engine crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "judge", judge)
    stream = Capture(engine, settings).documents(_docs([e1], [e2], [e3], [e4]), group_events=2)
    assert [r.new for r in itertools.islice(stream, 2)] == [1, 1]
    with pytest.raises(RuntimeError):
        next(stream)
    with engine.connect() as conn:
        assert count(conn, "event") == 2  # the first group only; the second was never acknowledged
        assert verify(conn).ok


# --- evidence off the stage profile is kept ---------------------------------------------------------------
def _smelter_commissioning(lot: str, kg: float, event_id: str) -> dict[str, Any]:
    """The shape that cost the national dataset five documents: a lot commissioned at a smelter by an ObjectEvent
    ADD with stage smelting (valid EPCIS 2.0; the profile expects a TransformationEvent)."""
    ev = b.mining([(lot, kg)], "ga.metal", 0.9999, location=b.SMELTER, event_id=event_id)
    ev["ot:stage"] = "smelting"
    return ev


def test_a_document_with_one_off_profile_event_lands_whole(engine: Engine) -> None:
    from oretrail.registry.store import load_registry
    from oretrail.rules.runner import run_rules

    load_registry(engine, [orjson.dumps(r) for r in _REGISTRY], "registry.jsonl")
    appeared = b.lot("ga-appeared")
    evs = [
        *(b.mining([(b.lot(f"ore-{i}"), 100.0 + i)], event_id=f"urn:uuid:m{i}") for i in range(6)),
        _smelter_commissioning(appeared, 40.0, "urn:uuid:odd"),
        b.shipping([(b.lot("ore-0"), 100.0)], "urn:oretrail:waybill:W1", origin=b.MINE, event_id="urn:uuid:s0"),
        b.export([(appeared, 40.0)], "530120250000000088", event_id="urn:uuid:x1"),
    ]
    (report,) = Capture(engine).documents(_docs(evs))
    assert report.errors == [] and report.new == len(evs)
    outcomes = {o.position: o for o in report.outcomes}
    assert [outcomes[i].outcome for i in range(len(evs))] == ["stored"] * 6 + ["off_profile", "stored", "stored"]
    odd = outcomes[6]
    assert odd.event_id == "urn:uuid:odd" and [f for f, _ in odd.departures] == ["type"]
    assert odd.read_as == "its lots created at its place"
    with engine.connect() as conn:
        assert count(conn, "event") == len(evs)
        row = conn.execute(select(events.c.off_profile).where(events.c.event_id == "urn:uuid:odd")).scalar_one()
        assert orjson.loads(row)["reading"] == "creation"
        made = conn.execute(select(lots.c.created_location, lots.c.mass_g).where(lots.c.lot_id == appeared)).one()
        assert tuple(made) == (b.SMELTER, 40_000)
        found = {(f.rule, f.subject_id) for f in run_rules(conn)}
    assert ("intake.off_profile", "urn:uuid:odd") in found
    assert ("trace.no_provenance", appeared) in found
    # The lots mined at the registered mine are traced; only the lot that appeared at the smelter is not.
    assert {s for r, s in found if r == "trace.no_provenance"} == {appeared}


_REGISTRY = [
    {"kind": "enterprise", "id": b.PARTY, "uscc": b.USCC, "name": "Ganzhou Example Rare Metals Co., Ltd.",
     "province": "CN-JX", "stages": ["mining", "smelting"], "registered": "2018-04-02"},
    {"kind": "facility", "id": b.MINE, "owner": b.PARTY, "type": "mine", "province": "CN-JX",
     "capacity_kg_per_year": 2000000},
    {"kind": "facility", "id": b.SMELTER, "owner": b.PARTY, "type": "smelter", "province": "CN-JX",
     "capacity_kg_per_year": 2000000},
]  # fmt: skip


def test_a_refused_document_reports_which_event_and_why(engine: Engine) -> None:
    evs = chain_events()
    evs[2]["quantityList"][0]["uom"] = "LTR"
    (report,) = Capture(engine).documents(_docs(chain_events()[:1], evs)[1:])
    assert [(o.position, o.outcome, o.field) for o in report.outcomes] == [(2, "refused", "quantityList[0].uom")]
    assert "unknown unit 'LTR'" in (report.outcomes[0].reason or "")
    with engine.connect() as conn:
        assert count(conn) == 0


def test_an_event_arriving_after_its_correction_is_stored_and_stays_retracted(engine: Engine) -> None:
    """Both orders end in the same state: the ledger holds the event and its declaration, the projections
    hold it retracted and apply the corrective event."""
    mined = chain_events()[0]
    wrong = {**mined, "errorDeclaration": {"declarationTime": "2025-06-02T00:00:00Z", "reason": "incorrect_data",
                                           "correctiveEventIDs": ["urn:uuid:fix"]}}  # fmt: skip
    fixed = b.mining([(b.lot("ore-1b"), 900.0)], "w.ore", 0.005, event_id="urn:uuid:fix")
    assert capture(engine, wrong, fixed).corrections == 1
    late = capture(engine, mined)
    assert (late.new, late.unchanged, [o.outcome for o in late.outcomes]) == (1, 0, ["stored"])
    assert capture(engine, mined).unchanged == 1  # sent again: on record now
    rewritten = {**mined, "eventTime": "2025-06-01T09:00:00+08:00"}
    with pytest.raises(IntakeError, match="errorDeclaration"):
        capture(engine, rewritten)  # not the event its declaration declared erroneous: a rewrite
    with engine.connect() as conn:
        assert count(conn, "event") == 3
        assert conn.execute(select(events.c.retracted).where(events.c.event_id == "urn:uuid:e1")).scalar_one()
    reverse = snapshot(engine)
    rebuild_all(engine)
    assert snapshot(engine) == reverse


def test_the_usual_order_gives_the_same_state(engine: Engine) -> None:
    mined = chain_events()[0]
    wrong = {**mined, "errorDeclaration": {"declarationTime": "2025-06-02T00:00:00Z", "reason": "incorrect_data",
                                           "correctiveEventIDs": ["urn:uuid:fix"]}}  # fmt: skip
    fixed = b.mining([(b.lot("ore-1b"), 900.0)], "w.ore", 0.005, event_id="urn:uuid:fix")
    capture(engine, mined)
    capture(engine, wrong, fixed)
    with engine.connect() as conn:
        held = dict(conn.execute(select(positions.c.lot_id, positions.c.grams)).all())
        retracted = conn.execute(select(events.c.retracted).where(events.c.event_id == "urn:uuid:e1")).scalar_one()
    assert held == {b.lot("ore-1b"): 900_000} and retracted
