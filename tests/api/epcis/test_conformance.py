"""Every OpenEPCIS capture document and GS1 example through POST /capture, each on a fresh database: valid
documents make a successful job, invalid ones a failed job whose problems name the event and field."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import orjson
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.epcis.conftest import capture, signed_in_as

SUITE = Path("epcis/conformance/openepcis")
EXAMPLES = Path("epcis/conformance/examples/JSON")
INVALID = "2.0/EPCIS/JSON/Capture/Invalid/"
# Where each deliberate flaw is (the intake tests pin the same places): (event index, field).
WHERE = {
    "ObjectEvent_with_non_standard_bizStep_in_second_event.json": (1, "bizStep"),
    "ObjectEvent_with_ilmd_field_without_namespace.json": (0, "ilmd.materialType"),
    "ObjectEvent_with_unknown_field_in_quantityList.json": (0, "quantityList[0].weight"),
    "ObjectEvent_with_quantity_as_text.json": (0, "quantityList[0].quantity"),
    "ObjectEvent_with_non_standard_disposition.json": (0, "disposition"),
    "EPCISDocument_without_context.json": (None, "@context"),
}


def _rows(shared: Path) -> list[dict[str, str]]:
    with (shared / SUITE / "acceptance-manifest.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [r for r in rows if r["kind"] == "capture-document" and r["format"] == "json"]


def _events(doc: dict) -> list:  # type: ignore[type-arg]
    body = doc["epcisBody"]
    return (body["queryResults"]["resultsBody"] if doc["type"] == "EPCISQueryDocument" else body)["eventList"]


def test_openepcis_capture_documents(shared_dir: Path, new_app: Callable[[str], FastAPI]) -> None:
    rows = _rows(shared_dir)
    assert (sum(r["expected"] == "valid" for r in rows), sum(r["expected"] == "invalid" for r in rows)) == (38, 15)
    wrong: list[str] = []
    for n, row in enumerate(rows):
        data = (shared_dir / SUITE / "test-resources" / row["path"]).read_bytes()
        client = signed_in_as(TestClient(new_app(f"doc{n}")))
        r = client.post("/capture", content=data, headers={"content-type": "application/json"})
        if r.status_code == 400:  # not a document at all: refused before any job
            assert r.headers["content-type"] == "application/problem+json"
            if row["expected"] == "valid":
                wrong.append(f"{row['path']}: refused outright: {r.text}")
            continue
        assert r.status_code == 202, r.text
        job = client.get("/" + r.headers["location"]).json()
        assert job["running"] is False
        if row["expected"] == "valid":
            if not job["success"]:
                wrong.append(f"{row['path']}: {job['errors']}")
                continue
            doc = orjson.loads(data)
            stored = client.get("/events", params={"perPage": 1000}).json()
            listed = stored["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
            assert len(listed) == len({orjson.dumps(e) for e in _events(doc)}), row["path"]
            continue
        if job["success"]:
            wrong.append(f"{row['path']}: accepted an invalid document")
            continue
        assert job["errors"], row["path"]
        for problem in job["errors"]:
            assert problem["type"] == "epcisException:ValidationException"
            assert problem["status"] == 400 and problem["detail"], problem
            # an event's flaw names the event (and its field, unless the event as a whole is at fault);
            # a flaw of the document names its field
            assert problem["eventIndex"] is not None or problem["field"], problem
        name = row["path"].removeprefix(INVALID)
        if name in WHERE:
            first = job["errors"][0]
            assert (first["eventIndex"], first["field"]) == WHERE[name], (name, first)
        assert client.get("/events").json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"] == [], name
    assert wrong == []


def test_gs1_examples(shared_dir: Path, new_app: Callable[[str], FastAPI]) -> None:
    paths = sorted((shared_dir / EXAMPLES).iterdir())
    assert len(paths) == 47
    failed = []
    for n, path in enumerate(paths):
        client = signed_in_as(TestClient(new_app(f"ex{n}")))
        job = capture(client, orjson.loads(path.read_bytes()))
        if not job["success"]:
            failed.append(f"{path.name}: {job['errors']}")
    assert failed == []
