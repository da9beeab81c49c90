"""Every rule: a case that must raise it, a near miss that must not, and the exact subject it names.

Each test runs once on SQLite and once on PostgreSQL (the `engine` fixture), with the same expectations.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import orjson
from sqlalchemy import Engine

from oretrail.catalogue.model import Catalogue
from oretrail.rules.base import Finding
from oretrail.rules.config import Config
from oretrail.rules.runner import run_rules
from tests.rules.state import EXPORTER, MINE, PORT, REFINERY, T0, USCC_A, State, days

Build = Callable[[State], None]


def judge(engine: Engine, build: Build, rule: str, cat: Catalogue, cfg: Config | None = None) -> list[Finding]:
    with engine.begin() as conn:
        st = State(conn)
        build(st)
        st.close()
        return run_rules(conn, config=cfg, catalogue=cat, rules=[rule])


def subjects(found: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.subject_kind, f.subject_id, f.key) for f in found]


# --- licence.missing ----------------------------------------------------------------------------------
def test_licence_missing_raises_without_licence_or_with_unknown_one(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.licence()
        st.declaration("530120250000000001", licence_no=None)
        st.declaration("530120250000000002", licence_no="EL2025JX999999")
        st.declaration("530120250000000003")  # cites the licence on record: fine
        st.declaration("530120250000000004", licence_no=None, hs_code="8112929099")  # not a controlled code

    found = judge(engine, build, "licence.missing", cat)
    assert subjects(found) == [
        ("declaration", "530120250000000001", ""),
        ("declaration", "530120250000000002", ""),
    ]
    assert "not on record" in found[1].message and "EL2025JX999999" in found[1].evidence


# --- licence.overdrawn --------------------------------------------------------------------------------
def test_licence_overdrawn_only_beyond_the_granted_quantity(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.licence("EL2025JX000001", quantity_g=500_000)
        st.declaration("530120250000000011", licence_no="EL2025JX000001", net_g=300_000)
        st.declaration("530120250000000012", licence_no="EL2025JX000001", net_g=200_000)  # exactly 500 kg: fine
        st.licence("EL2025JX000002", quantity_g=500_000)
        st.declaration("530120250000000021", licence_no="EL2025JX000002", net_g=300_000)
        st.declaration("530120250000000022", licence_no="EL2025JX000002", net_g=200_001)  # one gram over

    found = judge(engine, build, "licence.overdrawn", cat)
    assert subjects(found) == [("licence", "EL2025JX000002", "")]
    assert found[0].details["excess_g"] == 1 and found[0].details["uses"] == 2
    assert set(found[0].evidence) == {"EL2025JX000002", "530120250000000021", "530120250000000022"}


# --- licence.mismatch ---------------------------------------------------------------------------------
def test_licence_mismatch_names_each_differing_field(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.licence(port="CNSHA")
        st.declaration("530120250000000031", port="CNSHA", consignee="EXAMPLE SEMICONDUCTOR G.m.b.H.")  # same firm
        st.declaration("530120250000000032", port="CNSHA", destination="NL")
        st.declaration("530120250000000033", port="CNSZX")  # licence names Shanghai
        st.declaration("530120250000000034", port="CNSHA", consignee="Other Trading Ltd")
        st.declaration(
            "530120250000000035",
            port="CNSHA",
            exporter="urn:oretrail:party:uscc:91110000100000000X",
            hs_code="8112921010",  # germanium: a different material
        )

    found = judge(engine, build, "licence.mismatch", cat)
    assert [f.subject_id for f in found] == [
        "530120250000000032",
        "530120250000000033",
        "530120250000000034",
        "530120250000000035",
    ]
    fields = [sorted(f.details["differences"]) for f in found]
    assert fields == [["destination"], ["port"], ["consignee"], ["exporter", "hs_code", "material"]]


# --- licence.invalid ----------------------------------------------------------------------------------
def test_licence_invalid_for_status_and_dates_inclusive_bounds(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.licence("EL2025JX000041")
        st.licence("EL2025JX000042", status="revoked")
        st.declaration("530120250000000041", licence_no="EL2025JX000041", date=date(2025, 3, 1))  # first day
        st.declaration("530120250000000042", licence_no="EL2025JX000041", date=date(2025, 12, 31))  # last day
        st.declaration("530120250000000043", licence_no="EL2025JX000041", date=date(2026, 1, 1))
        st.declaration("530120250000000044", licence_no="EL2025JX000042")

    found = judge(engine, build, "licence.invalid", cat)
    assert subjects(found) == [("declaration", "530120250000000043", ""), ("declaration", "530120250000000044", "")]
    assert "outside its validity" in found[0].message and "revoked" in found[1].message


# --- declaration.misclassified ------------------------------------------------------------------------
def test_misclassified_when_uncontrolled_code_carries_controlled_lots(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.mine("urn:oretrail:lot:A:ga1", "ga.metal", 120, 0.9999)
        st.mine("urn:oretrail:lot:A:ga2", "ga.metal", 120, 0.9999)
        st.declaration("530120250000000051", hs_code="8112929099", licence_no=None)  # not listed: no licence
        st.export("urn:uuid:exp-51", "urn:oretrail:lot:A:ga1", 120, "530120250000000051")
        st.declaration("530120250000000052")  # controlled code, controlled lot: properly declared
        st.export("urn:uuid:exp-52", "urn:oretrail:lot:A:ga2", 120, "530120250000000052")
        st.mine("urn:oretrail:lot:A:bx", "ga.bauxite", 120, 0.00005)
        st.declaration("530120250000000053", hs_code="2606000000", licence_no=None)  # bauxite: uncontrolled
        st.export("urn:uuid:exp-53", "urn:oretrail:lot:A:bx", 120, "530120250000000053")

    found = judge(engine, build, "declaration.misclassified", cat)
    assert subjects(found) == [("declaration", "530120250000000051", "")]
    assert "urn:uuid:exp-51" in found[0].evidence and found[0].details["materials"] == ["ga.metal"]


# --- declaration.unit_value ---------------------------------------------------------------------------
def test_unit_value_far_outside_range_only(engine: Engine, cat: Catalogue, cfg: Config) -> None:
    m = cat.materials["ga.metal"]
    lo = min(x.unit_value_min for x in cat.by_hs("8112929010")) / cfg.unit_value_factor
    hi = max(x.unit_value_max for x in cat.by_hs("8112929010")) * cfg.unit_value_factor
    assert m.unit_value_min >= lo

    def build(st: State) -> None:
        st.declaration("530120250000000061", net_g=100_000, value_usd=100 * lo * 1.001)  # just inside
        st.declaration("530120250000000062", net_g=100_000, value_usd=100 * hi * 0.999)  # just inside
        st.declaration("530120250000000063", net_g=100_000, value_usd=100 * lo * 0.98)  # below
        st.declaration("530120250000000064", net_g=100_000, value_usd=100 * hi * 1.02)  # above

    found = judge(engine, build, "declaration.unit_value", cat, cfg)
    assert subjects(found) == [("declaration", "530120250000000063", ""), ("declaration", "530120250000000064", "")]
    assert "below" in found[0].message and "above" in found[1].message


# --- trace.no_provenance ------------------------------------------------------------------------------
def test_no_provenance_when_any_root_lacks_a_mining_event(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.facility(MINE, type_="mine")
        # Clean chain: mined crude gallium refined into metal, exported.
        st.mine("urn:oretrail:lot:A:crude1", "ga.crude", 100, 0.999)
        st.transform(
            "urn:uuid:refine-1",
            [("urn:oretrail:lot:A:crude1", 100)],
            [("urn:oretrail:lot:A:m1", "ga.metal", 60, 0.9999)],
        )
        st.export("urn:uuid:exp-71", "urn:oretrail:lot:A:m1", 60, "530120250000000071")
        # Laundered: one mined input, one input that nothing on record created.
        st.mine("urn:oretrail:lot:A:crude2", "ga.crude", 100, 0.999)
        st.transform(
            "urn:uuid:refine-2",
            [("urn:oretrail:lot:A:crude2", 100), ("urn:oretrail:lot:X:ghost", 50)],
            [("urn:oretrail:lot:A:m2", "ga.metal", 100, 0.9999)],
        )
        st.export("urn:uuid:exp-72", "urn:oretrail:lot:A:m2", 100, "530120250000000072")
        # A lot exported that no event ever created.
        st.export("urn:uuid:exp-73", "urn:oretrail:lot:X:nowhere", 10, "530120250000000073")
        st.declaration("530120250000000073")
        # Uncontrolled material without provenance: not this rule's business.
        st.export("urn:uuid:exp-74", "urn:oretrail:lot:X:ore", 10, "530120250000000074")
        st.lot("urn:oretrail:lot:X:ore", "w.ore", 10, 0.01, stage="processing")

    found = judge(engine, build, "trace.no_provenance", cat)
    assert subjects(found) == [("lot", "urn:oretrail:lot:A:m2", ""), ("lot", "urn:oretrail:lot:X:nowhere", "")]
    assert found[0].details["untraced_roots"] == ["urn:oretrail:lot:X:ghost"]
    assert "530120250000000072" in found[0].evidence and "urn:uuid:exp-72" in found[0].evidence


def test_provenance_is_a_mining_object_event_at_a_registered_mine(engine: Engine, cat: Catalogue) -> None:
    """Only a lot mined (stage mining, ObjectEvent ADD) at a facility the registry lists as a mine has provenance:
    created at a smelter, by a mining-stage transformation, or at a mine no department registered, it has none."""
    unregistered_mine = f"urn:oretrail:loc:{USCC_A}:mine-77"

    def build(st: State) -> None:
        st.facility(MINE, type_="mine")
        st.facility()  # the refinery, type refinery
        cases = {
            "ok": ("mining", "ObjectEvent", "ADD", MINE),
            "at-refinery": ("mining", "ObjectEvent", "ADD", REFINERY),
            "unregistered": ("mining", "ObjectEvent", "ADD", unregistered_mine),
            "smelter-add": ("smelting", "ObjectEvent", "ADD", MINE),
            "transformed": ("mining", "TransformationEvent", None, MINE),
        }
        for n, (name, (stage, kind, action, place)) in enumerate(sorted(cases.items())):
            eid, lot = f"urn:uuid:make-{name}", f"urn:oretrail:lot:A:{name}"
            st.event(eid, stage=stage, event_type=kind, action=action, location=place)
            st.lot(lot, "ga.metal", 10, 0.9999, created_event=eid, stage=stage, location=place)
            st.export(f"urn:uuid:exp-{name}", lot, 10, f"5301202500000008{n:02d}")

    found = judge(engine, build, "trace.no_provenance", cat)
    assert sorted(f.subject_id.rsplit(":", 1)[1] for f in found) == [
        "at-refinery", "smelter-add", "transformed", "unregistered"
    ]  # fmt: skip
    assert "nor mined at a registered mine" in found[0].message


# --- intake.off_profile -------------------------------------------------------------------------------
def test_off_profile_names_the_fields_and_the_reading(engine: Engine, cat: Catalogue) -> None:
    departures = [["type", "a smelting event is a TransformationEvent, not an ObjectEvent"]]
    off = orjson.dumps({"reading": "creation", "departures": departures}).decode()

    def build(st: State) -> None:
        st.facility()
        st.event("urn:uuid:odd", stage="smelting", biz_step="commissioning", action="ADD", off_profile=off)
        st.lot("urn:oretrail:lot:A:new", "ga.metal", 5, 0.9999, created_event="urn:uuid:odd", location=REFINERY)
        st.event_lot("urn:uuid:odd", "urn:oretrail:lot:A:new", "created", 5, put_at=REFINERY)
        st.event("urn:uuid:fine", stage="mining", biz_step="commissioning", action="ADD")
        st.event("urn:uuid:withdrawn", stage="smelting", action="ADD", off_profile=off, retracted=True)

    found = judge(engine, build, "intake.off_profile", cat)
    assert subjects(found) == [("event", "urn:uuid:odd", "")]
    f = found[0]
    assert "type: a smelting event is a TransformationEvent, not an ObjectEvent" in f.message
    assert "read as its lots created at its place" in f.message
    assert (f.location, f.material, f.controlled, f.stake_g) == (REFINERY, "ga.metal", True, 0)


def test_off_profile_departures_read_in_the_officers_language(engine: Engine, cat: Catalogue) -> None:
    """Departures are stored as messages (intake/epcis.py) and read in either language; English text stored by
    an older version is shown as it was written."""
    from oretrail.intake.epcis import DEPARTS_BIZ_STEP, DEPARTS_TYPE

    departures = [
        ["type", DEPARTS_TYPE(stage="smelting", expected="TransformationEvent", got="ObjectEvent").to_json()],
        ["bizStep", DEPARTS_BIZ_STEP(stage="export", expected=["departing", "shipping"], got="'receiving'").to_json()],
        ["action", "an older English reason"],
    ]
    off = orjson.dumps({"reading": "creation", "departures": departures}).decode()

    def build(st: State) -> None:
        st.facility()
        st.event("urn:uuid:odd", stage="smelting", biz_step="commissioning", action="ADD", off_profile=off)

    (f,) = judge(engine, build, "intake.off_profile", cat)
    en, zh = f.message.render("en"), f.message.render("zh")
    assert "type: a smelting event is a TransformationEvent, not an ObjectEvent" in en
    assert "bizStep: an export event has bizStep departing or shipping, not 'receiving'" in en
    assert "action: an older English reason" in en
    assert "type：冶炼环节的事件应为 TransformationEvent，而非 ObjectEvent" in zh
    assert "bizStep：出口环节的事件的 bizStep 应为 departing或shipping，而非 'receiving'" in zh
    assert "smelting event" not in zh and "an export" not in zh


# --- balance.transformation ---------------------------------------------------------------------------
def test_transformation_exactly_at_recovery_bound_does_not_raise(engine: Engine, cat: Catalogue, cfg: Config) -> None:
    rec = cat.materials["ga.metal"].max_recovery
    tol = 1 + cfg.relative_tolerance
    in_kg = 1000.0  # of ga.crude at grade 0.99: 990 kg of Ga

    def build(st: State) -> None:
        st.mine("urn:oretrail:lot:A:c1", "ga.crude", in_kg, 0.99)
        st.transform(  # exactly at the bound: output Ga = input Ga × max recovery
            "urn:uuid:t-at-bound",
            [("urn:oretrail:lot:A:c1", in_kg)],
            [("urn:oretrail:lot:A:o1", "ga.metal", in_kg * 0.99 * rec / 0.9999, 0.9999)],
        )
        st.mine("urn:oretrail:lot:A:c2", "ga.crude", in_kg, 0.99)
        st.transform(  # 5 % beyond bound × tolerance: 38 kg of Ga from nowhere
            "urn:uuid:t-over",
            [("urn:oretrail:lot:A:c2", in_kg)],
            [("urn:oretrail:lot:A:o2", "ga.metal", in_kg * 0.99 * rec * tol * 1.05 / 0.9999, 0.9999)],
        )

    found = judge(engine, build, "balance.transformation", cat, cfg)
    assert subjects(found) == [("event", "urn:uuid:t-over", "Ga")]
    d = found[0].details
    assert d["max_recovery"] == rec
    assert d["output_element_mg"] > d["allowed_mg"] * tol
    assert found[0].location == REFINERY


def test_transformation_output_from_no_input_of_the_element_raises(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.mine("urn:oretrail:lot:A:w1", "w.concentrate", 1000, 0.5)
        st.transform(
            "urn:uuid:t-ga-from-w",
            [("urn:oretrail:lot:A:w1", 1000)],
            [("urn:oretrail:lot:A:w2", "w.apt", 600, 0.7), ("urn:oretrail:lot:A:g2", "ga.metal", 10, 0.9999)],
        )

    found = judge(engine, build, "balance.transformation", cat)
    assert subjects(found) == [("event", "urn:uuid:t-ga-from-w", "Ga")]  # W balances; Ga does not


# --- balance.lot ----------------------------------------------------------------------------------------
def test_lot_balance_raises_only_beyond_tolerance(engine: Engine, cat: Catalogue, cfg: Config) -> None:
    def build(st: State) -> None:
        st.mine("urn:oretrail:lot:A:l1", "ga.crude", 100, 0.99)
        st.draw("urn:uuid:draw-1", "urn:oretrail:lot:A:l1", MINE, 100 * (1 + cfg.relative_tolerance) + 1)  # at edge
        st.mine("urn:oretrail:lot:A:l2", "ga.crude", 100, 0.99)
        st.draw("urn:uuid:draw-2", "urn:oretrail:lot:A:l2", MINE, 60)
        st.draw("urn:uuid:draw-3", "urn:oretrail:lot:A:l2", MINE, 60)  # 120 drawn of 100
        # Drawn at a place the lot never reached.
        st.draw("urn:uuid:draw-4", "urn:oretrail:lot:A:l2", REFINERY, 5)

    found = judge(engine, build, "balance.lot", cat, cfg)
    assert subjects(found) == [
        ("lot", "urn:oretrail:lot:A:l2", MINE),
        ("lot", "urn:oretrail:lot:A:l2", REFINERY),
    ]
    assert found[0].details["excess_g"] == 20_000
    assert set(found[0].details["draw_events"]) == {"urn:uuid:draw-2", "urn:uuid:draw-3"}


# --- transit.not_received -------------------------------------------------------------------------------
def test_not_received_judged_against_newest_event_not_wall_clock(engine: Engine, cat: Catalogue) -> None:
    def build(st: State) -> None:
        st.shipment("urn:oretrail:waybill:on-day-15", received=T0 + days(15))  # in time
        st.shipment("urn:oretrail:waybill:late", received=T0 + days(15) + days(1 / 86400 * 2))  # 2 s late
        st.shipment("urn:oretrail:waybill:open-15", dispatched=T0 + days(5))  # open exactly 15 days: fine
        st.shipment("urn:oretrail:waybill:open-16", dispatched=T0 + days(4))
        st.event("urn:uuid:clock", time=T0 + days(20))  # the newest record: the clock
        st.event("urn:uuid:retracted", time=T0 + days(400), retracted=True)  # does not move the clock

    found = judge(engine, build, "transit.not_received", cat)
    assert subjects(found) == [
        ("shipment", "urn:oretrail:waybill:late", ""),
        ("shipment", "urn:oretrail:waybill:open-16", ""),
    ]
    assert found[1].details["days"] == 16.0


# --- transit.diverted -----------------------------------------------------------------------------------
def test_diverted_when_received_elsewhere(engine: Engine, cat: Catalogue) -> None:
    other = "urn:oretrail:loc:91360700MA35F0AX28:smelter-9"

    def build(st: State) -> None:
        st.shipment("urn:oretrail:waybill:ok", received=T0 + days(2))
        st.shipment("urn:oretrail:waybill:div", received=T0 + days(2), received_at_location=other)
        st.shipment("urn:oretrail:waybill:open", received=None)

    found = judge(engine, build, "transit.diverted", cat)
    assert subjects(found) == [("shipment", "urn:oretrail:waybill:div", "")]
    assert found[0].location == other


# --- party.unregistered ---------------------------------------------------------------------------------
def test_unregistered_domestic_buyer_of_controlled_material(engine: Engine, cat: Catalogue) -> None:
    registered = "urn:oretrail:party:uscc:91110000100000000X"
    unregistered = "urn:oretrail:party:uscc:91440300MA5G000001"
    foreign = "urn:oretrail:party:foreign:DE:example-semiconductor"

    def build(st: State) -> None:
        st.enterprise(EXPORTER)
        st.enterprise(registered, province="CN-BJ")
        st.mine("urn:oretrail:lot:A:s1", "sb.ore", 1000, 0.05)
        st.sale("urn:uuid:sale-1", "urn:oretrail:lot:A:s1", 500, EXPORTER, registered)
        st.sale("urn:uuid:sale-2", "urn:oretrail:lot:A:s1", 200, EXPORTER, unregistered)
        st.sale("urn:uuid:sale-3", "urn:oretrail:lot:A:s1", 100, EXPORTER, foreign)
        st.shipment("urn:oretrail:waybill:u", dest_party=unregistered, lot="urn:oretrail:lot:A:s1", kg=100)
        st.lot("urn:oretrail:lot:A:junk", "cu.scrap", 10, None)  # not a catalogue material
        st.sale(
            "urn:uuid:sale-4", "urn:oretrail:lot:A:junk", 10, EXPORTER, "urn:oretrail:party:uscc:91440300MA5G000002"
        )

    found = judge(engine, build, "party.unregistered", cat)
    assert subjects(found) == [("enterprise", unregistered, "")]
    assert found[0].evidence == ("urn:uuid:sale-2", "urn:uuid:ship-u")
    assert found[0].details["grams"] == 300_000


def test_honest_chain_raises_nothing(engine: Engine, cat: Catalogue) -> None:
    """The defaults of the state helpers are one lawful export: every rule must stay silent on it."""

    def build(st: State) -> None:
        st.enterprise()
        st.facility()
        st.facility(MINE, type_="mine")
        st.mine("urn:oretrail:lot:A:c", "ga.crude", 100, 0.999)
        st.shipment(
            "urn:oretrail:waybill:1", origin=MINE, dest=REFINERY, received=T0 + days(3), lot="urn:oretrail:lot:A:c"
        )
        st.transform("urn:uuid:r", [("urn:oretrail:lot:A:c", 100)], [("urn:oretrail:lot:A:m", "ga.metal", 95, 0.9999)])
        st.licence()
        st.declaration(net_g=95_000, value_usd=95 * 700.0)
        st.export("urn:uuid:x", "urn:oretrail:lot:A:m", 95, "530120250000123456", PORT)

    with engine.begin() as conn:
        st = State(conn)
        build(st)
        st.close()
        assert run_rules(conn, catalogue=cat) == []
