"""Registry intake through the ledger, on both engines: idempotent, versioned, all-or-nothing."""

from __future__ import annotations

import orjson
import pytest
from sqlalchemy import Engine, func, select

from oretrail.errors import IntakeError
from oretrail.ledger.store import count
from oretrail.registry.store import load_registry
from oretrail.storage.schema import enterprises, facilities

USCC = "91360700MA35F0AX28"
ENT = {
    "kind": "enterprise",
    "id": f"urn:oretrail:party:uscc:{USCC}",
    "uscc": USCC,
    "name": "Ganzhou Example Rare Metals Co., Ltd.",
    "province": "CN-JX",
    "stages": ["mining", "smelting"],
    "registered": "2018-04-02",
}
FAC = {
    "kind": "facility",
    "id": f"urn:oretrail:loc:{USCC}:smelter-1",
    "owner": f"urn:oretrail:party:uscc:{USCC}",
    "type": "smelter",
    "province": "CN-JX",
    "capacity_kg_per_year": 2000000,
}


def lines(*objs: dict[str, object]) -> list[bytes]:
    return [orjson.dumps(o) for o in objs]


def test_reimport_is_a_no_op_and_a_change_is_a_new_version(engine: Engine) -> None:
    assert load_registry(engine, lines(ENT, FAC), "a.jsonl").new == 2
    again = load_registry(engine, lines(FAC, ENT), "a.jsonl")
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    changed = load_registry(engine, lines({**ENT, "name": "Ganzhou Example Rare Metals Group"}), "b.jsonl")
    assert changed.changed == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(enterprises)).scalar_one() == 1
        assert conn.execute(select(enterprises.c.name)).scalar_one() == "Ganzhou Example Rare Metals Group"
        assert count(conn, "enterprise") == 2  # both versions kept in the ledger
        assert conn.execute(select(facilities.c.capacity_kg_per_year)).scalar_one() == 2_000_000


def test_one_bad_line_lands_nothing(engine: Engine) -> None:
    bad = {**FAC, "id": "urn:oretrail:loc:nonsense", "type": "smelter"}
    with pytest.raises(IntakeError) as exc:
        load_registry(engine, lines(ENT, bad), "c.jsonl")
    assert (exc.value.index, exc.value.field) == (2, "id")
    with engine.connect() as conn:
        assert count(conn) == 0


def test_same_id_twice_with_different_content_is_refused(engine: Engine) -> None:
    with pytest.raises(IntakeError, match="twice"):
        load_registry(engine, lines(ENT, {**ENT, "name": "Other"}), "d.jsonl")
