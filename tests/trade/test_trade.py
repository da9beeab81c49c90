"""Licence and declaration intake: precise rejections, whole batch or nothing, idempotent, versions kept."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from sqlalchemy import Connection, Engine, select

from oretrail.errors import IntakeError
from oretrail.ledger.store import Record, records
from oretrail.storage.schema import declarations, licences
from oretrail.trade.records import parse_declarations, parse_licences
from oretrail.trade.store import drawdown, load_declarations, load_licences

EXPORTER = "urn:oretrail:party:uscc:91360700MA35F0AX28"


def _versions(conn: Connection, licence_no: str) -> list[Record]:
    """Every ledger record of one licence, oldest first."""
    return [r for r in records(conn, kinds=["licence"]) if r.key == licence_no]


def licence(**over: Any) -> dict[str, Any]:
    return {
        "licence_no": "EL2025JX000123",
        "exporter": EXPORTER,
        "material": "ga.metal",
        "hs_code": "8112929010",
        "quantity_kg": 500,
        "destination": "DE",
        "consignee": "Example Semiconductor GmbH",
        "end_user": "Example Semiconductor GmbH",
        "end_use": "GaAs wafer production",
        "valid_from": "2025-03-01",
        "valid_to": "2025-12-31",
        "status": "approved",
    } | over


def declaration(**over: Any) -> dict[str, Any]:
    return {
        "declaration_no": "530120250000123456",
        "date": "2025-06-03",
        "exporter": EXPORTER,
        "hs_code": "8112929010",
        "description": "gallium, unwrought, 99.99%",
        "net_kg": 120.0,
        "value_usd": 84000.0,
        "destination": "DE",
        "consignee": "Example Semiconductor GmbH",
        "port": "CNSZX",
        "licence_no": "EL2025JX000123",
    } | over


def lines(*objs: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(o) for o in objs]


def test_spec_examples_parse() -> None:
    ((lic, _),) = parse_licences(lines(licence(port="CNSHA")), "l.jsonl")
    assert lic.quantity_g == 500_000 and lic.port == "CNSHA" and lic.valid_to.isoformat() == "2025-12-31"
    ((dec, _),) = parse_declarations(lines(declaration(licence_no=None)), "d.jsonl")
    assert dec.net_g == 120_000 and dec.licence_no is None
    without = declaration()
    del without["licence_no"]
    assert parse_declarations(lines(without), "d.jsonl")[0][0].licence_no is None


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"destination": "XX"}, "destination"),
        ({"destination": "deu"}, "destination"),
        ({"hs_code": "811292901"}, "hs_code"),
        ({"valid_from": "2025-13-01"}, "valid_from"),
        ({"valid_to": "2025-02-01"}, "valid_to"),
        ({"status": "pending"}, "status"),
        ({"quantity_kg": 0}, "quantity_kg"),
        ({"quantity_kg": "500"}, "quantity_kg"),
        ({"quantity_kg": True}, "quantity_kg"),
        ({"exporter": "urn:oretrail:party:uscc:91360700MA35F0AX29"}, "exporter"),  # bad check digit
        ({"exporter": "Ganzhou Example"}, "exporter"),
        ({"port": "SZX"}, "port"),
        ({"consignee": ""}, "consignee"),
    ],
)
def test_bad_licence_names_line_and_field(bad: dict[str, Any], field: str) -> None:
    data = [b"", *lines(licence(licence_no="EL2025JX000001"), licence(**bad))]  # a blank line still counts
    with pytest.raises(IntakeError) as err:
        parse_licences(data, "l.jsonl")
    assert (err.value.document, err.value.index, err.value.field) == ("l.jsonl", 3, field)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"declaration_no": "5301-2025"}, "declaration_no"),
        ({"net_kg": -1}, "net_kg"),
        ({"net_kg": 0.0001}, "net_kg"),  # under a gram
        ({"value_usd": -5}, "value_usd"),
        ({"date": "03/06/2025"}, "date"),
        ({"port": "DEHAM"}, "port"),
        ({"port": None}, "port"),
        ({"licence_no": ""}, "licence_no"),
    ],
)
def test_bad_declaration_names_line_and_field(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(IntakeError) as err:
        parse_declarations(lines(declaration(**bad)), "d.jsonl")
    assert (err.value.index, err.value.field) == (1, field)


def test_not_json_is_rejected_with_its_line() -> None:
    with pytest.raises(IntakeError) as err:
        parse_declarations([orjson.dumps(declaration()), b"{not json"], "d.jsonl")
    assert (err.value.index, err.value.field) == (2, "*")


def test_whole_batch_or_nothing(engine: Engine) -> None:
    good = licence(licence_no="EL2025JX000001")
    with pytest.raises(IntakeError):
        load_licences(engine, lines(good, licence(status="pending")), "l.jsonl")

    # A failure inside the transaction (here: the hook) also leaves nothing behind.
    def boom(*_: object) -> None:
        raise RuntimeError("after the writes")

    with pytest.raises(RuntimeError):
        load_licences(engine, lines(good), "l.jsonl", then=boom)
    with engine.connect() as conn:
        assert conn.execute(select(licences)).all() == []
        assert _versions(conn, "EL2025JX000001") == []


def test_idempotent_and_changed_record_is_a_new_version(engine: Engine) -> None:
    first = load_licences(engine, lines(licence(), licence(licence_no="EL2025JX000002")), "l.jsonl")
    again = load_licences(engine, lines(licence(), licence(licence_no="EL2025JX000002")), "l.jsonl")
    amended = load_licences(engine, lines(licence(quantity_kg=800, port="CNSHA")), "l2.jsonl")
    assert first.as_dict() == {"new": 2, "unchanged": 0, "changed": 0}
    assert again.as_dict() == {"new": 0, "unchanged": 2, "changed": 0} and again.keys == []
    assert amended.as_dict() == {"new": 0, "unchanged": 0, "changed": 1} and amended.keys == ["EL2025JX000123"]
    with engine.connect() as conn:
        kept = _versions(conn, "EL2025JX000123")
        row = conn.execute(select(licences).where(licences.c.licence_no == "EL2025JX000123")).one()
    assert [v.json()["quantity_kg"] for v in kept] == [500, 800]  # the old version stays in the ledger
    assert row.quantity_g == 800_000 and row.port == "CNSHA" and row.seq == kept[-1].seq


def test_drawdown_per_licence(engine: Engine) -> None:
    load_licences(engine, lines(licence(), licence(licence_no="EL2025JX000002")), "l.jsonl")
    load_declarations(
        engine,
        lines(
            declaration(),
            declaration(declaration_no="530120250000123457", net_kg=380),
            declaration(declaration_no="530120250000123458", licence_no=None),
        ),
        "d.jsonl",
    )
    with engine.connect() as conn:
        stored = conn.execute(select(declarations.c.declaration_no)).scalars().all()
        dd = {d.licence_no: d for d in drawdown(conn)}
        only = drawdown(conn, ["EL2025JX000002"])
    assert len(stored) == 3
    assert (dd["EL2025JX000123"].drawn_g, dd["EL2025JX000123"].uses, dd["EL2025JX000123"].remaining_g) == (
        500_000,
        2,
        0,
    )
    assert [(d.licence_no, d.drawn_g, d.uses, d.remaining_g) for d in only] == [("EL2025JX000002", 0, 0, 500_000)]


def test_fields_beyond_the_contract_are_kept_not_refused() -> None:
    (rec, obj) = parse_licences(lines(licence(licence_no="EL2025JX000009", remark="renewal of EL2024")), "l.jsonl")[0]
    assert rec.licence_no == "EL2025JX000009" and obj["remark"] == "renewal of EL2024"
