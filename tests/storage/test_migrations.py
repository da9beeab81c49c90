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
