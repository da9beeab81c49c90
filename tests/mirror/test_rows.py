"""The mirror feed as partners' statistics come: the seven contract columns, and UN Comtrade downloads.

`data/comtrade_202506.csv` is our own sample in the layout of a Comtrade download (all 47 columns of the
Comtrade API v1 final data, UTF-8 with a byte-order mark, CRLF, data rows ending in a comma, quoted
descriptions, numbers as `1.2E+02`), with the rows such a download holds beside the ones we want: World
and `nes` areas, exports and re-imports, breakdowns by transport mode and customs procedure, Hong Kong as
a partner, commodity totals, quantities in tonnes and in pieces.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from oretrail.errors import IntakeError
from oretrail.mirror.rows import MirrorRow, Skip, parse_mirror_csv

HEADER = "reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue"
DOWNLOAD = Path(__file__).with_name("data") / "comtrade_202506.csv"
GOOD = "DE,CN,M,811292,202506,1,1"


def test_reads_the_seven_contract_columns_and_ignores_extra_ones() -> None:
    lines = [HEADER + ",qtyUnitCode", "DE,CN,M,811292,202506,118.0,83000,8", "", "jp,cn,m,261710,202501,0,0,8"]
    assert parse_mirror_csv(lines).rows == [
        MirrorRow("DE", "CN", "M", "811292", "202506", 118.0, 83000.0),
        MirrorRow("JP", "CN", "M", "261710", "202501", 0.0, 0.0),
    ]


def test_reads_a_comtrade_download_and_counts_what_it_skips() -> None:
    parsed = parse_mirror_csv(DOWNLOAD.read_bytes().splitlines(), document=DOWNLOAD.name)
    assert parsed.rows == [
        MirrorRow("DE", "CN", "M", "811292", "202506", 118.0, 83000.0),
        MirrorRow("NL", "CN", "M", "811292", "202506", 2500.0, 1_750_000.0),  # netWgt blank, qty in kg
        MirrorRow("HU", "CN", "M", "250410", "202506", 120_000.0, 96000.0),  # qty 1.2E+02 in "1000 KG"
        MirrorRow("US", "CN", "M", "811292", "202506", 45.0, 31000.0),  # netWgt 0 beside 45 kg: not reported
        MirrorRow("JP", "CN", "M", "280530", "202506", 42_000.0, 3_300_000.0),
        MirrorRow("TR", "CN", "M", "811292", "202506", 6.0, 4300.0),
    ]
    assert parsed.skipped == {
        Skip.BREAKDOWN: 3,  # by sea, by air, and under customs procedure C01: the total row counts
        Skip.NOT_IMPORTS: 2,  # exports X and re-imports RM
        Skip.COMMODITY_TOTAL: 2,  # TOTAL and the heading 2846
        Skip.AREA: 3,  # World W00, Areas nes _X, Other Asia nes S19
        Skip.PARTNER_NOT_CHINA: 1,  # Hong Kong
        Skip.NO_WEIGHT: 1,  # LEDs counted in pieces, no net weight
    }


def test_a_tab_separated_file_reads_the_same() -> None:
    comma = DOWNLOAD.read_text(encoding="utf-8-sig").splitlines()
    tabbed = ["\t".join(cells) for cells in csv.reader(comma)]
    assert parse_mirror_csv(tabbed) == parse_mirror_csv(comma)


def test_alpha_3_codes_become_alpha_2() -> None:
    parsed = parse_mirror_csv([HEADER, "DEU,CHN,M,811292,202506,1,1", "kor,chn,M,811292,202506,2,2"])
    assert [(r.reporter, r.partner) for r in parsed.rows] == [("DE", "CN"), ("KR", "CN")]


def test_annual_figures_are_skipped_not_spread_over_months() -> None:
    with_freq = "freqCode,reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue"
    parsed = parse_mirror_csv([with_freq, "A,DEU,CHN,M,811292,2025,1400,980000", "M,DEU,CHN,M,811292,202506,1,1"])
    assert len(parsed.rows) == 1 and parsed.skipped == {Skip.ANNUAL: 1}
    assert parse_mirror_csv([HEADER, "DE,CN,M,811292,2025,1,1"]).skipped == {Skip.ANNUAL: 1}


def test_an_area_without_an_iso_code_is_told_by_its_comtrade_number() -> None:
    header = HEADER + ",partnerCode"
    parsed = parse_mirror_csv([header, "DE,,M,811292,202506,1,1,899", "DE,EUR,M,811292,202506,1,1,97"])
    assert parsed.rows == [] and parsed.skipped == {Skip.AREA: 2}


def test_china_reporting_its_own_trade_is_not_a_mirror() -> None:
    assert parse_mirror_csv([HEADER, "CHN,CHN,M,811292,202506,1,1"]).skipped == {Skip.REPORTED_BY_CHINA: 1}


def test_a_weight_in_a_component_unit_is_no_weight() -> None:
    header = HEADER + ",qtyUnitCode,qty"
    parsed = parse_mirror_csv([header, "DE,CN,M,284410,202506,,9000,35,2.1E+01"])  # kg of uranium
    assert parsed.skipped == {Skip.NO_WEIGHT: 1}


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("XX,CN,M,811292,202506,1,1", "reporterISO"),
        ("DE,CHX,M,811292,202506,1,1", "partnerISO"),
        ("DE,,M,811292,202506,1,1", "partnerISO"),
        ("DE,CN,Q,811292,202506,1,1", "flowCode"),
        ("DE,CN,M,81129,202506,1,1", "cmdCode"),
        ("DE,CN,M,811290,202506,1,1", "cmdCode"),  # six digits, but no such HS 2022 subheading
        ("DE,CN,M,811292,202513,1,1", "period"),
        ("DE,CN,M,811292,2025-06,1,1", "period"),
        ("DE,CN,M,811292,202506,-1,1", "netWgt"),
        ("DE,CN,M,811292,202506,nan,1", "netWgt"),
        ("DE,CN,M,811292,202506,1,inf", "primaryValue"),
        ("DE,CN,M,811292,202506,1", "primaryValue"),
        ("DE,CN,M,811292,202506,1,1", "cmdCode"),  # the same key as line 2
        ("DE,CN,X,811292,202506,1,", "primaryValue"),  # a row that would be skipped is still read whole
        ("DE,W00,M,811292,202506,1x,1", "netWgt"),
    ],
)
def test_errors_name_line_and_column(row: str, column: str) -> None:
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv([HEADER, GOOD, row], document="m.csv")
    assert (caught.value.document, caught.value.index, caught.value.field) == ("m.csv", 3, column)
    assert str(caught.value).startswith(f"m.csv line 3 field {column}: ")


@pytest.mark.parametrize(
    ("header", "row", "column"),
    [
        ("freqCode," + HEADER, "M,DE,CN,M,811292,2025,1,1", "period"),  # monthly, but a year
        ("freqCode," + HEADER, "A,DE,CN,M,811292,202506,1,1", "period"),  # annual, but a month
        ("freqCode," + HEADER, "Q,DE,CN,M,811292,202506,1,1", "freqCode"),
        (HEADER + ",partnerCode", "DE,DEX,M,811292,202506,1,1,276", "partnerISO"),  # 276 is Germany: a typo
        (HEADER + ",motCode", "DE,CN,M,811292,202506,1,1,sea", "motCode"),
        (HEADER + ",customsCode", "DE,CN,M,811292,202506,1,1,home", "customsCode"),
        (HEADER + ",qtyUnitCode,qty", "DE,CN,M,811292,202506,,1,8,lots", "qty"),
        (HEADER + ",qtyUnitCode,qty", "DE,CN,M,811292,202506,,1,kg,5", "qtyUnitCode"),
    ],
)
def test_comtrade_columns_that_are_read_are_checked(header: str, row: str, column: str) -> None:
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv([header, row], document="m.csv")
    assert (caught.value.index, caught.value.field) == (2, column)


def test_a_line_that_is_not_utf8_is_refused_with_its_column() -> None:
    lines = DOWNLOAD.read_bytes().splitlines()
    lines[18] = lines[18].replace("Türkiye".encode(), "Türkiye".encode("cp1252"))
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv(lines, document="c.csv")
    assert (caught.value.index, caught.value.field) == (19, "reporterDesc")
    assert "UTF-8" in caught.value.reason


def test_header_missing_a_column_is_line_one() -> None:
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv(["reporterISO,partnerISO,flowCode,cmdCode,period,netWgt", "DE,CN,M,811292,202506,1"])
    assert (caught.value.index, caught.value.field) == (1, "primaryValue")


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv([], document="e.csv")
    assert caught.value.index == 1
