from sqlalchemy import Engine, inspect

from oretrail.storage.engine import migrate
from oretrail.storage.schema import metadata


def test_migrations_create_every_table(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= names
    assert "alembic_version" in names


def test_migrate_twice_is_harmless(engine: Engine) -> None:
    migrate(engine)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_migrated_schema_matches_the_tables_the_code_declares(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


def test_capture_tables_are_clustered_and_event_indexes_partial_on_sqlite(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as conn:
        sql = dict(conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL").all())
    for table in ("lots", "event_lots", "positions", "genealogy", "exports"):
        assert "WITHOUT ROWID" in sql[table], table
    for index, column in (("ix_events_waybill", "waybill"), ("ix_events_dest_party", "dest_party")):
        assert sql[index].endswith(f"WHERE {column} IS NOT NULL"), sql[index]


def test_downgrade_to_0002_and_back(sqlite_engine: Engine) -> None:
    from alembic import command

    from oretrail.storage.engine import alembic_config

    command.downgrade(alembic_config(sqlite_engine), "0002")
    with sqlite_engine.connect() as conn:
        assert (
            "WITHOUT ROWID" not in conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name='positions'").scalar()
        )
    migrate(sqlite_engine)
    with sqlite_engine.connect() as conn:
        assert "WITHOUT ROWID" in conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name='positions'").scalar()


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
