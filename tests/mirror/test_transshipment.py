from __future__ import annotations

import datetime as dt

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
