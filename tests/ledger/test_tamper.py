"""Tamper evidence that survives the database administrator (issue 17 §2), on SQLite and PostgreSQL.

A ledger of 9 records sealed by three appends (checkpoints at 3, 6 and 9) and its checkpoint file copied
out; then each way of tampering, in the database and in the copy, and what `verify` names.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from oretrail.ledger.chain import GENESIS, link_hash
from oretrail.ledger.checkpoints import Checkpoint, sign_head, stored
from oretrail.ledger.keys import SigningKeyError, create_key, key_id, public_hex, recorded
from oretrail.ledger.notary import Notary, rotate
from oretrail.ledger.store import LedgerWriter, Pending, head, records
from oretrail.ledger.verify import Verdict, verify
from oretrail.storage.schema import checkpoints, ledger, outbox, signing_keys


def append(notary: Notary, engine: Engine, *keys: str) -> None:
    with notary.transaction(engine) as conn:
        LedgerWriter(conn).append([Pending.of("event", k, {"k": k, "q": len(k) * 1.5}) for k in keys])


@pytest.fixture
def notary(engine: Engine, tmp_path: Path, checkpoint_file: Path) -> Notary:
    path = tmp_path / "db.signing.key"
    n = Notary(create_key(path), path, checkpoint_file, publish=True)
    for batch in range(3):
        append(n, engine, *(f"urn:uuid:{batch}-{i}" for i in range(3)))
    return n


@pytest.fixture
def copy(notary: Notary, tmp_path: Path) -> Path:
    """The auditor's copy of the checkpoint file, taken after the third append."""
    assert notary.checkpoint_file is not None
    to = tmp_path / "auditor" / "checkpoints.jsonl"
    to.parent.mkdir()
    shutil.copyfile(notary.checkpoint_file, to)
    return to


def check(engine: Engine, copy: Path | None = None, trusted: str | None = None) -> Verdict:
    with engine.connect() as conn:
        return verify(conn, trusted, copy)


def lines(path: Path) -> list[dict]:
    return [orjson.loads(ln) for ln in path.read_bytes().splitlines() if ln.strip()]


def write_lines(path: Path, objs: list[dict]) -> None:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objs))


def forge(conn: Any, seq: int, prev: str, at: datetime, p: Pending) -> None:
    """A record with a valid hash linked to `prev`: what anyone with the table can write."""
    h = link_hash(prev, seq, p.kind, p.key, p.digest, at)
    conn.execute(
        insert(ledger).values(
            seq=seq, kind=p.kind, key=p.key, digest=p.digest, body=p.body.decode(), recorded_at=at, hash=h
        )
    )


def rehash_from(engine: Engine, seq: int, body: dict | None = None) -> None:
    """What an administrator with the table (and no key) can do: rewrite record `seq` and recompute every
    digest and hash after it, so the chain alone looks whole."""
    with engine.begin() as conn:
        recs = list(records(conn))
        prev = GENESIS
        for r in recs:
            p = Pending.of(r.kind, r.key, body) if (r.seq == seq and body) else Pending(r.kind, r.key, r.body, r.digest)
            h = link_hash(prev, r.seq, r.kind, r.key, p.digest, r.recorded_at)
            if r.seq >= seq:
                conn.execute(
                    update(ledger).where(ledger.c.seq == r.seq).values(digest=p.digest, body=p.body.decode(), hash=h)
                )
            prev = h


# --- the platform side ------------------------------------------------------------------------------------
def test_every_append_is_sealed_and_copied_out(engine: Engine, notary: Notary, copy: Path) -> None:
    with engine.connect() as conn:
        assert [c.seq for c in stored(conn)] == [3, 6, 9]
        assert [c.prev_seq for c in stored(conn)] == [0, 3, 6]
        assert {c.key_id for c in stored(conn)} == {key_id(notary.key)}
        assert [k.key_id for k in recorded(conn)] == [key_id(notary.key)]
        sent = conn.execute(select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.seq)).all()
    assert [s for s, _ in sent] == ["oretrail.checkpoint"] * 3
    assert [orjson.loads(p)["seq"] for _, p in sent] == [3, 6, 9]
    got = lines(copy)
    assert [o["type"] for o in got] == ["key", "checkpoint", "checkpoint", "checkpoint"]
    assert got[0]["key_id"] == key_id(notary.key) and [o["seq"] for o in got[1:]] == [3, 6, 9]
    v = check(engine, copy, public_hex(notary.key))
    assert v.ok and (v.records, v.checkpoints, v.copied) == (9, 3, 3), v


def test_checkpoints_reach_the_outbox_only_when_asked(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORETRAIL_PUBLISH_CHECKPOINTS", raising=False)
    quiet = Notary.open(engine, tmp_path / "quiet.key")
    append(quiet, engine, "urn:uuid:quiet")
    monkeypatch.setenv("ORETRAIL_PUBLISH_CHECKPOINTS", "1")
    told = Notary.open(engine, tmp_path / "quiet.key")
    append(told, engine, "urn:uuid:told")
    with engine.connect() as conn:
        sent = conn.execute(select(outbox.c.kind, outbox.c.payload)).all()
        assert [(k, orjson.loads(p)["seq"]) for k, p in sent] == [("ledger.checkpoint", 2)]
        assert len(stored(conn)) == 2


def test_a_checkpoint_missed_by_a_crash_is_written_by_the_next(engine: Engine, notary: Notary) -> None:
    assert notary.checkpoint_file is not None
    notary.checkpoint_file.unlink()
    append(notary, engine, "urn:uuid:late")
    assert [o.get("seq") for o in lines(notary.checkpoint_file)] == [None, 3, 6, 9, 10]
    append(notary, engine)  # nothing appended, nothing to seal: no line, no message
    assert len(lines(notary.checkpoint_file)) == 5
    assert check(engine, notary.checkpoint_file).ok
    # A line torn by a crash mid-write is cut off and written whole by the next catch-up.
    whole = notary.checkpoint_file.read_bytes()
    with notary.checkpoint_file.open("ab") as fh:
        fh.write(b'{"type":"checkpoint","seq":11,"head_ha')
    append(notary, engine, "urn:uuid:after-the-crash")
    assert notary.checkpoint_file.read_bytes().startswith(whole)
    assert [o.get("seq") for o in lines(notary.checkpoint_file)] == [None, 3, 6, 9, 10, 11]
    assert check(engine, notary.checkpoint_file).ok


# --- in the database --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tamper", "fault", "seq"),
    [
        ("alter", "altered", 5),
        ("delete", "removed", 5),
        ("insert", "chain", 6),
        ("reorder", "chain", 4),
        ("truncate", "truncated", 7),
        ("append", "unsigned", 10),
        ("rewrite_tail", "rewritten", 9),
        ("rewrite_resigned", "rewritten", 3),
        ("delete_checkpoint", "checkpoint_gap", 9),
        ("forge_checkpoint", "bad_signature", 6),
    ],
)
def test_tampering_in_the_database_is_caught_and_named(
    engine: Engine, notary: Notary, copy: Path, tamper: str, fault: str, seq: int
) -> None:
    with engine.begin() as conn:
        if tamper == "alter":
            conn.execute(update(ledger).where(ledger.c.seq == 5).values(body='{"k":"x","q":1e9}'))
        elif tamper == "delete":
            conn.execute(delete(ledger).where(ledger.c.seq == 5))
        elif tamper == "insert":
            for s in range(9, 4, -1):
                conn.execute(update(ledger).where(ledger.c.seq == s).values(seq=s + 1))
            forged = Pending.of("event", "urn:uuid:forged", {"forged": True})
            row = conn.execute(select(ledger).where(ledger.c.seq == 4)).mappings().one()
            forge(conn, 5, row["hash"], row["recorded_at"], forged)
        elif tamper == "reorder":
            r4, r5 = (conn.execute(select(ledger).where(ledger.c.seq == s)).mappings().one() for s in (4, 5))
            for target, src in ((4, r5), (5, r4)):
                conn.execute(update(ledger).where(ledger.c.seq == target).values(
                    key=src["key"], digest=src["digest"], body=src["body"], hash=src["hash"]))  # fmt: skip
        elif tamper == "truncate":
            # The administrator removes the last records and the checkpoint that covered them.
            conn.execute(delete(ledger).where(ledger.c.seq > 6))
            conn.execute(delete(checkpoints).where(checkpoints.c.seq > 6))
        elif tamper == "append":
            top, prev = head(conn)
            forged = Pending.of("event", "urn:uuid:appended", {"forged": True})
            at = conn.execute(select(ledger.c.recorded_at).where(ledger.c.seq == top)).scalar_one()
            forge(conn, top + 1, prev, at, forged)
        elif tamper == "delete_checkpoint":
            conn.execute(delete(checkpoints).where(checkpoints.c.seq == 6))
        elif tamper == "forge_checkpoint":
            conn.execute(update(checkpoints).where(checkpoints.c.seq == 6).values(head_hash="ab" * 32))
    if tamper == "rewrite_tail":
        # Past the last checkpoint the copy has: record 9 rewritten, hashes fixed, its checkpoint row deleted.
        rehash_from(engine, 9, {"k": "rewritten"})
        with engine.begin() as conn:
            conn.execute(delete(checkpoints).where(checkpoints.c.seq == 9))
    elif tamper == "rewrite_resigned":
        # Everything rewritten and signed again with the key file kept beside the database.
        rehash_from(engine, 2, {"k": "rewritten"})
        with engine.begin() as conn:
            conn.execute(delete(checkpoints))
            sign_head(conn, notary.key)
    v = check(engine, copy, public_hex(notary.key))
    assert not v.ok
    assert (v.fault, v.first_bad_seq) == (fault, seq), v.problem
    assert str(seq) in str(v) and "TAMPERED" in str(v)
    if tamper in ("truncate", "rewrite_tail", "rewrite_resigned"):
        assert v.copy_line is not None and f"line {v.copy_line} of the copy" in (v.problem or "")
        # ... which the database alone could not show, or not as well:
        alone = check(engine, None, public_hex(notary.key))
        assert alone.ok or alone.fault in ("unsigned",), alone.problem


# --- in the copy ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("tamper", "fault", "line"),
    [
        ("alter", "bad_signature", 3),
        ("delete", "checkpoint_gap", 3),
        ("insert", "bad_signature", 3),
        ("reorder", "copy_order", 4),
        ("truncate", "copy_malformed", 4),
        ("append_stranger", "unknown_key", 5),
        ("append_beyond", "truncated", 5),
        ("rewrite", "root", None),
    ],
)
def test_tampering_in_the_copy_is_caught_and_named(
    engine: Engine, notary: Notary, copy: Path, tmp_path: Path, tamper: str, fault: str, line: int | None
) -> None:
    objs = lines(copy)  # key, 3, 6, 9
    if tamper == "alter":
        objs[2]["head_hash"] = "cd" * 32
    elif tamper == "delete":
        del objs[2]
    elif tamper == "insert":
        objs.insert(2, {**objs[2], "seq": 5, "prev_seq": 3})
    elif tamper == "reorder":
        objs[2], objs[3] = objs[3], objs[2]
    elif tamper in ("append_stranger", "append_beyond"):
        signer = create_key(tmp_path / "stranger.pem") if tamper == "append_stranger" else notary.key
        cp = Checkpoint(12, "ef" * 32, Checkpoint.from_line(objs[3]).signed_at, public_hex(signer), "",
                        key_id(signer), 9)  # fmt: skip
        objs.append(replace(cp, signature=signer.sign(cp.message()).hex()).as_line())
    elif tamper == "rewrite":
        stranger = create_key(tmp_path / "stranger.pem")
        objs[0] = {**objs[0], "key_id": key_id(stranger), "public_key": public_hex(stranger)}
        for o in objs[1:]:
            cp = replace(Checkpoint.from_line(o), public_key=public_hex(stranger), key_id=key_id(stranger))
            o.update(replace(cp, signature=stranger.sign(cp.message()).hex()).as_line())
    write_lines(copy, objs)
    if tamper == "truncate":
        copy.write_bytes(copy.read_bytes()[:-40])
    v = check(engine, copy)
    assert not v.ok
    assert (v.fault, v.copy_line) == (fault, line), v.problem
    assert check(engine).ok  # the database itself is intact


def test_a_copy_taken_earlier_still_verifies_what_it_saw(engine: Engine, notary: Notary, copy: Path) -> None:
    append(notary, engine, "urn:uuid:after-the-copy")
    v = check(engine, copy)
    assert v.ok and (v.records, v.checkpoints, v.copied) == (10, 4, 3)


def test_a_checkpoint_deleted_from_the_end_of_the_database_is_seen_in_the_copy(
    engine: Engine, notary: Notary, copy: Path
) -> None:
    with engine.begin() as conn:
        conn.execute(delete(checkpoints).where(checkpoints.c.seq == 9))
    v = check(engine, copy)
    assert (v.ok, v.fault, v.checkpoint, v.copy_line) == (False, "checkpoint_deleted", 9, 4)


# --- the key ---------------------------------------------------------------------------------------------
def test_a_missing_key_file_is_an_error_naming_it_and_no_key_is_made(engine: Engine, notary: Notary) -> None:
    notary.key_file.unlink()
    with pytest.raises(SigningKeyError) as exc:
        Notary.open(engine, notary.key_file)
    assert str(notary.key_file) in str(exc.value) and key_id(notary.key) in str(exc.value)
    assert not notary.key_file.exists()


def test_a_changed_key_file_is_an_error_and_nothing_is_written(engine: Engine, notary: Notary) -> None:
    notary.key_file.unlink()
    create_key(notary.key_file)
    other = Notary.open(engine, notary.key_file)
    with pytest.raises(SigningKeyError) as exc:
        append(other, engine, "urn:uuid:under-another-key")
    assert str(notary.key_file) in str(exc.value) and "oretrail signing rotate" in str(exc.value)
    with engine.connect() as conn:
        assert head(conn)[0] == 9 and len(stored(conn)) == 3


def test_a_key_is_made_only_for_the_first_capture_into_an_empty_ledger(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "first.key"
    first = Notary.open(engine, path)
    assert first.created and path.stat().st_mode & 0o777 == 0o600
    append(first, engine, "urn:uuid:one")
    again = Notary.open(engine, path)
    assert not again.created and key_id(again.key) == key_id(first.key)
    path.unlink()
    with pytest.raises(SigningKeyError):
        Notary.open(engine, path)
    with engine.begin() as conn:  # a ledger with records but no key recorded (older databases)
        conn.execute(delete(signing_keys))
    with pytest.raises(SigningKeyError) as exc:
        Notary.open(engine, path)
    assert "oretrail signing init" in str(exc.value)


def test_rotation_is_a_signed_hand_over_that_verify_follows(
    engine: Engine, notary: Notary, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = public_hex(notary.key)
    append(notary, engine, "urn:uuid:before")  # checkpoint 10 by the first key
    rec = rotate(engine, notary.key_file, notary.checkpoint_file)
    assert rec.previous == key_id(notary.key) and rec.since_seq == 10
    assert not notary.key_file.with_name(notary.key_file.name + ".next").exists()
    second = Notary.open(engine, notary.key_file)
    assert key_id(second.key) == rec.key_id
    append(second, engine, "urn:uuid:after")  # checkpoint 11 by the second key
    with engine.connect() as conn:
        signers = [c.key_id for c in stored(conn)]
    assert signers == [key_id(notary.key)] * 4 + [rec.key_id]
    assert notary.checkpoint_file is not None
    for trusted in (first, rec.public_key):
        v = check(engine, notary.checkpoint_file, trusted)
        assert v.ok and v.checkpoints == 5 and v.copied == 5, v.problem
    assert check(engine, copy, first).ok  # the copy taken before the rotation too
    # The old key can no longer sign:
    with pytest.raises(SigningKeyError):
        append(notary, engine, "urn:uuid:old-key")
    # A hand-over its predecessor did not sign is named:
    with engine.begin() as conn:
        conn.execute(update(signing_keys).where(signing_keys.c.key_id == rec.key_id).values(handover="00" * 64))
    v = check(engine, None, first)
    assert (v.ok, v.fault) == (False, "handover"), v.problem


def test_a_checkpoint_by_a_key_outside_the_chain_is_named(engine: Engine, notary: Notary, tmp_path: Path) -> None:
    intruder = create_key(tmp_path / "intruder.pem")
    with engine.begin() as conn:
        LedgerWriter(conn).append([Pending.of("event", "urn:uuid:x", {"x": 1})])
        sign_head(conn, intruder)
    v = check(engine)
    assert (v.ok, v.fault, v.checkpoint) == (False, "unknown_key", 10)


def test_the_verdict_reads_in_chinese(engine: Engine, notary: Notary) -> None:
    with engine.begin() as conn:
        conn.execute(delete(ledger).where(ledger.c.seq == 5))
    v = check(engine)
    zh = v.message("zh")
    assert "5" in zh and zh != v.message("en") and any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert v.as_dict("zh")["problem"] != v.as_dict("en")["problem"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ledger)).scalar_one() == 8
