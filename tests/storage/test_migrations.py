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


def _schema_differences(engine: Engine) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))


def test_migrated_schema_matches_the_tables_the_code_declares(engine: Engine) -> None:
    assert _schema_differences(engine) == []


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


def test_0004_keys_event_lots_by_the_events_seq_and_back(engine: Engine) -> None:
    """Rows written under 0003 (event_lots keyed by eventID) survive the re-keying both ways, on both engines."""
    from alembic import command

    from oretrail.storage.engine import alembic_config

    cfg = alembic_config(engine)
    command.downgrade(cfg, "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO events (event_id, seq, event_type, event_time, retracted) "
            "VALUES ('urn:uuid:e1', 7, 'TransformationEvent', '2025-06-01 08:00:00', false)"
        )
        conn.exec_driver_sql(
            "INSERT INTO event_lots (event_id, lot_id, role, grams, event_time) "
            "VALUES ('urn:uuid:e1', 'lot:a', 'input', 5000, '2025-06-01 08:00:00'), "
            "('urn:uuid:e1', 'lot:b', 'output', 4000, '2025-06-01 08:00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO genealogy (event_id, input_lot, output_lot) VALUES ('urn:uuid:e1', 'lot:a', 'lot:b')"
        )
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT seq, lot_id, role, event_id, grams FROM event_lots ORDER BY lot_id").all()
        assert [tuple(r) for r in rows] == [
            (7, "lot:a", "input", "urn:uuid:e1", 5000),
            (7, "lot:b", "output", "urn:uuid:e1", 4000),
        ]
        assert conn.exec_driver_sql("SELECT output_lot, input_lot, event_id FROM genealogy").all() == [
            ("lot:b", "lot:a", "urn:uuid:e1")
        ]
        assert "ix_ledger_kind_key" not in {i["name"] for i in inspect(conn).get_indexes("ledger")}
    command.downgrade(cfg, "0003")
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT event_id, lot_id, role, grams FROM event_lots ORDER BY lot_id").all()
        assert [tuple(r) for r in rows] == [
            ("urn:uuid:e1", "lot:a", "input", 5000),
            ("urn:uuid:e1", "lot:b", "output", 4000),
        ]
        assert "ix_ledger_kind_key" in {i["name"] for i in inspect(conn).get_indexes("ledger")}
    migrate(engine)
    assert _schema_differences(engine) == []


def test_0005_moves_movements_onto_event_lots_and_back(engine: Engine) -> None:
    """A shipment's draw and put, and a transformation's input and output of the same lot, stored as movements
    under 0004, land on the right sides of the right event_lots rows, and come back as the same movements."""
    from alembic import command

    from oretrail.storage.engine import alembic_config

    cfg = alembic_config(engine)
    command.downgrade(cfg, "0004")
    at = "'2025-06-01 08:00:00'"
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO event_lots (seq, lot_id, role, event_id, grams, event_time) VALUES "
            f"(3, 'lot:a', 'shipped', 'urn:uuid:s', 5000, {at}), (4, 'lot:a', 'input', 'urn:uuid:t', 2000, {at}), "
            f"(4, 'lot:a', 'output', 'urn:uuid:t', 1500, {at}), (5, 'lot:a', 'observed', 'urn:uuid:o', 1500, {at})"
        )
        conn.exec_driver_sql(
            "INSERT INTO movements (event_id, lot_id, place, owner, delta_g, event_time) VALUES "
            f"('urn:uuid:s', 'lot:a', 'loc:mine', 'party:m', -5000, {at}), "
            f"('urn:uuid:s', 'lot:a', 'waybill:1', 'party:m', 5000, {at}), "
            f"('urn:uuid:t', 'lot:a', 'loc:plant', '', -2000, {at}), "
            f"('urn:uuid:t', 'lot:a', 'loc:plant', 'party:p', 1500, {at})"
        )
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, role, from_place, from_owner, to_place, to_owner FROM event_lots ORDER BY seq, role"
        ).all()
        assert [tuple(r) for r in rows] == [
            (3, "shipped", "loc:mine", "party:m", "waybill:1", "party:m"),
            (4, "input", "loc:plant", "", None, None),
            (4, "output", None, None, "loc:plant", "party:p"),
            (5, "observed", None, None, None, None),
        ]
        assert "movements" not in inspect(conn).get_table_names()
    command.downgrade(cfg, "0004")
    with engine.connect() as conn:
        moves = conn.exec_driver_sql("SELECT event_id, place, owner, delta_g FROM movements ORDER BY id").all()
        assert [tuple(r) for r in moves] == [
            ("urn:uuid:s", "loc:mine", "party:m", -5000),
            ("urn:uuid:s", "waybill:1", "party:m", 5000),
            ("urn:uuid:t", "loc:plant", "", -2000),
            ("urn:uuid:t", "loc:plant", "party:p", 1500),
        ]
        assert "from_place" not in {c["name"] for c in inspect(conn).get_columns("event_lots")}
    migrate(engine)
    assert _schema_differences(engine) == []


def test_0007_finds_the_record_of_each_event_itself(engine: Engine) -> None:
    """Under 0006 an event's row named only its newest record; 0007 fills `original_seq` with the record of the
    event as sent without an errorDeclaration (for a retracted event, from the ledger), so capture can tell a
    re-send from an event arriving after its correction."""
    from alembic import command

    from oretrail.storage.engine import alembic_config

    cfg = alembic_config(engine)
    command.downgrade(cfg, "0006")
    ledger_row = (
        "INSERT INTO ledger (seq, kind, key, digest, body, recorded_at, hash) "
        "VALUES ({seq}, 'event', '{key}', 'd{seq}', '{body}', '2025-06-01 08:00:00', 'h{seq}')"
    )
    event_row = (
        "INSERT INTO events (event_id, seq, event_type, event_time, retracted) "
        "VALUES ('{key}', {seq}, 'ObjectEvent', '2025-06-01 08:00:00', {retracted})"
    )
    with engine.begin() as conn:
        for seq, key, body in (
            (1, "urn:uuid:kept", '{"eventID":"urn:uuid:kept"}'),
            (2, "urn:uuid:wrong", '{"eventID":"urn:uuid:wrong"}'),
            (3, "urn:uuid:wrong", '{"errorDeclaration":{"declarationTime":"2025-06-02T00:00:00Z"}}'),
            (4, "urn:uuid:declared-only", '{"errorDeclaration":{"declarationTime":"2025-06-02T00:00:00Z"}}'),
        ):
            conn.exec_driver_sql(ledger_row.format(seq=seq, key=key, body=body))
        for key, seq, retracted in (("urn:uuid:kept", 1, "false"), ("urn:uuid:wrong", 3, "true"),
                                    ("urn:uuid:declared-only", 4, "true")):  # fmt: skip
            conn.exec_driver_sql(event_row.format(key=key, seq=seq, retracted=retracted))
    migrate(engine)
    with engine.connect() as conn:
        rows = dict(conn.exec_driver_sql("SELECT event_id, original_seq FROM events").all())
        assert conn.exec_driver_sql("SELECT count(*) FROM events WHERE off_profile IS NOT NULL").scalar() == 0
    assert rows == {"urn:uuid:kept": 1, "urn:uuid:wrong": 2, "urn:uuid:declared-only": None}
