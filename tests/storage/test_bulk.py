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


def test_copied_rows_read_back_exactly_as_written(engine: Engine) -> None:
    """On PostgreSQL insert_values goes by COPY: text with tabs, newlines, backslashes and CJK, NULLs, booleans
    and microseconds come back as they were given, as they do from SQLite's executemany."""
    from datetime import datetime

    from sqlalchemy import select

    from oretrail.storage.bulk import insert_values
    from oretrail.storage.schema import events

    keys = ("event_id", "seq", "event_type", "event_time", "biz_location", "retracted", "off_profile")
    rows = [
        ("e\t1", 1, "ObjectEvent", datetime(2025, 6, 1, 0, 0, 0, 1), "tab\there\nnew line", False, None),
        ("e2", 2, "ObjectEvent", datetime(2025, 6, 2), "反斜杠 \\N 不是空", True, '{"a": "\\u0000"}'),
        ("e3", 3, "ObjectEvent", datetime(2025, 6, 3), None, False, ""),
    ]
    with engine.begin() as conn:
        insert_values(conn, events, keys, rows)
        got = conn.execute(select(*(events.c[k] for k in keys)).order_by(events.c.seq)).all()
    assert [tuple(r) for r in got] == rows


def test_merges_and_deletes_by_key_touch_exactly_their_rows(engine: Engine) -> None:
    """merge_values runs an upsert's ON CONFLICT for every row (on PostgreSQL from a COPY-filled temporary
    table), delete_keys removes exactly the keys given; both inside the caller's transaction."""
    from sqlalchemy import select

    from oretrail.chain.projector import _add_to_position
    from oretrail.storage.bulk import delete_keys, merge_values
    from oretrail.storage.schema import positions

    cols = ("lot_id", "place", "owner", "grams")
    with engine.begin() as conn:
        add = _add_to_position(conn.dialect.name)
        merge_values(conn, add, cols, [("L1", "p", "o", 5), ("L2", "p", "o", 7), ("L3", "p", "o", 1)])
        merge_values(conn, add, cols, [("L1", "p", "o", 10), ("L4", "p", "o", 2)])  # the stage is reused
        delete_keys(conn, positions, cols[:3], [("L2", "p", "o"), ("L9", "p", "o")])
        got = dict(conn.execute(select(positions.c.lot_id, positions.c.grams)).all())
    assert got == {"L1": 15, "L3": 1, "L4": 2}
    with engine.connect() as conn:
        conn.begin()
        merge_values(conn, _add_to_position(conn.dialect.name), cols, [("L5", "p", "o", 1)])
        conn.rollback()  # nothing of an abandoned merge stays, and the next transaction merges again
        merge_values(conn, _add_to_position(conn.dialect.name), cols, [("L1", "p", "o", 1)])
        conn.commit()
        got = dict(conn.execute(select(positions.c.lot_id, positions.c.grams)).all())
    assert got == {"L1": 16, "L3": 1, "L4": 2}
