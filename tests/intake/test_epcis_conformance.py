"""Intake against third-party EPCIS 2.0 conformance material, read in place from ../shared/epcis.

The OpenEPCIS acceptance suite says which capture documents are valid; GS1's own examples are all valid;
and our schema must give the ratified 2.0.1 schema's verdict on every capture document, except where the
manifest records that the ratified schema itself refuses a document the suite calls valid.
"""

from __future__ import annotations

import csv
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
import pytest

from oretrail.errors import IntakeError
from oretrail.intake.epcis import read_document

SUITE = Path("epcis/conformance/openepcis")
EXAMPLES = Path("epcis/conformance/examples/JSON")
RATIFIED = Path("epcis/epcis-json-schema-2.0.1.json")
# The manifest's verdict column for the OpenEPCIS copy of the ratified schema, which is the file we compare with.
RATIFIED_VERDICT = "openepcis_2.0.1_schema_strict_uri"
# Valid by the suite, refused by the ratified schema: exception-only sensor reports and measurement types
# newer than the schema's enum (INDEX.md, "Schema drift"). Pinned so that the manifest cannot drift silently.
KNOWN_DEVIATIONS = {
    "2.0/EPCIS/JSON/Capture/Documents/SensorData_with_combined_events.json",
    "2.0/EPCIS/JSON/Capture/Documents/TransactionEvent_with_userExtensions.json",
}


def _manifest(shared: Path) -> list[dict[str, str]]:
    with (shared / SUITE / "acceptance-manifest.tsv").open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _capture_documents(shared: Path) -> list[dict[str, str]]:
    return [r for r in _manifest(shared) if r["kind"] == "capture-document" and r["format"] == "json"]


def _validator(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    return jsonschema_rs.Draft7Validator(schema, validate_formats=True)


def _events_in(doc: dict[str, Any]) -> list[dict[str, Any]]:
    body = doc["epcisBody"]
    if doc["type"] == "EPCISQueryDocument":
        body = body["queryResults"]["resultsBody"]
    return body["eventList"]


def test_suite_has_the_documented_size(shared_dir: Path) -> None:
    rows = _capture_documents(shared_dir)
    assert sum(r["expected"] == "valid" for r in rows) == 38
    assert sum(r["expected"] == "invalid" for r in rows) == 15


def test_capture_documents_get_the_suite_verdict(shared_dir: Path) -> None:
    wrong = []
    for row in _capture_documents(shared_dir):
        path = shared_dir / SUITE / "test-resources" / row["path"]
        data = path.read_bytes()
        try:
            captured = read_document(data, path.name)
        except IntakeError as err:
            assert err.document == path.name
            if row["expected"] == "valid":
                wrong.append(f"refused a valid document: {err}")
            continue
        if row["expected"] == "invalid":
            wrong.append(f"accepted an invalid document: {row['path']}")
        assert len(captured) == len(_events_in(orjson.loads(data))), row["path"]
        assert all(c.body["eventID"] == c.event_id for c in captured)
    assert wrong == []


def test_invalid_documents_are_refused_where_they_break(shared_dir: Path) -> None:
    """Each deliberate flaw is reported at its event and field, not just somewhere in the document."""
    invalid = Path("2.0/EPCIS/JSON/Capture/Invalid")
    where = {
        "ObjectEvent_with_non_standard_bizStep_in_second_event.json": (1, "bizStep"),
        "ObjectEvent_with_ilmd_field_without_namespace.json": (0, "ilmd.materialType"),
        "ObjectEvent_with_unknown_field_in_quantityList.json": (0, "quantityList[0].weight"),
        "ObjectEvent_with_quantity_as_text.json": (0, "quantityList[0].quantity"),
        "ObjectEvent_with_non_standard_disposition.json": (0, "disposition"),
        "EPCISDocument_without_context.json": (None, "@context"),
    }
    for file, (index, field) in where.items():
        with pytest.raises(IntakeError) as err:
            read_document((shared_dir / SUITE / "test-resources" / invalid / file).read_bytes(), file)
        assert (err.value.index, err.value.field) == (index, field), file


def test_gs1_examples_are_all_accepted(shared_dir: Path) -> None:
    """GS1's 47 JSON/JSON-LD examples are valid under both schemas (INDEX.md); every one must pass intake."""
    paths = sorted((shared_dir / EXAMPLES).iterdir())
    assert len(paths) == 47
    kinds: dict[str, int] = {}
    for path in paths:
        data = path.read_bytes()
        doc = orjson.loads(data)
        kinds[doc["type"]] = kinds.get(doc["type"], 0) + 1
        events = _events_in(doc)
        assert events, f"{path.name} has no events"
        captured = read_document(data, path.name)
        assert [c.chain.event_type for c in captured] == [e["type"] for e in events], path.name
    # One of them is a query document: its results are read like a capture document's events.
    assert kinds == {"EPCISDocument": 46, "EPCISQueryDocument": 1}


def test_ratified_schema_verdicts_match_the_manifest(shared_dir: Path) -> None:
    """Proves the reference is compiled as the manifest's authors ran it (format checked, URIs strict)."""
    ratified = _validator(orjson.loads((shared_dir / RATIFIED).read_bytes()))
    for row in _capture_documents(shared_dir):
        doc = orjson.loads((shared_dir / SUITE / "test-resources" / row["path"]).read_bytes())
        assert ("ok" if ratified.is_valid(doc) else "fail") == row[RATIFIED_VERDICT], row["path"]


def test_our_schema_agrees_with_the_ratified_schema(shared_dir: Path) -> None:
    ours = _validator(orjson.loads(files("oretrail.intake").joinpath("epcis_schema.json").read_bytes()))
    ratified = _validator(orjson.loads((shared_dir / RATIFIED).read_bytes()))
    rows = _capture_documents(shared_dir)
    disagreements = set()
    for row in rows:
        doc = orjson.loads((shared_dir / SUITE / "test-resources" / row["path"]).read_bytes())
        if ours.is_valid(doc) != ratified.is_valid(doc):
            disagreements.add(row["path"])
    documented = {r["path"] for r in rows if r["expected"] == "valid" and r[RATIFIED_VERDICT] == "fail"}
    assert documented == KNOWN_DEVIATIONS
    assert disagreements == documented
