"""Projections from chain readings, on both engines: positions, shipments, genealogy, exports, corrections."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, func, select

from oretrail.chain.projector import Projector, party_of_place
from oretrail.chain.trace import mining_sources, trace
from oretrail.model import LotQty
from oretrail.storage.schema import event_lots, events, exports, genealogy, lots, positions, shipments
from tests.chain.chainbuild import (
    BUYER,
    ELEMENTS,
    MINE,
    MINER,
    PORT,
    SMELTER,
    at,
    full_chain,
    mine,
    receive,
    retraction,
    ship,
)


def apply(engine: Engine, evs: list) -> None:  # type: ignore[type-arg]
    with engine.begin() as conn:
        start = conn.execute(select(func.coalesce(func.max(events.c.seq), 0))).scalar_one()
        Projector(conn, ELEMENTS).apply((start + i + 1, e) for i, e in enumerate(evs))


def holdings(conn: Connection) -> dict[tuple[str, str, str], int]:
    return {(r.lot_id, r.place, r.owner): r.grams for r in conn.execute(select(positions))}


def moved(conn: Connection) -> dict[tuple[str, str, str], int]:
    """Positions summed again from the draws and additions on the event_lots rows; emptied holdings left out."""
    net: dict[tuple[str, str, str], int] = {}
    el = event_lots.c
    for lot, source, giver, target, taker, grams in conn.execute(
        select(el.lot_id, el.from_place, el.from_owner, el.to_place, el.to_owner, el.grams)
    ):
        if source is not None:
            net[(lot, source, giver)] = net.get((lot, source, giver), 0) - grams
        if target is not None:
            net[(lot, target, taker)] = net.get((lot, target, taker), 0) + grams
    return {k: v for k, v in net.items() if v}


def test_full_chain_positions(engine: Engine) -> None:
    apply(engine, full_chain())
    with engine.connect() as conn:
        pos = holdings(conn)
        # Everything mined was consumed at the smelter; one metal lot left for abroad, one stays with the miner.
        # The buyer's metal left under its declaration; the unsold lot stays with the miner at the smelter.
        assert pos == {
            ("L-met-2", SMELTER, MINER): 60_000,
            ("L-met-1", "urn:oretrail:declaration:530120250000000001", BUYER): 300_000,
        }
        assert moved(conn) == pos


def test_lot_creation_and_element_content(engine: Engine) -> None:
    apply(engine, full_chain())
    with engine.connect() as conn:
        ore = conn.execute(select(lots).where(lots.c.lot_id == "L-ore-1")).mappings().one()
        assert (ore["element"], ore["mass_g"], ore["element_mg"]) == ("Sb", 10_000_000, 300_000_000)
        metal = conn.execute(select(lots).where(lots.c.lot_id == "L-met-1")).mappings().one()
        assert (metal["created_stage"], metal["created_location"], metal["element_mg"]) == (
            "smelting",
            SMELTER,
            297_000_000,
        )


def test_shipments_genealogy_exports(engine: Engine) -> None:
    apply(engine, full_chain())
    with engine.connect() as conn:
        s = conn.execute(select(shipments).where(shipments.c.waybill == "urn:oretrail:waybill:W1")).mappings().one()
        assert (s["origin"], s["dest_location"], s["received_location"], s["grams"]) == (
            MINE,
            SMELTER,
            SMELTER,
            15_000_000,
        )
        assert (s["received_at"] - s["dispatched_at"]).days == 2
        pairs = {(r.input_lot, r.output_lot) for r in conn.execute(select(genealogy))}
        assert pairs == {(i, o) for i in ("L-ore-1", "L-ore-2") for o in ("L-met-1", "L-met-2")}
        x = conn.execute(select(exports)).mappings().one()
        assert (x["lot_id"], x["declaration_no"], x["port"], x["grams"]) == (
            "L-met-1",
            "530120250000000001",
            PORT,
            300_000,
        )


def test_in_transit_is_a_position_under_the_waybill(engine: Engine) -> None:
    apply(engine, full_chain()[:3])
    with engine.connect() as conn:
        assert holdings(conn)[("L-ore-1", "urn:oretrail:waybill:W1", MINER)] == 10_000_000
        s = conn.execute(select(shipments)).mappings().one()
        assert s["received_at"] is None


def test_retraction_undoes_every_effect(engine: Engine) -> None:
    evs = full_chain()[:4]
    apply(engine, evs)
    apply(engine, [retraction(evs[3], 5)])  # the receipt was wrong
    with engine.connect() as conn:
        assert holdings(conn)[("L-ore-1", "urn:oretrail:waybill:W1", MINER)] == 10_000_000
        s = conn.execute(select(shipments)).mappings().one()
        assert s["received_at"] is None and s["dispatch_event"] == "e3"
        assert conn.execute(select(events.c.retracted).where(events.c.event_id == "e4")).scalar_one() is True


def test_retracting_a_mining_event_removes_its_lot(engine: Engine) -> None:
    e = mine("m1", "L-x", 100)
    apply(engine, [e])
    apply(engine, [retraction(e, 1)])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lots)).scalar_one() == 0
        assert holdings(conn) == {}


def test_rebuild_equals_incremental_for_any_batching(engine: Engine) -> None:
    evs = full_chain()
    apply(engine, evs[:2])
    apply(engine, evs[2:5])
    apply(engine, evs[5:])
    with engine.connect() as conn:
        incremental = holdings(conn)
    from oretrail.chain.projector import clear_projections

    with engine.begin() as conn:
        clear_projections(conn)
    apply(engine, evs)
    with engine.connect() as conn:
        assert holdings(conn) == incremental


def test_trace_backward_reaches_both_mines_and_forward_reaches_export(engine: Engine) -> None:
    apply(engine, full_chain())
    with engine.connect() as conn:
        back = trace(conn, "L-met-1", backward=True)
        assert {n.lot for n in mining_sources(back)} == {"L-ore-1", "L-ore-2"}
        fwd = trace(conn, "L-ore-2", backward=False)
        outs = {n.lot for step in fwd.via for n in step["lots"]}
        assert outs == {"L-met-1", "L-met-2"}
        met1 = next(n for step in fwd.via for n in step["lots"] if n.lot == "L-met-1")
        assert met1.exports[0]["declaration_no"] == "530120250000000001"


def test_trace_of_a_diamond_expands_each_lot_once(engine: Engine) -> None:
    from tests.chain.chainbuild import transform

    apply(
        engine,
        [
            mine("m", "A", 1000),
            transform("t1", {"A": 500}, {"B": 20}, "sb.concentrate", 0.5, 1),
            transform("t2", {"A": 500}, {"C": 20}, "sb.concentrate", 0.5, 1),
            transform("t3", {"B": 20, "C": 20}, {"D": 19}, "sb.metal", 0.99, 2),
        ],
    )
    with engine.connect() as conn:
        back = trace(conn, "D", backward=True).as_dict()
    flat = str(back)
    assert flat.count("'repeated': True") == 1  # A is reached twice, expanded once


def test_owner_of_a_place() -> None:
    assert party_of_place(MINE) == MINER
    assert party_of_place(PORT) == ""
    assert party_of_place(None) == ""


def test_shipping_to_an_unknown_place_keeps_declared_destination(engine: Engine) -> None:
    apply(engine, [mine("m", "A", 10), ship("s", {"A": 10}, "urn:oretrail:waybill:X", MINE, SMELTER, 1)])
    with engine.connect() as conn:
        s = conn.execute(select(shipments)).mappings().one()
        assert (s["dest_location"], s["dest_party"]) == (SMELTER, MINER)


def test_shipment_keeps_the_earliest_dispatch_and_receipt_whatever_the_arrival_order(engine: Engine) -> None:
    """Shipments are merged by an upsert in the database: the earliest dispatch names the origin (replacing
    a later one that arrived first), every dispatch adds its grams, the earliest receipt wins."""
    w = "urn:oretrail:waybill:W9"
    batches = [
        [mine("m1", "L1", 50), mine("m2", "L2", 50, place=SMELTER)],
        [ship("s-late", {"L2": 5}, w, SMELTER, PORT, days=3)],  # arrives first, dispatched later
        [ship("s-early", {"L1": 10}, w, MINE, PORT, days=1), receive("r-late", {"L1": 10}, w, PORT, days=6)],
        [ship("s-last", {"L1": 4}, w, MINE, PORT, days=4), receive("r-early", {"L1": 4}, w, PORT, days=5)],
    ]
    for batch in batches:
        apply(engine, batch)
    with engine.connect() as conn:
        s = conn.execute(select(shipments).where(shipments.c.waybill == w)).mappings().one()
    assert (s["origin"], s["dispatch_event"], s["dispatched_at"]) == (MINE, "s-early", at(1))
    assert s["grams"] == 19_000  # all three dispatches: the 5 kg that arrived first are not lost
    assert (s["receipt_event"], s["received_at"], s["received_location"]) == ("r-early", at(5), PORT)


def test_dispatches_under_one_waybill_in_one_batch_merge_as_if_one_by_one(engine: Engine) -> None:
    """Within one batch the shipment merges run in rounds of one row per waybill (on PostgreSQL a set-based
    merge may touch a row once): three dispatches and two receipts of one waybill in one batch end as they
    do arriving one by one."""
    w = "urn:oretrail:waybill:W8"
    apply(engine, [
        mine("m1", "L1", 50), mine("m2", "L2", 50, place=SMELTER),
        ship("s-late", {"L2": 5}, w, SMELTER, PORT, days=3), ship("s-early", {"L1": 10}, w, MINE, PORT, days=1),
        receive("r-late", {"L1": 10}, w, PORT, days=6), ship("s-last", {"L1": 4}, w, MINE, PORT, days=4),
        receive("r-early", {"L1": 4}, w, PORT, days=5),
    ])  # fmt: skip
    with engine.connect() as conn:
        s = conn.execute(select(shipments).where(shipments.c.waybill == w)).mappings().one()
    assert (s["origin"], s["dispatch_event"], s["dispatched_at"], s["grams"]) == (MINE, "s-early", at(1), 19_000)
    assert (s["receipt_event"], s["received_at"], s["received_location"]) == ("r-early", at(5), PORT)


def test_a_lot_listed_twice_moves_once_with_the_sum(engine: Engine) -> None:
    """One event naming a lot twice moved their sum: one event_lots row, its draw and its put, and a retraction
    of it gives back exactly that."""
    twice = ship("e-ship", {}, "urn:oretrail:waybill:W2", MINE, SMELTER, 1)
    twice = twice._replace(quantities=(LotQty("L-x", 300_000), LotQty("L-x", 200_000)))
    apply(engine, [mine("e-mine", "L-x", 1000), twice])
    with engine.connect() as conn:
        rows = conn.execute(
            select(event_lots.c.grams, event_lots.c.from_place, event_lots.c.to_place).where(
                event_lots.c.role == "shipped"
            )
        ).all()
        assert [tuple(r) for r in rows] == [(500_000, MINE, "urn:oretrail:waybill:W2")]
        assert holdings(conn) == {("L-x", MINE, MINER): 500_000, ("L-x", "urn:oretrail:waybill:W2", MINER): 500_000}
        assert moved(conn) == holdings(conn)
        assert conn.execute(select(shipments.c.grams)).scalar_one() == 500_000
    apply(engine, [retraction(twice, 2)])
    with engine.connect() as conn:
        assert holdings(conn) == {("L-x", MINE, MINER): 1_000_000}


def test_a_shipment_recomputed_after_a_correction_keeps_a_read_point_origin(engine: Engine) -> None:
    """A dispatch that names only its readPoint (transport events need no bizLocation) has that place as its
    origin, at capture and again when a correction makes the shipment be recomputed from its live events."""
    w = "urn:oretrail:waybill:W7"
    first = ship("s-1", {"L1": 10}, w, MINE, PORT, days=1)._replace(biz_location=None, read_point=MINE)
    second = ship("s-2", {"L1": 5}, w, MINE, PORT, days=2)
    apply(engine, [mine("m1", "L1", 50), first, second])
    with engine.connect() as conn:
        assert conn.execute(select(shipments.c.origin, shipments.c.grams)).one() == (MINE, 15_000)
    apply(engine, [retraction(second, 3)])
    with engine.connect() as conn:
        assert conn.execute(select(shipments.c.origin, shipments.c.grams)).one() == (MINE, 10_000)
