"""The order of arrival must not change what is stored (docs/projections.md, "Order of arrival").

Enterprises report their own months, re-send, and correct; a correction can come before the event it corrects
and a receipt before its dispatch. One small chain (mining, a dispatch and its receipt, two transformations, a
sale, a shipment to the port, an export, a lot off the stage profile, a correction with its corrective
event) is captured in random orders, cut into random documents, with random re-sends; the ledger (as a set of
records), every projection table (less its ledger sequence numbers), the rebuild and the scan's findings must
all equal those of the usual order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from oretrail.chain.projector import PROJECTION_TABLES
from oretrail.feeds import rebuild_all
from oretrail.pipeline import Capture
from oretrail.registry.store import load_registry
from oretrail.rules.runner import run_rules
from oretrail.storage.engine import make_engine, migrate
from oretrail.storage.schema import ledger
from tests.intake import builders as b

W1, W2 = "urn:oretrail:waybill:W1", "urn:oretrail:waybill:W2"
ORE1, ORE2, ORE3, ORE3B = b.lot("ore-1"), b.lot("ore-2"), b.lot("ore-3"), b.lot("ore-3b")
CONC, APT, ODD = b.lot("conc-1"), b.lot("apt-1"), b.lot("ga-odd")


def _t(day: int) -> str:
    return f"2025-06-{day:02d}T08:00:00+08:00"


def _owned(ev: dict[str, Any], source: str | None = None, dest: str | None = None) -> dict[str, Any]:
    """Name the owner a movement takes from (and gives to), as the simulator's senders do: a draw that names
    no owner takes from whoever holds most at that moment, which is the one thing arrival order may change."""
    if source:
        ev["sourceList"] = [{"type": "owning_party", "source": source}]
    if dest:
        ev["destinationList"] = [*ev.get("destinationList", []), {"type": "owning_party", "destination": dest}]
    return ev


def chain() -> list[dict[str, Any]]:
    """The usual order: each event after the ones it depends on."""
    wrong = b.mining([(ORE3, 200.0)], event_id="urn:uuid:m3", time=_t(1))
    declared = {
        **wrong,
        "errorDeclaration": {
            "declarationTime": "2025-06-02T00:00:00Z",
            "reason": "incorrect_data",
            "correctiveEventIDs": ["urn:uuid:m3b"],
        },
    }
    odd = b.mining([(ODD, 5.0)], "ga.metal", 0.9999, location=b.SMELTER, event_id="urn:uuid:odd", time=_t(3))
    odd["ot:stage"] = "smelting"  # a lot that appears at a smelter from nowhere: off profile, kept
    return [
        b.mining([(ORE1, 1000.0)], event_id="urn:uuid:m1", time=_t(1)),
        b.mining([(ORE2, 500.0)], event_id="urn:uuid:m2", time=_t(1)),
        wrong,
        b.shipping([(ORE1, 1000.0), (ORE2, 500.0)], W1, destination=b.SMELTER, origin=b.MINE,
                   event_id="urn:uuid:s1", time=_t(2)),
        b.receiving([(ORE1, 1000.0), (ORE2, 500.0)], W1, location=b.SMELTER, event_id="urn:uuid:r1", time=_t(4))
        | {"sourceList": [{"type": "owning_party", "source": b.PARTY}]},
        declared,
        b.mining([(ORE3B, 150.0)], event_id="urn:uuid:m3b", time=_t(2)),
        odd,
        b.smelting(inputs=[(ORE1, 1000.0), (ORE2, 500.0)], outputs=[(CONC, 80.0)], event_id="urn:uuid:t1",
                   time=_t(5)),
        b.processing(inputs=[(CONC, 80.0)], outputs=[(APT, 60.0)], event_id="urn:uuid:t2", time=_t(6)),
        b.sales([(APT, 60.0)], event_id="urn:uuid:sale", time=_t(7)) | {"bizLocation": {"id": b.SMELTER}},
        _owned(b.shipping([(APT, 60.0)], W2, origin=b.SMELTER, destination=b.PORT, event_id="urn:uuid:s2",
                          time=_t(8)), source=b.BUYER),
        _owned(b.receiving([(APT, 60.0)], W2, location=b.PORT, event_id="urn:uuid:r2", time=_t(9)), source=b.BUYER),
        _owned(b.export([(APT, 60.0), (ODD, 5.0)], "530120250000000099", event_id="urn:uuid:x", time=_t(10)),
               source=b.BUYER),
    ]  # fmt: skip


REGISTRY = [
    {"kind": "facility", "id": b.MINE, "owner": b.PARTY, "type": "mine", "province": "CN-JX",
     "capacity_kg_per_year": 2000000},
    {"kind": "facility", "id": b.SMELTER, "owner": b.PARTY, "type": "smelter", "province": "CN-JX",
     "capacity_kg_per_year": 2000000},
]  # fmt: skip


def state(engine: Engine) -> dict[str, Any]:
    """The ledger as a set of records, every projection table less its sequence numbers, the scan's findings."""
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        out["ledger"] = {tuple(r) for r in conn.execute(select(ledger.c.kind, ledger.c.key, ledger.c.body))}
        for t in PROJECTION_TABLES:
            cols = [c for c in t.columns if not c.name.endswith("seq")]
            out[t.name] = sorted(tuple(str(v) for v in r) for r in conn.execute(select(*cols)))
        out["findings"] = [(f.rule, f.subject_kind, f.subject_id, f.key, f.message) for f in run_rules(conn)]
    return out


def capture_in(engine: Engine, documents: list[list[dict[str, Any]]]) -> dict[str, Any]:
    """Capture the documents in the order given; return the state, after checking a rebuild reproduces it."""
    load_registry(engine, [orjson.dumps(r) for r in REGISTRY], "registry.jsonl")
    items = [(b.encode(b.document(*evs)), f"doc-{i}.jsonld") for i, evs in enumerate(documents)]
    for report in Capture(engine).documents(items, group_events=3):
        assert report.errors == []
    incremental = state(engine)
    rebuild_all(engine)
    assert state(engine) == incremental
    return incremental


def _fresh(path: Path) -> Iterator[Engine]:
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _usual(tmp: Path) -> dict[str, Any]:
    for engine in _fresh(tmp / "usual.db"):
        return capture_in(engine, [chain()])
    raise AssertionError("unreachable")


@st.composite
def arrivals(draw: st.DrawFn) -> list[list[dict[str, Any]]]:
    """The chain's events in any order, some sent twice, cut into documents of any size."""
    events = chain()
    order = draw(st.permutations(range(len(events))))
    resent = draw(st.lists(st.integers(0, len(events) - 1), max_size=3))
    stream = [events[i] for i in order] + [events[i] for i in resent]
    documents: list[list[dict[str, Any]]] = [[]]
    for ev in stream:
        if documents[-1] and (draw(st.booleans()) or any(e["eventID"] == ev["eventID"] for e in documents[-1])):
            documents.append([])
        documents[-1].append(ev)
    return documents


def test_the_usual_order_is_what_the_chain_says(tmp_path: Path) -> None:
    """The reference itself: the correction applied, the receipt and the export drew what was put, no holding of
    zero grams, and the off-profile lot exported without provenance."""
    usual = _usual(tmp_path)
    held = {(lot, place, owner): int(g) for lot, place, owner, g in usual["positions"]}
    assert held == {
        (ORE3B, b.MINE, b.PARTY): 150_000,
        (APT, "urn:oretrail:declaration:530120250000000099", b.BUYER): 60_000,
        (ODD, b.SMELTER, b.PARTY): 5_000,
        (ODD, "urn:oretrail:declaration:530120250000000099", b.BUYER): 5_000,
        (ODD, b.PORT, b.BUYER): -5_000,
    }
    assert len(usual["ledger"]) == len(chain()) + len(REGISTRY)
    rules = {(rule, subject) for rule, _, subject, _, _ in usual["findings"]}
    assert {("intake.off_profile", "urn:uuid:odd"), ("trace.no_provenance", ODD)} <= rules
    assert ("trace.no_provenance", APT) not in rules


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(documents=arrivals())
def test_any_arrival_order_stores_the_same(tmp_path: Path, documents: list[list[dict[str, Any]]]) -> None:
    usual = _usual(tmp_path)
    for engine in _fresh(tmp_path / "shuffled.db"):
        shuffled = capture_in(engine, documents)
    assert shuffled == usual


def test_reverse_order_on_both_engines(engine: Engine, tmp_path: Path) -> None:
    """Everything backwards, one event per document: every correction before its event, every receipt before
    its dispatch, every draw before its put."""
    reverse = capture_in(engine, [[ev] for ev in reversed(chain())])
    assert reverse == _usual(tmp_path)
