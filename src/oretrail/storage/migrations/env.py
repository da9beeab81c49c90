"""Alembic environment: runs on the engine handed over by `oretrail.storage.engine.migrate`."""

from __future__ import annotations

from alembic import context

from oretrail.storage.schema import metadata

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        transaction_per_migration=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
