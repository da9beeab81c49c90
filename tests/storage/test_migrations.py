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
