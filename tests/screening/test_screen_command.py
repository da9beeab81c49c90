"""`oretrail screen` and `POST /screen`: ad hoc screening of names in any script against the loaded list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from oretrail.api.app import create_app
from oretrail.cli import app
from tests.api.conftest import signed_in

runner = CliRunner()

LIST = [
    {"id": "tkm", "schema": "Company", "properties": {"name": ["Tyazhkhimmetall LLC"]}},
    {"id": "gzp", "schema": "Company", "properties": {"name": ["Gazprom PJSC"], "alias": ["ПАО «Газпром»"]}},
    {"id": "xx", "schema": "Company", "properties": {"name": ["北京新星稀土有限公司"]}},
    {"id": "ylk", "schema": "Company", "properties": {"name": ["Yildirim Kimya Sanayi Limited Sirketi"]}},
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "list.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in LIST))
    url = f"sqlite:///{tmp_path / 'screen.db'}"
    res = runner.invoke(app, ["load", "watchlist", str(path), "--db", url])
    assert res.exit_code == 0, res.output
    return url


def _jsonl(text: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in text.splitlines() if line]


def test_names_in_other_scripts_hit_with_one_record_a_line(db: str) -> None:
    res = runner.invoke(
        app,
        ["screen", "ООО «Тяжхимметалл»", "Yıldırım Kimya Sanayi Ltd. Şti.", "Apex Plumbing", "--db", db, "-f", "jsonl"],
    )
    assert res.exit_code == 0, res.output
    hits = _jsonl(res.stdout)
    assert [(h["query"], h["entity_id"]) for h in hits] == [
        ("ООО «Тяжхимметалл»", "tkm"),
        ("Yıldırım Kimya Sanayi Ltd. Şti.", "ylk"),
    ]
    assert set(hits[0]) == {"query", "entity_id", "matched_name", "score"}
    assert hits[0]["matched_name"] == "Tyazhkhimmetall LLC"
    assert 0.88 <= float(str(hits[0]["score"])) <= 1.0


def test_file_of_names_and_threshold(db: str, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Gazprom\n\nXinxing Rare Earth (Beijing) Co., Ltd.\n", encoding="utf-8")
    res = runner.invoke(app, ["screen", "--file", str(names), "--db", db, "-f", "jsonl"])
    assert res.exit_code == 0, res.output
    assert {h["entity_id"] for h in _jsonl(res.stdout)} == {"gzp", "xx"}
    strict = runner.invoke(app, ["screen", "Tyazhkhimetall", "--threshold", "0.99", "--db", db, "-f", "jsonl"])
    assert strict.exit_code == 0 and strict.stdout == ""


def test_bad_line_names_file_line_and_field(db: str, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("Gazprom\n«»\n", encoding="utf-8")
    res = runner.invoke(app, ["screen", "--file", str(names), "--db", db])
    assert res.exit_code == 1
    assert "line 2" in res.stderr and "name" in res.stderr


def test_no_list_loaded_is_an_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["screen", "Gazprom", "--db", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert res.exit_code == 1
    assert "oretrail load watchlist" in res.stderr


@pytest.fixture
def client(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ORETRAIL_SIGNING_KEY", str(tmp_path / "key.pem"))
    with TestClient(create_app(db)) as c:
        yield signed_in(c)


def test_api_screens_names(client: TestClient) -> None:
    r = client.post("/screen", json={"names": ["ПАО «Газпром»", "北京新星稀土股份有限公司", "Acme Bakery"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["threshold"] == 0.88 and len(body["list_version"]) == 16
    assert [(h["query"], h["entity_id"]) for h in body["hits"]] == [
        ("ПАО «Газпром»", "gzp"),
        ("北京新星稀土股份有限公司", "xx"),
    ]


def test_api_rejects_a_name_without_letters(client: TestClient) -> None:
    r = client.post("/screen", json={"names": ["Gazprom", "--"]})
    assert r.status_code == 422
    assert "names[1]" in r.json()["detail"]
