"""CBV vocabularies: every spelling folds to one short name, and our schema lists the same terms."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import orjson
import pytest

from oretrail.intake import vocabulary as voc


@pytest.mark.parametrize(
    "spelling",
    [
        "shipping",
        "urn:epcglobal:cbv:bizstep:shipping",
        "cbv:BizStep-shipping",
        "https://ref.gs1.org/cbv/BizStep-shipping",
    ],
)
def test_biz_step_spellings(spelling: str) -> None:
    assert voc.BIZ_STEP.normalise(spelling) == "shipping"


@pytest.mark.parametrize(
    ("vocabulary", "spellings", "short"),
    [
        (voc.BIZ_TRANSACTION_TYPE, ["bol", "urn:epcglobal:cbv:btt:bol", "cbv:BTT-bol", f"{voc.CBV_NS}BTT-bol"], "bol"),
        (voc.BIZ_TRANSACTION_TYPE, ["inv", "urn:epcglobal:cbv:btt:inv", "cbv:BTT-inv"], "inv"),
        (voc.SOURCE_DEST_TYPE, ["owning_party", "urn:epcglobal:cbv:sdt:owning_party", "cbv:SDT-owning_party"],
         "owning_party"),
        (voc.SOURCE_DEST_TYPE, ["possessing_party", f"{voc.CBV_NS}SDT-possessing_party"], "possessing_party"),
        (voc.SOURCE_DEST_TYPE, ["location", "urn:epcglobal:cbv:sdt:location", "cbv:SDT-location"], "location"),
        (voc.DISPOSITION, ["in_transit", "urn:epcglobal:cbv:disp:in_transit", "cbv:Disp-in_transit"], "in_transit"),
        (voc.ERROR_REASON, ["incorrect_data", "urn:epcglobal:cbv:er:incorrect_data", "cbv:ER-incorrect_data"],
         "incorrect_data"),
    ],
)  # fmt: skip
def test_other_vocabularies(vocabulary: voc.Vocabulary, spellings: list[str], short: str) -> None:
    assert {vocabulary.normalise(s) for s in spellings} == {short}


def test_a_document_may_bind_its_own_prefix_to_the_cbv() -> None:
    prefixes = {**voc.STANDARD_PREFIXES, "v": voc.CBV_NS}
    assert voc.BIZ_STEP.normalise("v:BizStep-receiving", prefixes) == "receiving"


def test_uris_outside_the_cbv_are_kept_whole() -> None:
    assert voc.BIZ_STEP.normalise("https://example.org/steps/weighing") == "https://example.org/steps/weighing"
    assert voc.BIZ_TRANSACTION_TYPE.normalise("urn:oretrail:btt:declaration") == "urn:oretrail:btt:declaration"
    prefixes = {**voc.STANDARD_PREFIXES, "ex": "https://example.org/steps/"}
    assert voc.BIZ_STEP.normalise("ex:weighing", prefixes) == "https://example.org/steps/weighing"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("transforming", "'transforming' is not a CBV business step nor a URI"),
        ("Shipping", "'Shipping' is not a CBV business step nor a URI"),
        ("urn:epcglobal:cbv:bizstep:transforming", "names no CBV business step"),
        ("cbv:BizStep-transforming", "names no CBV business step"),
    ],
)
def test_invented_terms_are_refused(value: str, message: str) -> None:
    with pytest.raises(voc.VocabularyError, match=message):
        voc.BIZ_STEP.normalise(value)


def test_context_prefixes() -> None:
    context: Any = [
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        {"ot": "https://oretrail.org/ns/", "@vocab": "https://ignored.example/"},
        [{"o2": {"@id": "https://oretrail.org/ns/"}}],
    ]
    assert voc.context_prefixes(context, {}) == {"ot": voc.OT_NS, "o2": voc.OT_NS}


def test_full_iri_or_compact() -> None:
    assert voc.is_full_iri("https://oretrail.org/ns/stage")
    assert voc.is_full_iri("urn:x:y")
    assert not voc.is_full_iri("ot:stage")


def test_schema_lists_the_same_terms() -> None:
    """epcis_schema.json repeats the CBV lists for layer 1; they must not drift from this module."""
    schema = orjson.loads(files("oretrail.intake").joinpath("epcis_schema.json").read_bytes())
    definitions = schema["definitions"]

    def enum(name: str) -> frozenset[str]:
        node = definitions[name]
        (values,) = [alt["enum"] for alt in node.get("anyOf", [node]) if "enum" in alt]
        return frozenset(values)

    assert enum("bizStep") == voc.BIZ_STEPS
    assert enum("disposition") == voc.DISPOSITIONS
    assert enum("bizTransactionType") == voc.BIZ_TRANSACTION_TYPES
    assert enum("sourceDestType") == voc.SOURCE_DEST_TYPES
    assert enum("errorReason") == voc.ERROR_REASONS
    assert enum("eventType") == voc.EVENT_TYPES
    assert enum("action") == voc.ACTIONS
    assert enum("component") == voc.COMPONENTS
    assert enum("sensorAlertType") == voc.SENSOR_ALERT_TYPES


def test_ratified_schema_lists_the_same_terms(shared_dir: Any) -> None:
    """Our CBV lists are the ones the ratified 2.0.1 schema carries (CBV 2.0), not a private selection."""
    ratified = orjson.loads((shared_dir / "epcis/epcis-json-schema-2.0.1.json").read_bytes())["definitions"]

    def enum(name: str) -> frozenset[str]:
        (values,) = [alt["enum"] for alt in ratified[name]["anyOf"] if "enum" in alt]
        return frozenset(values)

    assert enum("bizStep") == voc.BIZ_STEPS
    assert enum("disposition") == voc.DISPOSITIONS
    assert enum("bizTransaction-type") == voc.BIZ_TRANSACTION_TYPES
    assert enum("source-dest-type") == voc.SOURCE_DEST_TYPES
    assert enum("error-reason") == voc.ERROR_REASONS
    assert enum("component") == voc.COMPONENTS
    assert enum("sensorAlertType") == voc.SENSOR_ALERT_TYPES
    assert frozenset(ratified["action"]["enum"]) == voc.ACTIONS
