from __future__ import annotations

import datetime as dt

import pytest

from oretrail.mirror.gap import Declaration, GapSettings, reconcile
from oretrail.mirror.rows import MirrorRow

GA = "811292"
CONTROLLED = {GA}
LAG_2 = GapSettings(lag_months=2)


def row(kg: float, period: str = "202506", value: float | None = None, cmd: str = GA) -> MirrorRow:
    return MirrorRow("DE", "CN", "M", cmd, period, kg, kg * 700 if value is None else value)


def decl(no: str, day: str, kg: float, hs: str = "8112929010", dest: str = "DE") -> Declaration:
    return Declaration(no, dt.date.fromisoformat(day), dest, hs, kg, kg * 650)


def test_lag_across_month_boundary_does_not_raise() -> None:
    declared = [decl("D1", "2025-05-30", 1000)]
    assert reconcile([row(1000, "202506")], declared, CONTROLLED) == []


def test_declaration_is_not_drawn_twice() -> None:
    declared = [decl("D1", "2025-05-10", 1000)]
    findings = reconcile([row(1000, "202505"), row(1000, "202506")], declared, CONTROLLED)
    assert [(f.subject_id, f.excess_kg, f.evidence) for f in findings] == [("DE:811292:202506", 1000, ("D1",))]


def test_steady_one_month_lag_never_raises() -> None:
    declared = [decl(f"D{m}", f"2025-{m:02d}-28", 500) for m in range(1, 7)]
    rows = [row(500, f"2025{m:02d}") for m in range(2, 8)]
    assert reconcile(rows, declared, CONTROLLED) == []


def test_declaration_older_than_the_lag_expires() -> None:
    declared = [decl("D1", "2025-04-28", 1000)]
    (finding,) = reconcile([row(1000, "202506")], declared, CONTROLLED)
    assert finding.drawn_kg == 0 and finding.excess_pct is None and finding.evidence == ()


def test_ten_digit_codes_roll_up_to_hs6() -> None:
    declared = [
        decl("D1", "2025-06-02", 400, "8112929010"),
        decl("D2", "2025-06-09", 300, "8112929090"),
        decl("D3", "2025-06-20", 300, "8112921010"),
        decl("D4", "2025-06-21", 5000, "8112999000"),  # another HS6: does not count for 811292
    ]
    assert reconcile([row(1000)], declared, CONTROLLED) == []
    (finding,) = reconcile([row(1500)], declared, CONTROLLED)
    assert finding.drawn_kg == 1000 and finding.evidence == ("D1", "D2", "D3")


@pytest.mark.parametrize(
    ("partner_kg", "declared_kg", "raises"),
    [
        (1100, 1000, False),  # exactly 10 % and exactly 100 kg over
        (1100.01, 1000, True),  # just over both
        (1101, 1001, False),  # exactly 100 kg over, under 10 %
        (200, 99.99, True),  # over 100 kg and over 10 %
    ],
)
def test_tolerance_edges(partner_kg: float, declared_kg: float, raises: bool) -> None:
    settings = GapSettings(tolerance_pct=10, tolerance_kg=100)
    findings = reconcile([row(partner_kg)], [decl("D1", "2025-06-01", declared_kg)], CONTROLLED, settings)
    assert bool(findings) is raises


def test_percent_only_excess_does_not_raise() -> None:
    # 50 % over, but only 50 kg.
    assert reconcile([row(150)], [decl("D1", "2025-06-01", 100)], CONTROLLED) == []


def test_kg_only_excess_does_not_raise() -> None:
    # 500 kg over, but only 5 % of the flow.
    assert reconcile([row(10_500)], [decl("D1", "2025-06-01", 10_000)], CONTROLLED) == []


def test_nothing_declared_raises_on_kg_alone() -> None:
    (finding,) = reconcile([row(101)], [], CONTROLLED)
    assert finding.excess_kg == 101 and finding.excess_pct is None


def test_uncontrolled_hs6_and_other_partners_do_not_count() -> None:
    other = MirrorRow("DE", "US", "M", GA, "202506", 5000, 1.0)
    assert reconcile([row(5000, cmd="811299"), other], [], CONTROLLED) == []


def test_value_is_a_second_opinion_within_cif_margin() -> None:
    declared = [decl("D1", "2025-06-01", 1000)]  # 650 USD/kg FOB
    within_cif = reconcile([row(2000, value=1000 * 650 * 1.08)], declared, CONTROLLED)
    beyond_cif = reconcile([row(2000, value=2000 * 700)], declared, CONTROLLED)
    assert [f.value_confirms for f in within_cif] == [False]
    assert [f.value_confirms for f in beyond_cif] == [True]
    assert beyond_cif[0].drawn_value_usd == 650_000


def test_longer_lag_is_configurable() -> None:
    declared = [decl("D1", "2025-04-28", 1000)]
    assert reconcile([row(1000, "202506")], declared, CONTROLLED, GapSettings(lag_months=2)) == []


def test_a_month_in_surplus_does_not_pass_its_gap_on_to_the_next() -> None:
    # 3 t reported in November against 1 t declared: a gap whatever November draws. The consignment declared
    # on 29 November arrives in December; November must not take it from December, or one gap would
    # raise two alerts.
    # December keeps the 500 kg it needs, so November accounts for the rest: all 2,500 kg unexplained sit on
    # the one alert.
    declared = [decl("D1", "2025-11-05", 500), decl("D2", "2025-11-29", 500)]
    findings = reconcile([row(3000, "202511"), row(500, "202512")], declared, CONTROLLED)
    assert [(f.subject_id, f.drawn_kg, f.excess_kg) for f in findings] == [("DE:811292:202511", 500, 2500)]


def test_a_gap_month_still_takes_what_expires_with_it() -> None:
    # October's declaration can serve only October and November (lag 1): November, in surplus anyway,
    # takes it, so December cannot claim it.
    declared = [decl("D1", "2025-10-20", 1000)]
    findings = reconcile([row(3000, "202511"), row(1000, "202512")], declared, CONTROLLED)
    assert [(f.subject_id, f.excess_kg) for f in findings] == [("DE:811292:202511", 2000), ("DE:811292:202512", 1000)]


def test_a_gap_month_still_consumes_the_goods_that_reached_it() -> None:
    # Half of each month's 1,000 kg arrives in the month, half in the next; February reports 5 t extra, May
    # 1.5 t. Had February left its own goods undrawn, every later month could be explained by declarations a
    # month older than the ones that really reached it, May's surplus would vanish and June, which only
    # receives May's second half, would look short instead.
    declared = [decl(f"D{m}", f"2025-{m:02d}-15", 1000) for m in range(1, 6)]
    reports = {"202501": 500, "202502": 6000, "202503": 1000, "202504": 1000, "202505": 2500, "202506": 500}
    findings = reconcile([row(kg, period) for period, kg in reports.items()], declared, CONTROLLED, LAG_2)
    assert [(f.subject_id, f.drawn_kg, f.excess_kg) for f in findings] == [
        ("DE:811292:202502", 1500, 4500),
        ("DE:811292:202505", 500, 2000),
    ]


def test_a_gap_leaves_its_goods_in_transit_to_the_months_after_it() -> None:
    # 4 t of February's declarations are still at sea when February ends; March and April receive them. Had
    # February, in surplus anyway, taken all it could, March would come up 1 t short: a second alert for the
    # one gap.
    declared = [decl(f"D{m}", f"2025-{m:02d}-15", kg) for m, kg in enumerate([10_000, 10_000, 8000, 8000, 8000], 1)]
    reports = {"202501": 6000, "202502": 56_000, "202503": 9000, "202504": 8000, "202505": 8000, "202506": 3000}
    findings = reconcile([row(kg, period) for period, kg in reports.items()], declared, CONTROLLED, LAG_2)
    assert [(f.subject_id, f.drawn_kg) for f in findings] == [("DE:811292:202502", 10_000)]
