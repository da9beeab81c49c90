from __future__ import annotations

import json

import pytest

from oretrail.errors import IntakeError
from oretrail.screening.entities import read_entities
from oretrail.screening.names import normalise, pinyin_split

COMPANY = {
    "id": "NK-abc123",
    "schema": "Company",
    "caption": "Beijing Xinxing Rare Earth Co., Ltd.",
    "properties": {
        "name": ["Beijing Xinxing Rare Earth Co., Ltd.", "北京新星稀土有限公司"],
        "alias": ["Xinxing RE"],
        "previousName": ["Beijing Xinxing Materials Co"],
        "weakAlias": ["BXRE"],
        "country": ["cn"],
        "jurisdiction": ["hk"],
    },
    "datasets": ["us_ofac_sdn"],
}
VESSEL = {"id": "v-1", "schema": "Vessel", "properties": {"name": ["Ocean Star"]}}


def _lines(*objects: object) -> list[str]:
    return [json.dumps(o, ensure_ascii=False) for o in objects]


def test_reads_names_aliases_and_countries_of_legal_entities_only() -> None:
    (entity,) = list(read_entities(_lines(COMPANY, VESSEL, {**COMPANY, "id": "p-1", "schema": "Person"})[:2]))
    assert entity.id == "NK-abc123" and entity.schema == "Company"
    assert "北京新星稀土有限公司" in entity.names
    assert {"Xinxing RE", "Beijing Xinxing Materials Co"} <= set(entity.names)
    assert entity.weak_names == ("BXRE",)
    assert set(entity.countries) == {"cn", "hk"}


def test_person_public_body_and_organization_are_screened() -> None:
    schemata = ["Person", "PublicBody", "Organization", "LegalEntity"]
    objects = [{"id": s, "schema": s, "properties": {"name": [f"Name {s}"]}} for s in schemata]
    assert [e.schema for e in read_entities(_lines(*objects))] == schemata


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("{not json", ""),
        (json.dumps({"schema": "Company", "properties": {"name": ["X"]}}), "id"),
        (json.dumps({"id": "x", "schema": "Starship", "properties": {}}), "schema"),
        (json.dumps({"id": "x", "schema": "Company", "properties": {"name": "X"}}), "properties.name"),
        (json.dumps({"id": "x", "schema": "Company", "properties": {"country": ["cn"]}}), "properties.name"),
    ],
)
def test_errors_name_line_and_field(line: str, field: str) -> None:
    with pytest.raises(IntakeError) as caught:
        list(read_entities(["", json.dumps(VESSEL), line], document="list.jsonl"))
    assert caught.value.index == 3
    assert caught.value.field == field
    assert caught.value.document == "list.jsonl"


def test_normalisation_folds_legal_forms_abbreviations_and_scripts() -> None:
    forms = {
        "Apex Rare Metals Co., Ltd.": ("apex", "rare", "metal"),
        "APEX RARE METALS COMPANY LIMITED": ("apex", "rare", "metal"),
        "Orvane Comm Grp": ("orvane", "communication", "group"),
        "Orvane Communications Group Inc.": ("orvane", "communication", "group"),
        "Tellmark Ind. Mfg. Corp": ("tellmark", "industry", "manufacturing"),
        "A.B.C. Intl Trdg L.L.C.": ("abc", "international", "trading"),
        "Beijing Xinxing Xi Tu Youxian Gongsi": ("beijing", "xinxing", "rare", "earth"),
    }
    for name, tokens in forms.items():
        assert normalise(name)[0].tokens == tokens, name
    assert normalise("北京新星稀土股份有限公司")[0].tokens == ("beijingxinxing", "rare", "earth")


def test_pinyin_splits_the_same_however_spaced() -> None:
    assert pinyin_split("zhongguo") == ("zhong", "guo")
    assert pinyin_split("apex") is None


def test_legal_forms_of_every_jurisdiction_and_script_fold_away() -> None:
    from oretrail.screening.names import fold_name

    same = [
        ("Example Semiconductor GmbH", "EXAMPLE SEMICONDUCTOR G.m.b.H."),
        ("Siemens Aktiengesellschaft", "Siemens AG"),
        ("KGHM Polska Miedź S.A.", "KGHM Polska Miedz Spółka Akcyjna"),
        ("Yıldırım Kimya Sanayi Ltd. Şti.", "Yildirim Kimya Sanayi Limited Sirketi"),
        ("Публичное акционерное общество «Газпром»", "ПАО Газпром"),
    ]
    for a, b in same:
        assert fold_name(a) == fold_name(b) != "", (a, b)
    assert fold_name("AB Metals") == "ab metal"  # a form that would leave one generic word stays
    assert fold_name("Apex Metals GmbH") != fold_name("Apex Materials GmbH")
    assert fold_name(None) == ""


def test_other_scripts_read_in_both_romanisations() -> None:
    assert {f.tokens for f in normalise("ООО «Тяжхимметалл»")} == {("tyazhhimmetall",), ("tyazhkhimmetall",)}
    assert normalise("Ελληνικά Πετρέλαια Α.Ε.")[0].tokens == ("ellinika", "petrelaia")
    assert normalise("トヨタ株式会社")[0].tokens == ("toyota",)
