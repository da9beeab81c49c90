"""Registry lines (SPEC.md §1): what parses, and that every refusal names its line and field."""

from __future__ import annotations

import random
from datetime import date

import orjson
import pytest
from stdnum.cn import uscc as stdnum_uscc

from oretrail.errors import IntakeError
from oretrail.ids import party_of_location
from oretrail.registry.provinces import MINERAL_PROVINCES, province_name
from oretrail.registry.records import Enterprise, Facility, parse_registry
from oretrail.registry.uscc import make_uscc

USCC = "91360700MA35F0AX28"  # the example of SPEC.md §1
PARTY = f"urn:oretrail:party:uscc:{USCC}"
LOC = f"urn:oretrail:loc:{USCC}:smelter-1"


def enterprise(**changes: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "kind": "enterprise",
        "id": PARTY,
        "uscc": USCC,
        "name": "Ganzhou Example Rare Metals Co., Ltd.",
        "province": "CN-JX",
        "stages": ["mining", "smelting"],
        "registered": "2018-04-02",
    }
    rec.update(changes)
    return rec


def facility(**changes: object) -> dict[str, object]:
    rec: dict[str, object] = {
        "kind": "facility",
        "id": LOC,
        "owner": PARTY,
        "type": "smelter",
        "province": "CN-JX",
        "capacity_kg_per_year": 2000000,
    }
    rec.update(changes)
    return rec


def lines(*records: dict[str, object]) -> list[bytes]:
    return [orjson.dumps(r) for r in records]


def refusal(raw: list[bytes | str]) -> IntakeError:
    with pytest.raises(IntakeError) as info:
        parse_registry(raw, "jx-registry.jsonl")
    return info.value


def test_spec_examples_parse() -> None:
    ent, fac = parse_registry(lines(enterprise(), facility()), "jx-registry.jsonl")
    assert ent == Enterprise(
        party_id=PARTY,
        uscc=USCC,
        name="Ganzhou Example Rare Metals Co., Ltd.",
        province="CN-JX",
        stages=("mining", "smelting"),
        registered=date(2018, 4, 2),
    )
    assert fac == Facility(
        location_id=LOC, owner=PARTY, type="smelter", province="CN-JX", capacity_kg_per_year=2_000_000.0
    )


def test_optional_fields_and_blank_lines() -> None:
    raw: list[bytes | str] = [
        "",
        orjson.dumps(enterprise(registered=None, stages=["export", "mining"])).decode(),
        "   ",
        orjson.dumps({k: v for k, v in facility().items() if k != "capacity_kg_per_year"}),
    ]
    ent, fac = parse_registry(raw, "x")
    assert isinstance(ent, Enterprise) and ent.registered is None
    assert ent.stages == ("mining", "export")  # canonical stage order
    assert isinstance(fac, Facility) and fac.capacity_kg_per_year is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (enterprise(uscc="91360700MA35F0AX27", id="urn:oretrail:party:uscc:91360700MA35F0AX27"), "uscc"),
        (enterprise(id="urn:oretrail:party:uscc:91110000600037341L"), "id"),
        (enterprise(province="CN-XX"), "province"),
        (enterprise(province="JX"), "province"),
        (enterprise(stages=["mining", "refining"]), "stages"),
        (enterprise(stages=[]), "stages"),
        (enterprise(registered="02/04/2018"), "registered"),
        (enterprise(registered="2018-02-30"), "registered"),
        (facility(owner="urn:oretrail:party:uscc:91360700MA35F0AX27"), "owner"),
        (facility(owner="Ganzhou Rare Metals"), "owner"),
        (facility(id=f"urn:oretrail:loc:{USCC}"), "id"),
        (facility(type="mill"), "type"),
        (facility(capacity_kg_per_year=-1), "capacity_kg_per_year"),
        (facility(capacity_kg_per_year="2000 t"), "capacity_kg_per_year"),
        ({"kind": "person"}, "kind"),
    ],
)
def test_refusal_names_line_and_field(bad: dict[str, object], field: str) -> None:
    err = refusal([*lines(enterprise(), facility()), b"", orjson.dumps(bad)])
    assert err.document == "jx-registry.jsonl"
    assert err.index == 4
    assert err.field == field
    assert "jx-registry.jsonl" in str(err) and "4" in str(err) and field in str(err)


def test_bad_check_digit_says_which_is_expected() -> None:
    err = refusal(lines(enterprise(uscc="91360700MA35F0AX27", id="urn:oretrail:party:uscc:91360700MA35F0AX27")))
    assert "check digit" in err.reason and "expected 8" in err.reason


def test_malformed_json_line() -> None:
    err = refusal([orjson.dumps(enterprise()), b'{"kind": "facility", "id": '])
    assert (err.index, err.field) == (2, "$")
    assert "JSON" in err.reason


def test_party_of_location() -> None:
    assert party_of_location(LOC) == PARTY
    assert party_of_location("urn:oretrail:port:CNSZX") is None
    assert party_of_location("urn:oretrail:loc:91360700MA35F0AX27:mine-1") is None
    assert party_of_location(f"urn:oretrail:loc:{USCC}") is None


def test_make_uscc_is_valid_and_reproducible() -> None:
    rng = random.Random(7)
    codes = [make_uscc(rng) for _ in range(500)]
    assert all(stdnum_uscc.is_valid(c) and c.startswith("91360700") for c in codes)
    again = random.Random(7)
    assert [make_uscc(again) for _ in range(500)] == codes
    assert make_uscc(random.Random(1), "430100").startswith("91430100")
    with pytest.raises(ValueError, match="6 digits"):
        make_uscc(rng, "36")
    uscc = make_uscc(random.Random(3))
    ent = enterprise(uscc=uscc, id=f"urn:oretrail:party:uscc:{uscc}")
    (parsed,) = parse_registry(lines(ent), "x")
    assert isinstance(parsed, Enterprise) and parsed.uscc == uscc


def test_provinces() -> None:
    assert [province_name(p) for p in MINERAL_PROVINCES] == [
        "Inner Mongolia",
        "Jiangxi",
        "Hunan",
        "Guangdong",
        "Guangxi",
        "Guizhou",
        "Yunnan",
    ]
    assert province_name("CN-BJ") == "Beijing"
    with pytest.raises(KeyError):
        province_name("CN-XX")


def test_extra_keys_are_kept_not_refused() -> None:
    """Provinces add their own fields (addresses, Chinese names); the contract's fields are what we check."""
    (ent, fac) = parse_registry(lines(enterprise(name_zh="赣州稀有金属"), facility(address="Ganzhou")), "r.jsonl")
    assert ent.uscc == USCC and fac.location_id == LOC


def test_facility_may_belong_to_a_later_owner() -> None:
    (fac,) = parse_registry(lines(facility(owner="urn:oretrail:party:uscc:91110000600037341L")), "r.jsonl")
    assert fac.owner.endswith("91110000600037341L")


def test_ports_and_sglns_are_facilities_too() -> None:
    port = facility(id="urn:oretrail:port:CNSHA", type="port", province="CN-SH")
    sgln = facility(id="urn:epc:id:sgln:0614141.00777.0")
    parsed = parse_registry(lines(port, sgln), "r.jsonl")
    assert [f.location_id for f in parsed] == ["urn:oretrail:port:CNSHA", "urn:epc:id:sgln:0614141.00777.0"]
    err = refusal(lines(facility(id="urn:oretrail:port:CNSHA", type="warehouse")))
    assert err.field == "id" and "port" in err.reason
