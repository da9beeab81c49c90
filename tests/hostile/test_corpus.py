"""Inputs that once broke something (issue 17 §3), kept as regression tests: each is refused with the file,
record and field named, no traceback, and nothing of it stored; a valid file beside it still lands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from oretrail.cli import app
from oretrail.output import _cell
from oretrail.screening.names import normalise
from oretrail.storage.schema import (
    declarations,
    enterprises,
    events,
    inspections,
    ledger,
    licences,
    mirror,
    monthly_reports,
    watchlist,
)

runner = CliRunner()


@pytest.fixture
def db(data: Path, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    for feed, path in (("registry", "registry.jsonl"), ("watchlist", "watchlist.jsonl")):
        assert runner.invoke(app, ["load", feed, str(data / path), "--db", url]).exit_code == 0
    return url


def _first_event_doc(data: Path) -> dict[str, Any]:
    doc = orjson.loads(sorted((data / "events").iterdir())[0].read_bytes())
    doc["epcisBody"]["eventList"] = doc["epcisBody"]["eventList"][:1]
    return doc


def _quantity(value: Any) -> Callable[[dict[str, Any]], None]:
    def change(ev: dict[str, Any]) -> None:
        key = next(k for k in ("quantityList", "outputQuantityList", "childQuantityList") if ev.get(k))
        ev[key][0]["quantity"] = value

    return change


EVENT_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("quantity 1e20", _quantity(1e20), "quantity"),
    ("quantity 1e300", _quantity(1e300), "quantity"),
    ("year 1 at +14:00", lambda e: e.update(eventTime="0001-01-01T00:00:00+14:00"), "eventTime"),
    ("year 9999 at -12:00", lambda e: e.update(eventTime="9999-12-31T23:59:59-12:00"), "eventTime"),
    ("year 1850", lambda e: e.update(eventTime="1850-01-01T00:00:00Z"), "eventTime"),
    ("markup in a value", lambda e: e.update(eventID="urn:uuid:[/red]"), "eventID"),
    # found by test_fuzz.py: 1e19 is written back by the ledger's canonical form as 20 digits, which a replay
    # would read as an integer past 2**53
    ("a whole float past 2**53", lambda e: e.update({"ex:n": 1e19}), "ex:n"),
]


@pytest.mark.parametrize(("label", "change", "field"), EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_hostile_events_are_refused_and_the_rest_of_the_folder_lands(
    data: Path, db: str, tmp_path: Path, label: str, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    folder = tmp_path / "[bold red]in"  # rich markup in a path, too
    folder.mkdir()
    bad = _first_event_doc(data)
    change(bad["epcisBody"]["eventList"][0])
    (folder / "a-bad[red].json").write_bytes(orjson.dumps(bad))
    good = sorted((data / "events").iterdir())[1]
    (folder / "b-good.json").write_bytes(good.read_bytes())
    res = runner.invoke(app, ["load", "events", str(folder), "--db", db, "--format", "jsonl"])
    assert res.exception is None or isinstance(res.exception, SystemExit), label
    refusals = [orjson.loads(line) for line in res.stderr.splitlines() if line.startswith("{")]
    assert any(r.get("field", "").startswith(field) and "a-bad[red].json" in r.get("document", "") for r in refusals)
    with create_engine(db).connect() as conn:
        stored = conn.execute(select(func.count()).select_from(events)).scalar_one()
    assert stored == len(orjson.loads(good.read_bytes())["epcisBody"]["eventList"]) - _duplicates(good)


def _duplicates(doc: Path) -> int:
    ids = [e["eventID"] for e in orjson.loads(doc.read_bytes())["epcisBody"]["eventList"]]
    return len(ids) - len(set(ids))


def test_a_repeated_name_in_a_document_is_refused(data: Path, db: str, tmp_path: Path) -> None:
    doc = orjson.dumps(_first_event_doc(data)).decode()
    twice = doc.replace('"eventTime":', '"eventTime":"2025-01-01T00:00:00Z","eventTime":', 1)
    (tmp_path / "twice.json").write_text(twice)
    res = runner.invoke(app, ["load", "events", str(tmp_path / "twice.json"), "--db", db])
    assert res.exit_code == 1 and "'eventTime' appears twice in one object with different values" in res.stderr
    with create_engine(db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger).where(ledger.c.kind == "event")).scalar() == 0


LINE_CASES: list[tuple[str, str, Callable[[dict[str, Any]], str], str, Any]] = [
    ("licences", "licences.jsonl", lambda r: orjson.dumps({**r, "quantity_kg": 1e300}).decode(), "quantity_kg",
     licences),
    ("licences", "licences.jsonl", lambda r: orjson.dumps({**r, "valid_from": "0001-01-01"}).decode(), "valid_from",
     licences),
    ("declarations", "declarations.jsonl", lambda r: orjson.dumps({**r, "net_kg": 1e20}).decode(), "net_kg",
     declarations),
    ("declarations", "declarations.jsonl", lambda r: orjson.dumps({**r, "value_usd": 1e308}).decode(), "value_usd",
     declarations),
    ("declarations", "declarations.jsonl", lambda r: orjson.dumps(r).decode()[:-1] + ',"net_kg":999999999}', "*",
     declarations),
    ("licences", "licences.jsonl", lambda r: orjson.dumps({**r, "x": "a" * (2 * 1024 * 1024)}).decode(), "*",
     licences),
    # found by tests/hostile/test_fuzz.py: a whole number the ledger's canonical form cannot write (was a traceback
    # from rfc8785 when the record was hashed, in every line feed)
    ("licences", "licences.jsonl", lambda r: orjson.dumps({**r, "note": [2**53 + 1]}).decode(), "note[0]",
     licences),
    ("registry", "registry.jsonl", lambda r: orjson.dumps({**r, "registered": 2**63}).decode(), "registered",
     enterprises),
    # found by test_fuzz.py in the supervision feeds: names repeated, lists where a code was expected, the
    # calendar's end plus a corrective action's default term, a count past any integer column
    ("reports", "reports.jsonl", lambda r: orjson.dumps(r).decode()[:-1] + ',"period":"1999-01"}', None,
     monthly_reports),
    ("reports", "reports.jsonl", lambda r: orjson.dumps({**r, "note": 1e19}).decode(), "note", monthly_reports),
    ("reports", "reports.jsonl", lambda r: orjson.dumps({**r, "lines": [{"material": ["ga.metal"]}]}).decode(),
     "lines[0].material", monthly_reports),
    ("supervision", "supervision.jsonl", lambda r: orjson.dumps({**r, "date": "9999-12-31"}).decode(), "date",
     inspections),
    ("supervision", "supervision.jsonl", lambda r: orjson.dumps({**r, "date": "20250705"}).decode(), "date",
     inspections),
]  # fmt: skip


@pytest.mark.parametrize(("feed", "source", "make", "field", "table"), LINE_CASES)
def test_hostile_lines_are_refused_naming_line_and_field(
    data: Path, db: str, tmp_path: Path, feed: str, source: str, make: Callable[[dict[str, Any]], str], field: str,
    table: Any,
) -> None:  # fmt: skip
    good = (data / source).read_text().splitlines()
    bad = tmp_path / source
    bad.write_text("\n".join([good[0], make(orjson.loads(good[1])), *good[2:4]]) + "\n")
    with create_engine(db).connect() as conn:
        before = conn.execute(select(func.count()).select_from(table)).scalar_one()
    res = runner.invoke(app, ["load", feed, str(bad), "--db", db, "--format", "json"])
    assert res.exit_code == 1, res.stdout
    refusal = orjson.loads(res.stderr.splitlines()[-1])
    assert (refusal["line"], refusal["field"]) == (2, field) and refusal["file"].endswith(source)
    with create_engine(db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(table)).scalar_one() == before  # whole or not at all


def test_mirror_figures_past_any_real_flow_and_broken_utf8_are_refused(db: str, tmp_path: Path) -> None:
    head = b"reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue\n"
    for body, column in ((b"DE,CN,M,811292,202506,1e300,100\n", "netWgt"), (b"DE,CN,M,811292,202506,1\xff,1\n", "")):
        path = tmp_path / "m.csv"
        path.write_bytes(head + body)
        res = runner.invoke(app, ["load", "mirror", str(path), "--db", db])
        assert res.exit_code == 1 and "m.csv" in res.stderr and column in res.stderr
    with create_engine(db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(mirror)).scalar_one() == 0


def test_an_empty_watch_list_does_not_lift_every_listing(db: str, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("")
    res = runner.invoke(app, ["load", "watchlist", str(tmp_path / "empty.jsonl"), "--db", db])
    assert res.exit_code == 1 and "remove all" in res.stderr
    with create_engine(db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(watchlist)).scalar_one() > 0


def test_a_missing_file_is_named(db: str, tmp_path: Path) -> None:
    res = runner.invoke(app, ["load", "licences", str(tmp_path / "nowhere.jsonl"), "--db", db])
    assert (res.exit_code == 1 and "nowhere.jsonl" in res.stderr and res.exception is None) or isinstance(
        res.exception, SystemExit
    )


def test_csv_cells_that_would_run_as_formulas_are_defused() -> None:
    assert _cell("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    assert _cell("+86 10 1234") == "'+86 10 1234" and _cell("-1") == "'-1"
    assert _cell("Example GmbH") == "Example GmbH" and _cell(-1.5) == -1.5


def test_a_name_a_hundred_thousand_characters_long_costs_no_more_than_its_first_thousand() -> None:
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.process_time()
    normalise("zhang" * 20_000)
    assert time.process_time() - started < 5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 500 * 1024  # KiB: under 500 MB more


def test_deep_nesting_is_refused_not_a_crash(data: Path, db: str, tmp_path: Path) -> None:
    doc = _first_event_doc(data)
    doc["epcisBody"]["eventList"][0]["ex:deep"] = "@@"
    text = orjson.dumps(doc).decode().replace('"@@"', '{"ex:n":' * 2000 + "1" + "}" * 2000)
    (tmp_path / "deep.json").write_text(text)
    res = runner.invoke(app, ["load", "events", str(tmp_path / "deep.json"), "--db", db])
    assert res.exit_code == 1 and "deep.json" in res.stderr


DOCUMENT_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str | None]] = [
    # found by test_fuzz.py and by atheris (bench/fuzz_epcis.py): a `type` that is not a string was a TypeError
    ("type a list", lambda d: d.update(type=["EPCISDocument"]), "type"),
    ("type an object", lambda d: d.update(type={"eventList": []}), "type"),
    ("a number past 2**53 in an extension", lambda d: d.update({"ot:n": 2**53 + 1}), "ot:n"),
]


@pytest.mark.parametrize(("label", "change", "field"), DOCUMENT_CASES, ids=[c[0] for c in DOCUMENT_CASES])
def test_hostile_documents_are_refused_naming_the_field(
    data: Path, db: str, tmp_path: Path, label: str, change: Callable[[dict[str, Any]], None], field: str | None
) -> None:
    doc = _first_event_doc(data)
    change(doc)
    (tmp_path / "bad.json").write_bytes(orjson.dumps(doc))
    res = runner.invoke(app, ["load", "events", str(tmp_path / "bad.json"), "--db", db, "--format", "jsonl"])
    assert res.exception is None or isinstance(res.exception, SystemExit), label
    refusals = [orjson.loads(line) for line in res.stderr.splitlines() if line.startswith("{")]
    assert [r.get("field") for r in refusals] == [field], res.stderr
    with create_engine(db).connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0
