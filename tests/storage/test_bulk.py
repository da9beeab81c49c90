"""Rows written past SQLAlchemy's per-row machinery (storage.bulk), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine


def test_bulk_inserted_times_read_back_like_any_other_write(engine: Engine) -> None:
    """Rows written past SQLAlchemy (storage.bulk) must compare equal to rows SQLAlchemy wrote."""
    from datetime import date, datetime

    from sqlalchemy import insert, select

    from oretrail.storage.bulk import insert_rows
    from oretrail.storage.schema import declarations, lots

    base = {"material": "ga.metal", "element": "Ga", "grade": 0.9999, "mass_g": 1, "element_mg": 1}
    moments = [datetime(2025, 5, 31, 23, 59, 59), datetime(2025, 6, 1, 0, 0, 0, 1)]
    with engine.begin() as conn:
        insert_rows(conn, lots, [{**base, "lot_id": "bulk", "created_event": "e1", "created_at": moments[0]}])
        conn.execute(insert(lots), [{**base, "lot_id": "orm", "created_event": "e2", "created_at": moments[1]}])
        insert_rows(
            conn,
            declarations,
            [{"declaration_no": "D1", "date": date(2025, 6, 1), "exporter": "x", "hs_code": "8112929010",
              "net_g": 1, "value_usd": 1.0, "destination": "DE", "consignee": "c", "seq": 1}],
        )  # fmt: skip
        at = select(lots.c.lot_id).where(lots.c.created_at == moments[0])
        assert conn.execute(at).scalars().all() == ["bulk"]  # the same text as a bound parameter's
        later = select(lots.c.lot_id).where(lots.c.created_at > moments[0])
        assert conn.execute(later).scalars().all() == ["orm"]
        got = conn.execute(select(lots.c.created_at).order_by(lots.c.created_at)).scalars().all()
        assert got == moments
        on_day = select(declarations.c.declaration_no).where(declarations.c.date == date(2025, 6, 1))
        assert conn.execute(on_day).scalars().all() == ["D1"]


def test_value_rows_in_any_key_order_land_in_the_right_columns(engine: Engine) -> None:
    """insert_values takes tuples in the caller's key order; a key that names no column is refused."""
    import pytest
    from sqlalchemy import select

    from oretrail.storage.bulk import insert_values
    from oretrail.storage.schema import genealogy

    with engine.begin() as conn:
        insert_values(conn, genealogy, ("output_lot", "input_lot", "event_id"), [("o1", "i1", "e1")])
        insert_values(conn, genealogy, ("event_id", "input_lot", "output_lot"), [("e2", "i2", "o2")])
        rows = conn.execute(select(genealogy.c.output_lot, genealogy.c.input_lot, genealogy.c.event_id)).all()
        assert sorted(tuple(r) for r in rows) == [("o1", "i1", "e1"), ("o2", "i2", "e2")]
        with pytest.raises(ValueError, match="genealogy"):
            insert_values(conn, genealogy, ("output_lot", "input_lot", "evnt_id"), [("o3", "i3", "e3")])
