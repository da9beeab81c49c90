"""The oretrail stage profile (SPEC.md §2) as intake reads it, and the refusals a sender can meet."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError
from oretrail.intake import epcis
from oretrail.intake.epcis import GENERATED_ID_PREFIX, read_document
from oretrail.model import ErrorDeclaration, LotQty
from tests.intake import builders as b

NOW = datetime(2025, 6, 10, 12, 0)


def read(*events: dict[str, Any], context: Any = None) -> list[epcis.CapturedEvent]:
    return read_document(b.encode(b.document(*events, context=context)), "doc.json", now=NOW)


def refusal(*events: dict[str, Any], context: Any = None) -> IntakeError:
    with pytest.raises(IntakeError) as err:
        read(*events, context=context)
    return err.value


def raw_refusal(data: bytes) -> IntakeError:
    with pytest.raises(IntakeError) as err:
        read_document(data, "doc.json", now=NOW)
    return err.value


# --- one valid document per stage ------------------------------------------------------------------


def test_mining() -> None:
    (c,) = read(b.mining([(b.lot("ore-7"), 1250.5)], material="w.ore", grade=0.0065, event_id="urn:uuid:m-1"))
    ch = c.chain
    assert (c.event_id, ch.event_id, ch.stage, ch.event_type, ch.action) == (
        "urn:uuid:m-1", "urn:uuid:m-1", "mining", "ObjectEvent", "ADD"
    )  # fmt: skip
    assert ch.biz_step == "commissioning"
    assert ch.biz_location == b.MINE
    assert ch.quantities == (LotQty(b.lot("ore-7"), 1_250_500),)
    assert (ch.material, ch.grade) == ("w.ore", 0.0065)
    assert ch.event_time == datetime(2025, 6, 1, 0, 0)  # 08:00+08:00 as naive UTC
    assert ch.event_time.tzinfo is None


@pytest.mark.parametrize("make", [b.smelting, b.processing, b.manufacturing])
def test_transformations(make: Any) -> None:
    (c,) = read(make(inputs=[(b.lot("a"), 10.0), (b.lot("b"), 2.5)], outputs=[(b.lot("c"), 1.25)]))
    ch = c.chain
    assert ch.stage == make.__name__
    assert ch.event_type == "TransformationEvent"
    assert ch.inputs == (LotQty(b.lot("a"), 10_000), LotQty(b.lot("b"), 2_500))
    assert ch.outputs == (LotQty(b.lot("c"), 1_250),)
    assert ch.quantities == ()
    assert ch.material is not None and ch.grade is not None
    assert ch.biz_location == b.SMELTER


def test_transportation() -> None:
    ship, recv = read(b.shipping(waybill="urn:oretrail:waybill:WB42"), b.receiving(waybill="urn:oretrail:waybill:WB42"))
    assert (ship.chain.biz_step, recv.chain.biz_step) == ("shipping", "receiving")
    assert ship.chain.waybill == recv.chain.waybill == "urn:oretrail:waybill:WB42"
    assert ship.chain.destinations == {"location": b.WAREHOUSE, "possessing_party": b.CARRIER}
    assert ship.chain.biz_location == b.SMELTER
    assert recv.chain.biz_location == b.WAREHOUSE
    assert recv.chain.event_time == datetime(2025, 6, 3, 2, 0)
    assert ship.chain.quantities == (LotQty(b.lot("conc-1"), 80_000),)


def test_sales() -> None:
    (c,) = read(b.sales(invoice="urn:oretrail:invoice:7"))
    ch = c.chain
    assert (ch.event_type, ch.action) == ("TransactionEvent", "ADD")
    assert ch.sources == {"owning_party": b.PARTY}
    assert ch.destinations == {"owning_party": b.BUYER}
    assert ch.transaction("inv") == "urn:oretrail:invoice:7"


def test_export() -> None:
    (c,) = read(b.export(declaration_no="530120250000999999"))
    ch = c.chain
    assert ch.biz_step == "departing"
    assert ch.biz_location == b.PORT
    assert ch.declaration_no == "530120250000999999"
    assert ch.quantities == (LotQty(b.lot("carbide-1"), 40_000),)


def test_body_is_the_event_as_received_with_the_document_context() -> None:
    ev = b.export()
    (c,) = read(ev)
    assert c.body == {"@context": b.OT_CONTEXT, **ev}
    own = {**b.export(), "@context": [*b.OT_CONTEXT, {"x": "https://x.example/"}]}
    (c,) = read(own)
    assert c.body == own  # an event's own context is kept as it is


# --- units, times, namespaces ----------------------------------------------------------------------


def test_tonnes_and_grams_become_integer_grams() -> None:
    ev = b.mining([(b.lot("t"), 1.5), (b.lot("t2"), 0.0000015)])
    ev["quantityList"][0]["uom"] = "TNE"
    ev["quantityList"][1]["uom"] = "TNE"
    grams = b.mining([(b.lot("g"), 2.5), (b.lot("g2"), 3.4999)])
    for q in grams["quantityList"]:
        q["uom"] = "GRM"
    kilos = b.mining([(b.lot("k"), 0.0005)])
    t, g, k = read(ev, grams, kilos)
    assert t.chain.quantities == (LotQty(b.lot("t"), 1_500_000), LotQty(b.lot("t2"), 2))  # 1.5 g → 2
    assert g.chain.quantities == (LotQty(b.lot("g"), 3), LotQty(b.lot("g2"), 3))  # half away from zero
    assert k.chain.quantities == (LotQty(b.lot("k"), 1),)


@settings(max_examples=3000, deadline=None)
@given(
    st.one_of(
        st.floats(min_value=1e-9, max_value=1e9, allow_nan=False, allow_infinity=False),
        # Decimal fractions near half a gram in every unit: where the float product alone could round wrong.
        st.builds(lambda n, e: (n + 0.5) / 10**e, st.integers(0, 10**9), st.integers(0, 6)),
    ),
    st.sampled_from(sorted(epcis.GRAMS_PER_UNIT.values())),
)
def test_grams_round_half_up_on_the_decimal_spelling(quantity: float, factor: int) -> None:
    exact = int((Decimal(str(quantity)) * factor).to_integral_value(ROUND_HALF_UP))
    assert epcis._grams(quantity, factor) == exact


def test_offsets_are_converted_to_naive_utc() -> None:
    a = b.mining(time="2025-06-01T07:30:00.123+08:00")
    z = b.mining(time="2025-05-31T23:30:00.123Z")
    west = b.mining(time="2025-05-31T18:30:00.123-05:00")
    times = {c.chain.event_time for c in read(a, z, west)}
    assert times == {datetime(2025, 5, 31, 23, 30, 0, 123000)}


def test_error_declaration_is_read() -> None:
    ev = b.mining(event_id="urn:uuid:wrong")
    ev["errorDeclaration"] = {
        "declarationTime": "2025-06-02T09:00:00+08:00",
        "reason": "urn:epcglobal:cbv:er:incorrect_data",
        "correctiveEventIDs": ["urn:uuid:fix-1", "urn:uuid:fix-2"],
    }
    (c,) = read(ev)
    assert c.chain.error_declaration == ErrorDeclaration(
        declaration_time=datetime(2025, 6, 2, 1, 0), reason="incorrect_data",
        corrective_event_ids=("urn:uuid:fix-1", "urn:uuid:fix-2"),
    )  # fmt: skip
    plain = b.mining()
    plain["errorDeclaration"] = {"declarationTime": "2025-06-02T01:00:00Z"}
    (c,) = read(plain)
    assert c.chain.error_declaration == ErrorDeclaration(datetime(2025, 6, 2, 1, 0), None, ())


def rebind(ev: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The same event with its oretrail keys written under another prefix."""
    out = {k.replace("ot:", prefix, 1) if k.startswith("ot:") else k: v for k, v in ev.items()}
    if "ilmd" in out:
        out["ilmd"] = {k.replace("ot:", prefix, 1): v for k, v in out["ilmd"].items()}
    return out


def test_any_prefix_bound_to_the_oretrail_namespace() -> None:
    context = [b.EPCIS_CONTEXT, {"trace": b.OT_NS}]
    (c,) = read(rebind(b.mining(), "trace:"), context=context)
    assert (c.chain.stage, c.chain.material, c.chain.grade) == ("mining", "w.ore", 0.005)
    # The binding may also sit in the event's own @context, or be written out as full IRIs.
    local = rebind(b.mining(), "o:") | {"@context": {"o": {"@id": b.OT_NS}}}
    full = rebind(b.smelting(), b.OT_NS)
    m, s = read(local, full, context=b.EPCIS_CONTEXT)
    assert (m.chain.stage, m.chain.material) == ("mining", "w.ore")
    assert (s.chain.stage, s.chain.material) == ("smelting", "w.concentrate")


def test_ot_bound_elsewhere_is_not_the_profile() -> None:
    ev = b.mining()
    (c,) = read(ev, context=[b.EPCIS_CONTEXT, {"ot": "https://example.org/other/"}])
    assert (c.chain.stage, c.chain.material) == (None, None)


def test_cbv_spellings_are_folded() -> None:
    ship = b.shipping()
    ship["bizStep"] = "urn:epcglobal:cbv:bizstep:shipping"
    ship["disposition"] = "https://ref.gs1.org/cbv/Disp-in_transit"
    ship["bizTransactionList"][0]["type"] = "cbv:BTT-bol"
    ship["destinationList"][0]["type"] = "https://ref.gs1.org/cbv/SDT-location"
    ship["destinationList"][1]["type"] = "c:SDT-possessing_party"
    (c,) = read(ship, context=[*b.OT_CONTEXT, {"c": "https://ref.gs1.org/cbv/"}])
    assert c.chain.biz_step == "shipping"
    assert c.chain.waybill == "urn:oretrail:waybill:WB0001"
    assert c.chain.destinations == {"location": b.WAREHOUSE, "possessing_party": b.CARRIER}


def test_events_outside_the_profile_are_read_leniently() -> None:
    ev = {
        "type": "ObjectEvent", "eventID": "urn:uuid:plain", "eventTime": "2025-06-01T00:00:00Z",
        "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "bizStep": "https://example.org/steps/weighing",
        "quantityList": [
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998877", "quantity": 200, "uom": "KGM"},
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998878", "quantity": 3, "uom": "LTR"},
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998879", "quantity": 5},
            {"epcClass": "urn:epc:class:lgtin:4012345.012345.998880"},
        ],
        "bizTransactionList": [{"bizTransaction": "urn:example:tx:1"}],
    }  # fmt: skip
    (c,) = read(ev)
    assert c.chain.stage is None
    assert c.chain.biz_step == "https://example.org/steps/weighing"  # a URI step is kept whole
    assert c.chain.quantities == (LotQty("urn:epc:class:lgtin:4012345.012345.998877", 200_000),)
    assert c.chain.biz_transactions == (("", "urn:example:tx:1"),)


def test_missing_event_id_is_derived_from_the_canonical_event() -> None:
    def plain() -> dict[str, Any]:
        return {
            "type": "ObjectEvent", "eventTime": "2025-06-01T00:00:00Z", "eventTimeZoneOffset": "+00:00",
            "action": "OBSERVE", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        }  # fmt: skip

    reordered = dict(reversed(list(plain().items())))
    first, second = read(plain()), read(reordered)
    assert first[0].event_id == second[0].event_id  # key order does not matter (RFC 8785)
    assert first[0].event_id.startswith(GENERATED_ID_PREFIX)
    assert len(first[0].event_id) == len(GENERATED_ID_PREFIX) + 64
    assert first[0].body["eventID"] == first[0].event_id
    other = plain() | {"action": "ADD"}
    assert read(other)[0].event_id != first[0].event_id


def test_duplicates_inside_a_document() -> None:
    ev = b.mining(event_id="urn:uuid:dup")
    assert len(read(ev, copy.deepcopy(ev), b.export())) == 2
    changed = copy.deepcopy(ev)
    changed["quantityList"][0]["quantity"] = 999.0
    err = refusal(ev, b.export(), changed)
    assert (err.index, err.field) == (2, "eventID")
    assert "event 0" in err.reason


def test_an_event_and_its_correction_may_share_a_document() -> None:
    ev = b.mining(event_id="urn:uuid:wrong")
    fix = b.mining(event_id="urn:uuid:right")
    declared = copy.deepcopy(ev) | {"errorDeclaration": {"declarationTime": "2025-06-02T00:00:00Z",
                                                         "correctiveEventIDs": ["urn:uuid:right"]}}  # fmt: skip
    captured = read(ev, fix, declared, copy.deepcopy(declared))
    assert [(c.event_id, c.chain.error_declaration is not None) for c in captured] == [
        ("urn:uuid:wrong", False), ("urn:uuid:right", False), ("urn:uuid:wrong", True)
    ]  # fmt: skip
    altered = copy.deepcopy(declared)
    altered["quantityList"][0]["quantity"] = 5.0
    assert refusal(ev, altered).field == "eventID"


def test_query_documents_are_read_like_capture_documents() -> None:
    doc = {
        "@context": b.OT_CONTEXT, "type": "EPCISQueryDocument", "schemaVersion": "2.0",
        "creationDate": "2025-06-03T12:00:00Z",
        "epcisBody": {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": [b.export()]}}},
    }  # fmt: skip
    (c,) = read_document(b.encode(doc), "q.json", now=NOW)
    assert c.chain.stage == "export"


# --- refusals --------------------------------------------------------------------------------------


def test_error_message_is_one_line_an_officer_understands() -> None:
    ev = b.mining()
    ev["quantityList"][0]["uom"] = "LBR"
    err = refusal(b.mining(), b.mining(), b.mining(), ev)
    assert str(err) == "doc.json event 3 field quantityList[0].uom: unknown unit 'LBR' (use KGM, TNE or GRM)"
    assert (err.document, err.index, err.field) == ("doc.json", 3, "quantityList[0].uom")
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert (str(again), again.index, again.field, again.reason) == (str(err), 3, err.field, err.reason)
    line = IntakeError("licences.jsonl", 7, "quantity_kg", "must be positive", unit="line")
    assert str(line) == "licences.jsonl line 7 field quantity_kg: must be positive"


def test_malformed_json() -> None:
    err = raw_refusal(b'{"type": "EPCISDocument",\n "epcisBody": {')
    assert err.index is None
    assert err.reason.startswith("malformed JSON at line 2 column")


def test_nan_and_infinity_are_malformed_json() -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity", b"1e999"):
        data = b.encode(b.document(b.mining())).replace(b'"quantity":1000.0', b'"quantity":' + literal)
        assert literal in data
        err = raw_refusal(data)
        assert err.reason.startswith("malformed JSON at line 1 column"), literal


def test_not_a_document() -> None:
    assert "JSON array" in raw_refusal(b"[]").reason
    err = raw_refusal(b.encode(b.mining()))
    assert "bare ObjectEvent" in err.reason


def test_schema_violation_names_event_and_field() -> None:
    ev = b.export()
    del ev["eventTimeZoneOffset"]
    err = refusal(b.mining(), ev)
    assert (err.index, err.field, err.reason) == (1, "eventTimeZoneOffset", "required field is missing")
    ev = b.export()
    ev["quantityList"][0]["quantity"] = "forty"
    err = refusal(ev)
    assert (err.index, err.field) == (0, "quantityList[0].quantity")


def test_unknown_event_type() -> None:
    ev = b.mining() | {"type": "MiningEvent"}
    err = refusal(ev)
    assert (err.index, err.field) == (0, "type")
    assert "'MiningEvent' is not an EPCIS event type" in err.reason


@pytest.mark.parametrize("quantity", [-5.0, 0, 0.0000001])
def test_quantity_must_be_positive(quantity: float) -> None:
    err = refusal(b.mining([(b.lot("x"), quantity)]))
    assert (err.index, err.field) == (0, "quantityList[0].quantity")


def test_profile_needs_a_mass_unit() -> None:
    ev = b.smelting()
    del ev["outputQuantityList"][0]["uom"]
    err = refusal(ev)
    assert (err.field, err.reason) == ("outputQuantityList[0].uom", "missing unit (use KGM, TNE or GRM)")
    ev = b.sales()
    del ev["quantityList"][0]["quantity"]
    assert refusal(ev).field == "quantityList[0].quantity"


def test_future_event_time() -> None:
    assert read(b.mining(time="2025-06-10T20:59:00+08:00"))  # 59 minutes ahead of NOW: a drifting clock
    err = refusal(b.mining(time="2025-06-10T21:01:00+08:00"))
    assert err.field == "eventTime"
    assert "in the future" in err.reason


def test_default_now_is_the_wall_clock() -> None:
    data = b.encode(b.document(b.mining(time="2999-01-01T00:00:00Z")))
    with pytest.raises(IntakeError, match="in the future"):
        read_document(data, "doc.json")


def test_one_bad_event_among_fifty() -> None:
    events = [b.mining([(b.lot(f"ore-{i}"), 10.0 + i)]) for i in range(50)]
    events[37]["quantityList"][0]["quantity"] = -1
    err = refusal(*events)
    assert (err.index, err.field) == (37, "quantityList[0].quantity")
    events[37] = b.mining([(b.lot("ore-37"), 10.0)])
    events[41]["bizLocation"] = {"id": "not a uri"}
    err = refusal(*events)
    assert (err.index, err.field) == (41, "bizLocation.id")
    assert err.reason == "'not a uri' is not a URI"


def test_oversized_document_is_refused_before_parsing() -> None:
    data = b" " * (50 * 1024 * 1024)
    err = raw_refusal(data)
    assert err.reason.startswith("document is 52,428,800 bytes, over the limit of 33,554,432 bytes (32 MiB)")
    assert read_document(b.encode(b.document()) + b" " * (MAX_DOCUMENT_BYTES - 300), "edge.json") == []


def test_unnamespaced_extension_key() -> None:
    ev = b.mining() | {"materialType": "ore"}
    err = refusal(ev)
    assert (err.index, err.field) == (0, "materialType")
    assert "namespace" in err.reason
    ev = b.mining()
    ev["ilmd"]["grade"] = 0.5
    assert refusal(ev).field == "ilmd.grade"


def test_undeclared_prefix() -> None:
    ev = b.mining() | {"acme:batch": "B-1"}
    err = refusal(ev)
    assert (err.field, err.reason) == (
        "acme:batch", "extension key 'acme:batch' uses the prefix 'acme', which @context does not declare"
    )  # fmt: skip
    assert refusal(b.mining(), context=b.EPCIS_CONTEXT).field == "ot:stage"  # ot: must be declared too
    # Declared prefixes, the EPCIS context's own and full IRIs are all fine.
    ok = b.mining() | {"acme:batch": "B-1", "cbvmda:lotNumber": "L1", "https://example.org/x": 1}
    assert read(ok, context=[*b.OT_CONTEXT, {"acme": "https://acme.example/ns#"}])


def test_unknown_oretrail_keys() -> None:
    ev = b.mining() | {"ot:materail": "w.ore"}
    assert refusal(ev).field == "ot:materail"
    ev = b.export() | {"ot:grade": 0.5}  # grade belongs in ilmd
    assert refusal(ev).field == "ot:grade"
    ev = b.mining() | {"https://oretrail.org/ns/stage": "mining"}
    assert "given twice" in refusal(ev).reason


def test_non_cbv_bizstep() -> None:
    ev = b.shipping() | {"bizStep": "transforming"}
    err = refusal(ev)
    assert err.field == "bizStep"
    assert err.reason == "'transforming' is not a CBV business step (such as shipping) or a URI"
    assert err.said is not None and "CBV 业务步骤（如 shipping）或一个 URI" in err.said.render("zh")
    ev = b.shipping() | {"bizStep": "cbv:BizStep-transforming"}
    assert refusal(ev).reason == "'cbv:BizStep-transforming' names no CBV business step"


def test_what_cannot_be_read_is_still_refused() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        (b.mining() | {"ot:stage": "refining"}, "ot:stage"),
        (b.sales() | {"sourceList": [{"type": "owning_party", "source": b.PARTY},
                                     {"type": "owning_party", "source": b.BUYER}]}, "sourceList[1]"),
        (b.mining() | {"ilmd": {"ot:material": "w.ore", "ot:grade": 1.5}}, "ilmd.ot:grade"),
        (b.mining() | {"ilmd": {"ot:material": "w.ore", "ot:grade": "high"}}, "ilmd.ot:grade"),
        (b.mining() | {"ilmd": {"ot:material": 7, "ot:grade": 0.5}}, "ilmd.ot:material"),
    ]  # fmt: skip
    for ev, field in cases:
        err = refusal(ev)
        assert (err.index, err.field) == (0, field), (field, err)


def test_stage_profile_departures_are_read_not_refused() -> None:
    """Valid EPCIS whose shape the stage profile does not foresee: stored with its departures, read for what it
    does (SPEC.md §2: a conforming document must be accepted)."""
    cases: list[tuple[dict[str, Any], str, str]] = [
        (b.mining() | {"action": "OBSERVE", "ilmd": None}, "action", "observation"),
        (b.mining() | {"bizStep": "receiving"}, "bizStep", "creation"),
        (b.export() | {"type": "TransactionEvent", "bizStep": None}, "type", "observation"),
        (b.export() | {"bizTransactionList": [{"type": "bol", "bizTransaction": "urn:oretrail:waybill:1"}]},
         "bizTransactionList", "dispatch"),
        (b.shipping() | {"bizTransactionList": [{"type": "inv", "bizTransaction": "urn:x:1"}]},
         "bizTransactionList", "removal"),
        (b.shipping() | {"destinationList": [{"type": "possessing_party", "destination": b.CARRIER}]},
         "destinationList", "dispatch"),
        (b.sales() | {"sourceList": None}, "sourceList", "sale"),
        (b.export() | {"bizLocation": None, "readPoint": {"id": b.PORT}}, "bizLocation", "export"),
        (b.smelting() | {"outputQuantityList": None, "transformationID": "urn:x:t1"}, "outputQuantityList",
         "transformation"),
        (b.mining() | {"ilmd": {"ot:material": "w.ore"}}, "ilmd", "creation"),
        (b.mining() | {"eventID": None}, "eventID", "creation"),
        (b.mining() | {"ot:stage": "smelting"}, "type", "creation"),
    ]  # fmt: skip
    for ev, field, reading in cases:
        ev = {k: v for k, v in ev.items() if v is not None}
        (c,) = read(ev)
        assert field in [f for f, _ in c.chain.off_profile], (field, c.chain.off_profile)
        assert c.chain.reading == reading, (field, c.chain.reading)
    assert all(not c.chain.off_profile for c in read(b.mining(), b.smelting(), b.shipping(), b.sales(), b.export()))


def test_the_lost_smelter_commissioning_is_read_as_creating_its_lots() -> None:
    """The shape that cost the national dataset five documents: ObjectEvent ADD commissioning at a smelter."""
    ev = b.mining(lots=[(b.lot("crude-1"), 500.0)], material="w.concentrate", grade=0.6, location=b.SMELTER)
    ev["ot:stage"] = "smelting"
    (c,) = read(ev)
    assert c.chain.reading == "creation"
    ((where, why),) = c.chain.off_profile
    assert (where, why.render("en")) == ("type", "a smelting event is a TransformationEvent, not an ObjectEvent")
    assert why.render("zh") == "冶炼环节的事件应为 TransformationEvent，而非 ObjectEvent"


def test_events_without_a_stage_depart_only_when_they_move_goods() -> None:
    moving = {k: v for k, v in b.mining().items() if k != "ot:stage"}
    (c,) = read(moving)
    assert [f for f, _ in c.chain.off_profile] == ["ot:stage"]
    still = moving | {"action": "OBSERVE", "bizStep": "inspecting", "ilmd": {}}
    del still["ilmd"]
    (c,) = read(still)
    assert (c.chain.reading, c.chain.off_profile) == ("observation", ())


def test_material_must_be_in_the_catalogue() -> None:
    assert read(b.mining(material="ga.bauxite"))
    err = refusal(b.mining(material="unobtainium.ore"))
    assert (err.field, err.reason) == ("ilmd.ot:material", "'unobtainium.ore' is not a material code of the catalogue")


def test_byte_order_mark_and_aware_now() -> None:
    data = b"\xef\xbb\xbf" + b.encode(b.document(b.mining(time="2025-06-10T20:30:00+08:00")))
    beijing_now = datetime(2025, 6, 10, 20, 0, tzinfo=timezone(timedelta(hours=8)))  # 12:00 UTC
    (c,) = read_document(data, "bom.json", now=beijing_now)
    assert c.chain.event_time == datetime(2025, 6, 10, 12, 30)
    late = b.encode(b.document(b.mining(time="2025-06-10T13:01:00Z")))
    with pytest.raises(IntakeError, match="in the future"):
        read_document(late, "late.json", now=beijing_now)


def test_documents_from_the_builders_round_trip_through_json() -> None:
    doc = b.document(b.mining(), b.smelting(), b.processing(), b.manufacturing(), b.shipping(), b.receiving(),
                     b.sales(), b.export())  # fmt: skip
    captured = read_document(orjson.dumps(doc), "all.json", now=NOW)
    assert [c.chain.stage for c in captured] == [
        "mining", "smelting", "processing", "manufacturing", "transportation", "transportation", "sales", "export"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2025-06-01T07:03:48.000+08:00", datetime(2025, 5, 31, 23, 3, 48)),
        ("2025-06-01T07:03:48-05:30", datetime(2025, 6, 1, 12, 33, 48)),
        ("2025-06-01T07:03:48.250Z", datetime(2025, 6, 1, 7, 3, 48, 250_000)),
        ("2025-06-01T07:03:48+00:00", datetime(2025, 6, 1, 7, 3, 48)),
    ],
)
def test_event_time_is_read_as_naive_utc(written: str, utc: datetime) -> None:
    """Offsets are subtracted by hand for speed: the result must be what a timezone conversion gives."""
    (ev,) = read_document(b.encode(b.document(b.mining(time=written))), "doc.json")
    assert ev.chain.event_time == utc
    assert utc == datetime.fromisoformat(written).astimezone(UTC).replace(tzinfo=None)
