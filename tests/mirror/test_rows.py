from __future__ import annotations

import pytest

from oretrail.intake.errors import IntakeError
from oretrail.mirror.rows import MirrorRow, parse_mirror_csv

HEADER = "reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue"


def test_parses_rows_and_ignores_extra_columns() -> None:
    lines = [HEADER + ",qtyUnitCode", "DE,CN,M,811292,202506,118.0,83000,8", "", "jp,cn,m,261710,202501,0,0,8"]
    assert parse_mirror_csv(lines) == [
        MirrorRow("DE", "CN", "M", "811292", "202506", 118.0, 83000.0),
        MirrorRow("JP", "CN", "M", "261710", "202501", 0.0, 0.0),
    ]


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ("XX,CN,M,811292,202506,1,1", "reporterISO"),
        ("DE,CHN,M,811292,202506,1,1", "partnerISO"),
        ("DE,CN,X,811292,202506,1,1", "flowCode"),
        ("DE,CN,M,81129,202506,1,1", "cmdCode"),
        ("DE,CN,M,811290,202506,1,1", "cmdCode"),  # six digits, but no such HS 2022 subheading
        ("DE,CN,M,811292,202513,1,1", "period"),
        ("DE,CN,M,811292,2025-06,1,1", "period"),
        ("DE,CN,M,811292,202506,-1,1", "netWgt"),
        ("DE,CN,M,811292,202506,nan,1", "netWgt"),
        ("DE,CN,M,811292,202506,1,inf", "primaryValue"),
        ("DE,CN,M,811292,202506,1", "primaryValue"),
        ("DE,CN,M,811292,202506,1,1", "cmdCode"),  # the same key as line 2
    ],
)
def test_errors_name_line_and_column(row: str, column: str) -> None:
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv([HEADER, "DE,CN,M,811292,202506,1,1", row], document="m.csv")
    assert (caught.value.document, caught.value.index, caught.value.field) == ("m.csv", 3, column)


def test_header_missing_a_column_is_line_one() -> None:
    with pytest.raises(IntakeError) as caught:
        parse_mirror_csv(["reporterISO,partnerISO,flowCode,cmdCode,period,netWgt", "DE,CN,M,811292,202506,1"])
    assert (caught.value.index, caught.value.field) == (1, "primaryValue")
