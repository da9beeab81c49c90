from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from oretrail.mirror.gap import Declaration
from oretrail.mirror.transshipment import (
    Licence,
    TradeFlow,
    load_capacity,
    monthly_flows,
    no_capacity,
    rerouted,
    share_jumps,
)

GA = "811292"


def _history(extra: dict[str, float]) -> list[TradeFlow]:
    flows = [TradeFlow(f"2025{m:02d}", d, GA, kg) for m in range(1, 7) for d, kg in {"DE": 5000, "JP": 5000}.items()]
    flows += [TradeFlow(f"2025{m:02d}", "KZ", GA, 200) for m in range(1, 7)]
    return flows + [TradeFlow("202507", d, GA, kg) for d, kg in extra.items()]


def test_share_jump_against_own_history() -> None:
    (jump,) = share_jumps(_history({"DE": 5000, "JP": 5000, "KZ": 4000}))
    assert (jump.destination, jump.period, jump.rule) == ("KZ", "202507", "mirror.share_jump")
    assert jump.share > 3 * jump.trailing_share
    assert jump.subject_id == "KZ:811292:202507"


def test_no_jump_below_kg_floor_or_ratio() -> None:
    assert share_jumps(_history({"DE": 5000, "JP": 5000, "KZ": 900})) == []  # 8 % share but under 1000 kg
    assert share_jumps(_history({"DE": 5000, "JP": 5000, "KZ": 300})) == []


def test_new_trade_without_history_is_not_a_jump() -> None:
    assert share_jumps([TradeFlow("202501", "DE", GA, 5000), TradeFlow("202502", "KZ", GA, 5000)]) == []


def test_no_capacity_uses_the_capacity_file() -> None:
    capacity = load_capacity()
    assert "DE" in capacity["ga"] and "JP" in capacity["dy"]
    flows = [
        TradeFlow("202507", "DE", GA, 9000),
        TradeFlow("202507", "KZ", GA, 9000),
        TradeFlow("202507", "AM", GA, 10),
    ]
    (finding,) = no_capacity(flows, {GA: "ga"}, capacity)
    assert (finding.destination, finding.element, finding.rule) == ("KZ", "ga", "mirror.no_capacity")


def test_the_reported_false_leads_have_sourced_capacity() -> None:
    """Clean flows of a real partner dataset that the memory-written table called industry-less: gallium to
    the Netherlands (GaN RF fabs), graphite to Hungary (battery cell plants), rare earths to the Philippines
    (scandium recovery at the HPAL nickel plants)."""
    capacity = load_capacity()
    flows = [
        TradeFlow("202506", "NL", GA, 2500),
        TradeFlow("202506", "HU", "250410", 120_000),
        TradeFlow("202506", "PH", "284690", 3000),
        TradeFlow("202506", "KZ", GA, 2500),
    ]
    element_of = {GA: "ga", "250410": "graphite", "284690": "sc"}
    assert [(f.destination, f.element) for f in no_capacity(flows, element_of, capacity)] == [("KZ", "ga")]


def test_every_capacity_entry_carries_its_source(tmp_path: Path) -> None:
    unsourced = tmp_path / "capacity.toml"
    unsourced.write_text('[ga]\ncountries = ["DE", "NL"]\nsource = "from memory"\n')
    with pytest.raises(ValueError, match=r"\[ga\.countries\] table"):
        load_capacity(unsourced)
    unsourced.write_text('[ga.countries]\nDE = "MCS 2025 Gallium"\nNL = " "\n')
    with pytest.raises(ValueError, match="NL: the source is missing"):
        load_capacity(unsourced)
    unsourced.write_text('[ga.countries]\nXK = "a plant"\n')
    with pytest.raises(ValueError, match="'XK' is not an ISO 3166-1 alpha-2 code"):
        load_capacity(unsourced)


def test_monthly_flows_roll_up_controlled_declarations() -> None:
    declarations = [
        Declaration("D1", dt.date(2025, 6, 1), "DE", "8112929010", 100, 1),
        Declaration("D2", dt.date(2025, 6, 9), "DE", "8112929090", 50, 1),
        Declaration("D3", dt.date(2025, 6, 9), "DE", "7208100000", 50, 1),
    ]
    assert monthly_flows(declarations, {GA}) == [TradeFlow("202506", "DE", GA, 150)]


def _licence(no: str, status: str, end_user: str, dest: str, day: str, hs: str = "8112929010") -> Licence:
    return Licence(no, status, end_user, end_user, dest, hs, dt.date.fromisoformat(day))


def test_rerouted_after_refusal_through_third_country() -> None:
    licences = [
        _licence("L1", "refused", "Apex Materials GmbH", "DE", "2025-03-01"),
        _licence("L2", "approved", "APEX MATERIALS", "TR", "2025-05-01"),
        _licence("L3", "approved", "Apex Materials GmbH", "DE", "2025-06-01"),  # same country: not re-routing
        _licence("L4", "approved", "Apex Metals GmbH", "TR", "2025-06-01"),  # another company
        _licence("L5", "approved", "Apex Materials", "TR", "2025-01-01"),  # before the refusal
    ]
    declarations = [
        Declaration("D1", dt.date(2025, 7, 1), "AE", "8112921090", 10, 1, consignee="Apex Materials G.m.b.H."),
        Declaration("D2", dt.date(2025, 7, 1), "AE", "2825600002", 10, 1, consignee="Apex Materials GmbH"),
    ]
    found = [(r.subject_kind, r.subject_id, r.refused_licence) for r in rerouted(licences, declarations)]
    assert found == [("declaration", "D1", "L1"), ("licence", "L2", "L1")]


def test_rerouted_does_not_hang_on_the_order_rows_arrive_in() -> None:
    """Refused licences sharing an end user's name compete for the matcher's bounded candidates: the findings
    must be the same whatever order the store returned the licences and declarations in (engines differ)."""
    import random

    refused = [
        Licence(f"EL{n:04d}", "refused", "Apex Materials GmbH", "", "DE", "811292", dt.date(2025, 1, 1))
        for n in range(40)
    ]
    later = [
        Declaration(f"D{n:03d}", dt.date(2025, 6, 1), "TR", "811292", 10.0, 1000.0, "APEX MATERIALS") for n in range(5)
    ]
    first = rerouted(refused, later)
    assert first
    for seed in range(5):
        shuffled_l, shuffled_d = refused[:], later[:]
        random.Random(seed).shuffle(shuffled_l)
        random.Random(seed).shuffle(shuffled_d)
        assert rerouted(shuffled_l, shuffled_d) == first, seed
