"""The catalogue file against SPEC.md §3, and the loader's refusal of bad data."""

from __future__ import annotations

from pathlib import Path

import pytest

from oretrail.catalogue import CatalogueError, load_catalogue

SPEC_CODES = [
    "sb.ore",
    "sb.concentrate",
    "sb.metal",
    "sb.oxide",
    "w.ore",
    "w.concentrate",
    "w.apt",
    "w.oxide",
    "w.carbide",
    "ga.bauxite",
    "ga.crude",
    "ga.metal",
    "ga.arsenide",
    "ga.nitride",
    "ga.oxide",
    "ge.lignite",
    "ge.concentrate",
    "ge.oxide",
    "ge.metal",
    "graphite.ore",
    "graphite.flake",
    "graphite.spherical",
    "graphite.anode",
    "graphite.synthetic",
    "dy.ionic_clay",
    "dy.carbonate",
    "dy.oxide",
    "dy.metal",
    "tb.ionic_clay",
    "tb.carbonate",
    "tb.oxide",
    "tb.metal",
    "sm.oxide",
    "sm.metal",
    "gd.oxide",
    "gd.metal",
    "lu.oxide",
    "lu.metal",
    "sc.oxide",
    "sc.metal",
    "y.oxide",
    "y.metal",
    "bi.metal",
    "bi.oxide",
    "te.metal",
    "te.oxide",
    "in.metal",
    "in.oxide",
    "mo.metal",
    "mo.oxide",
    "mo.concentrate",
]

# SPEC.md §3, column "licence-controlled export HS codes", by element.
SPEC_HS10 = {
    "Sb": "2617101000 2617109001 2617109090 8110101000 8110102000 8110200000 8110900000 2825800010 2830902000",
    "W": "2841801000 2825901200 2825901910 2825901920 2849902000",
    "Ga": "8112929010 8112929090 8112999000 2850001901 3818009001 3825690001",
    "Ge": "8112921010 8112921090 8112991000 2825600002",
    "C": "2504101000 2504109100 3801100030 3801901000 3801909010 6815190020 3824999940",
    "Dy": "2846901500 2805301200 2846901993 3824999922",
    "Tb": "2846901600 2805301300 2846901993 3824999922",
    "Sm": "2805301910 2846901940 2846901993",
    "Gd": "2805301910 2846901930 2846901993",
    "Lu": "2805301910 2846901993",
}

VALID = """
[materials."sb.ore"]
element = "Sb"
form = "ore"
name = "Antimony ore"
upstream = []
hs6 = ["261710"]
hs10 = ["2617101000"]
licence_required = true
grade_min = 0.01
grade_max = 0.1
max_recovery = 1.0
unit_value_min = 0.1
unit_value_max = 5.0
announcement = "MOFCOM/GACC 2024 No. 33"
sources = ["grade: a", "recovery: b", "unit_value: c", "hs: d"]
"""


def test_default_file_loads_once() -> None:
    assert load_catalogue() is load_catalogue()


def test_every_spec_material_code_is_present() -> None:
    missing = set(SPEC_CODES) - set(load_catalogue().materials)
    assert not missing


def test_every_spec_hs10_is_listed_and_controlled_for_its_element() -> None:
    cat = load_catalogue()
    for element, codes in SPEC_HS10.items():
        for code in codes.split():
            assert cat.is_controlled_hs(code), code
            assert element in {m.element for m in cat.by_hs(code)}, (element, code)


def test_unlisted_codes_are_not_controlled() -> None:
    cat = load_catalogue()
    assert not cat.is_controlled_hs("2818200000")  # alumina
    assert not cat.is_controlled_hs("2606000000")  # bauxite: listed HS6, not a controlled code
    assert not cat.is_controlled_hs("811292")  # announcements list 10-digit codes only


def test_physical_bounds_hold_everywhere() -> None:
    for m in load_catalogue().materials.values():
        assert 0 < m.grade_min <= m.grade_max <= 1, m.code
        assert 0 < m.max_recovery <= 1, m.code
        assert 0 < m.unit_value_min < m.unit_value_max, m.code
        assert all(h[:6] in m.hs6 for h in m.hs10), m.code
        assert not m.licence_required or m.announcement, m.code


def test_upstream_ores_and_intermediates_outside_the_announcements_are_not_licensed() -> None:
    cat = load_catalogue()
    for code in ("ga.bauxite", "ge.lignite", "w.ore", "w.concentrate", "graphite.ore", "dy.ionic_clay"):
        assert not cat.material(code).licence_required, code
    assert cat.material("sb.ore").licence_required


def test_by_hs_exact_then_hs6() -> None:
    cat = load_catalogue()
    assert [m.code for m in cat.by_hs("2846901500")] == ["dy.oxide"]
    assert {m.code for m in cat.by_hs("8112.92.90.10")} == {"ga.crude", "ga.metal"}
    # A 10-digit code no announcement lists falls back to its subheading.
    assert {m.code for m in cat.by_hs("8112929999")} == {"ga.crude", "ga.metal", "ge.metal", "in.metal"}
    assert cat.by_hs("0101210000") == []
    with pytest.raises(ValueError, match="not an HS code"):
        cat.by_hs("81129")


def test_material_lookup_and_summaries() -> None:
    cat = load_catalogue()
    assert cat.material("graphite.flake").element == "C"
    with pytest.raises(KeyError, match=r"unknown material code 'xx\.ore'"):
        cat.material("xx.ore")
    assert {"Sb", "W", "Ga", "Ge", "C", "Dy", "Tb", "Sm", "Gd", "Lu", "Sc", "Y", "Bi", "Te", "In", "Mo"} <= (
        cat.elements()
    )
    hs6 = cat.controlled_hs6()
    assert {"811292", "261710", "284690", "250410"} <= hs6
    assert "260600" not in hs6


def test_valid_tiny_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(VALID)
    cat = load_catalogue(path)
    assert cat.material("sb.ore").hs10 == ("2617101000",)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('hs6 = ["261710"]', 'hs6 = ["261799"]', "hs6"),  # not in HS 2022
        ('hs6 = ["261710"]', 'hs6 = ["2617"]', "hs6"),
        ('hs10 = ["2617101000"]', 'hs10 = ["2618101000"]', "hs10"),
        ("grade_max = 0.1", "grade_max = 1.5", "grade_max"),
        ("max_recovery = 1.0", "max_recovery = 1.02", "max_recovery"),
        ("unit_value_max = 5.0", "unit_value_max = 0.1", "unit_value_min"),
        ("upstream = []", 'upstream = ["sb.rock"]', "upstream"),
        ('sources = ["grade: a", "recovery: b", "unit_value: c", "hs: d"]', "sources = []", "sources"),
        ('element = "Sb"', 'element = "Sn"', "element"),
        ('announcement = "MOFCOM/GACC 2024 No. 33"', "", "announcement"),
    ],
)
def test_validator_names_material_and_field(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in VALID
    path = tmp_path / "bad.toml"
    path.write_text(VALID.replace(old, new))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    assert info.value.material == "sb.ore"
    assert info.value.field == field
    assert "sb.ore" in str(info.value) and field in str(info.value)


def test_controlled_material_without_confirmed_lines_controls_its_hs6() -> None:
    from oretrail.catalogue import load_catalogue

    cat = load_catalogue()
    bi = cat.material("bi.metal")
    assert bi.licence_required and not bi.hs10
    assert cat.is_controlled_hs(bi.hs6[0] + "0000")
    assert bi.hs6[0] in cat.controlled_hs6()
    assert not cat.is_controlled_hs(bi.hs6[0])  # a bare HS6 is never a declaration code
