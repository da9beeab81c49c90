"""The ledger contract, on SQLite and PostgreSQL: append-only, chained, and tamper-evident."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, insert, select, update

from oretrail.ledger.chain import GENESIS, link_hash
from oretrail.ledger.checkpoints import sign_head
from oretrail.ledger.keys import create_key, load_key, public_hex
from oretrail.ledger.store import LedgerWriter, Pending, count, head, records
from oretrail.ledger.verify import verify
from oretrail.storage.schema import checkpoints, events, ledger


def fill(engine: Engine, n: int = 10, key: Ed25519PrivateKey | None = None) -> None:
    with engine.begin() as conn:
        w = LedgerWriter(conn)
        w.append([Pending.of("event", f"urn:uuid:{i}", {"i": i, "q": i * 1.5}) for i in range(1, n + 1)])
        if key:
            sign_head(conn, key)


def test_append_chains_records_in_order(engine: Engine) -> None:
    fill(engine, 5)
    with engine.connect() as conn:
        recs = list(records(conn))
        assert [r.seq for r in recs] == [1, 2, 3, 4, 5]
        prev = GENESIS
        for r in recs:
            assert r.hash == link_hash(prev, r.seq, r.kind, r.key, r.digest, r.recorded_at)
            prev = r.hash
        assert head(conn) == (5, recs[-1].hash)
        assert verify(conn).ok


def test_latest_digest_is_the_version_the_projection_names(engine: Engine) -> None:
    with engine.begin() as conn:
        w = LedgerWriter(conn)
        w.append([Pending.of("event", "e1", {"v": 1})])
        (newest,) = w.append([Pending.of("event", "e1", {"v": 2})])
        row = {"event_id": "e1", "event_type": "ObjectEvent", "event_time": datetime(2025, 1, 1), "retracted": False}
        conn.execute(insert(events).values(row | {"seq": newest.seq}))
        assert w.latest_digests(events.c.event_id, ["e1", "e2"]) == {"e1": Pending.of("event", "e1", {"v": 2}).digest}
    with engine.connect() as conn:
        assert count(conn, "event") == 2


def test_writer_continues_chain_across_transactions(engine: Engine) -> None:
    fill(engine, 3)
    with engine.begin() as conn:
        LedgerWriter(conn).append([Pending.of("event", "urn:uuid:x", {"x": 1})])
    with engine.connect() as conn:
        assert verify(conn).ok
        assert head(conn)[0] == 4


def test_canonical_body_ignores_key_order_and_whitespace() -> None:
    a = Pending.of("event", "e", {"b": 1, "a": [1, 2.0, "x"]})
    b = Pending.of("event", "e", {"a": [1, 2, "x"], "b": 1.0})
    assert a.digest == b.digest


@pytest.mark.parametrize(
    ("tamper", "bad_seq", "words"),
    [
        ("alter", 4, "body altered"),
        ("remove", 4, "removed"),
        ("reorder", 4, "body altered"),
        ("rehash", 4, "chain hash mismatch"),
    ],
)
def test_verify_names_first_bad_record(engine: Engine, tamper: str, bad_seq: int, words: str) -> None:
    fill(engine, 8)
    with engine.begin() as conn:
        if tamper == "alter":
            conn.execute(update(ledger).where(ledger.c.seq == 4).values(body='{"i":4,"q":999}'))
        elif tamper == "remove":
            conn.execute(delete(ledger).where(ledger.c.seq == 4))
        elif tamper == "reorder":
            b4, b5 = (conn.execute(select(ledger.c.body).where(ledger.c.seq == s)).scalar_one() for s in (4, 5))
            conn.execute(update(ledger).where(ledger.c.seq == 4).values(body=b5))
            conn.execute(update(ledger).where(ledger.c.seq == 5).values(body=b4))
        else:
            # A careful forger also fixes the digest, but cannot fix the chain without rewriting every hash.
            from oretrail.ledger.canonical import canonical, sha256_hex

            body = canonical({"i": 4, "q": 0})
            conn.execute(update(ledger).where(ledger.c.seq == 4).values(body=body.decode(), digest=sha256_hex(body)))
    with engine.connect() as conn:
        verdict = verify(conn)
    assert not verdict.ok
    assert verdict.first_bad_seq == bad_seq
    assert words in (verdict.problem or "")


def test_inserted_record_breaks_chain_there(engine: Engine) -> None:
    fill(engine, 6)
    with engine.begin() as conn:
        # Make room at 4 by shifting the tail up, then slip a forged record in.
        for s in range(6, 3, -1):
            conn.execute(update(ledger).where(ledger.c.seq == s).values(seq=s + 1))
        row = conn.execute(select(ledger).where(ledger.c.seq == 3)).mappings().one()
        forged = Pending.of("event", "urn:uuid:forged", {"forged": True})
        conn.execute(
            ledger.insert().values(
                seq=4,
                kind="event",
                key=forged.key,
                digest=forged.digest,
                body=forged.body.decode(),
                recorded_at=row["recorded_at"],
                hash="f" * 64,
            )
        )
    with engine.connect() as conn:
        verdict = verify(conn)
    assert (verdict.ok, verdict.first_bad_seq) == (False, 4)


def test_checkpoint_catches_a_complete_rewrite(engine: Engine, tmp_path: Path) -> None:
    key = create_key(tmp_path / "k.pem")
    fill(engine, 6, key)
    with engine.begin() as conn:
        # Rewrite record 2 and recompute every digest and hash after it: the chain alone looks fine.
        recs = list(records(conn))
        conn.execute(delete(ledger))
        prev = GENESIS
        for r in recs:
            p = (
                Pending.of(r.kind, r.key, {"rewritten": r.seq})
                if r.seq == 2
                else Pending(r.kind, r.key, r.body, r.digest)
            )
            h = link_hash(prev, r.seq, r.kind, r.key, p.digest, r.recorded_at)
            conn.execute(
                ledger.insert().values(
                    seq=r.seq,
                    kind=r.kind,
                    key=r.key,
                    digest=p.digest,
                    body=p.body.decode(),
                    recorded_at=r.recorded_at,
                    hash=h,
                )
            )
            prev = h
    with engine.connect() as conn:
        verdict = verify(conn, public_hex(key))
    assert not verdict.ok and verdict.first_bad_seq == 6
    assert "history rewritten" in (verdict.problem or "")


def test_checkpoint_by_unknown_key_is_refused(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 3, create_key(tmp_path / "a.pem"))
    other = public_hex(create_key(tmp_path / "b.pem"))
    with engine.connect() as conn:
        assert verify(conn).ok
        verdict = verify(conn, other)
    assert not verdict.ok and "unknown key" in (verdict.problem or "")


def test_forged_signature_is_refused(engine: Engine, tmp_path: Path) -> None:
    fill(engine, 3, create_key(tmp_path / "a.pem"))
    with engine.begin() as conn:
        conn.execute(update(checkpoints).values(signature="00" * 64))
    with engine.connect() as conn:
        verdict = verify(conn)
    assert not verdict.ok and "invalid signature" in (verdict.problem or "")


def test_key_file_is_private_and_reused(tmp_path: Path) -> None:
    p = tmp_path / "k.pem"
    k1 = create_key(p)
    assert p.stat().st_mode & 0o777 == 0o600
    assert public_hex(load_key(p)) == public_hex(k1)
