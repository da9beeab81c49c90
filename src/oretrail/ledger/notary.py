"""The one way every append ends: sealed under a signed checkpoint in its own transaction, then copied out.

Every path that appends to the ledger (EPCIS capture, registry, licences, declarations, monthly reports,
supervision records) writes inside `Notary.transaction`, or calls `seal` before its commit and `witness`
after it. Sealing in the appending transaction means no committed record is ever without its checkpoint;
the outbox message (subject `oretrail.checkpoint`, when ORETRAIL_PUBLISH_CHECKPOINTS=1) is written in the
same transaction, so NATS being down never holds capture up, and the checkpoint file is written after the
commit (ledger/witness.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine

from oretrail.ledger.checkpoints import Checkpoint, sign_head
from oretrail.ledger.keys import (
    KeyRecord,
    SigningKeyError,
    create_key,
    expect,
    hand_over,
    key_path,
    load_key,
    open_key,
    recorded,
    register_first,
)
from oretrail.ledger.store import lock
from oretrail.ledger.witness import witness, witness_path
from oretrail.notify import subjects
from oretrail.notify.outbox import Message, enqueue

PUBLISH_ENV = "ORETRAIL_PUBLISH_CHECKPOINTS"


@dataclass
class Notary:
    key: Ed25519PrivateKey
    key_file: Path
    checkpoint_file: Path | None
    created: bool = False  # the key was made by this process (first capture into an empty ledger)
    # Checkpoints go to the outbox (and so to NATS, subject `oretrail.checkpoint`) when notifications of them
    # are configured: ORETRAIL_PUBLISH_CHECKPOINTS=1. Off, the outbox carries only what officers are told.
    publish: bool = field(default_factory=lambda: os.environ.get(PUBLISH_ENV, "") not in ("", "0"))

    @classmethod
    def open(
        cls, engine: Engine, key_file: str | Path | None = None, checkpoint_file: str | Path | None = None
    ) -> Notary:
        key, path, created = open_key(engine, key_file)
        return cls(key, path, witness_path(checkpoint_file, engine.url), created)

    @classmethod
    def with_key(cls, engine: Engine, key: Ed25519PrivateKey, checkpoint_file: str | Path | None = None) -> Notary:
        """A notary for a key held in memory (tests, benchmarks); its identity is still checked at each seal."""
        return cls(key, Path("(in memory)"), witness_path(checkpoint_file, engine.url))

    def seal(self, conn: Connection) -> Checkpoint | None:
        """Sign the head of the caller's transaction unless it is signed already; the key must be the one the
        database records (SigningKeyError otherwise, and the caller's transaction rolls back)."""
        lock(conn)
        expect(conn, self.key, self.key_file)
        cp = sign_head(conn, self.key)
        if cp is not None and self.publish:
            enqueue(conn, [Message(subjects.LEDGER_CHECKPOINT, subjects.CHECKPOINT, cp.as_line())])
        return cp

    def witness(self, engine: Engine) -> None:
        witness(self.checkpoint_file, engine)

    @contextmanager
    def transaction(self, engine: Engine) -> Iterator[Connection]:
        """`engine.begin()` whose commit is preceded by `seal` and followed by `witness`."""
        with engine.begin() as conn:
            yield conn
            self.seal(conn)
        self.witness(engine)


def init_key(engine: Engine, key_file: str | Path | None = None) -> KeyRecord:
    """Make the ledger's first key explicitly and record it (with the head signed, if there is one)."""
    path = key_path(key_file, engine.url)
    key = create_key(path)
    try:
        with engine.begin() as conn:
            lock(conn)
            rec = register_first(conn, key)
            Notary(key, path, None).seal(conn)
    except Exception:
        path.unlink()  # the key never signed anything: leave no file that the database does not know
        raise
    witness(witness_path(None, engine.url), engine)
    return rec


def rotate(engine: Engine, key_file: str | Path | None = None, checkpoint_file: str | Path | None = None) -> KeyRecord:
    """Hand over from the key in its file to a new one: the old key seals the head and signs the new public
    key, in one transaction; then the new key replaces the old in the file (atomically), and signs from then on.

    The new key is written first to `<file>.next`: a rotation cut short before its commit leaves it unused
    (and reused by the next attempt), one cut short after it is finished by the next `rotate`.
    """
    path = key_path(key_file, engine.url)
    old = load_key(path)
    pending = path.with_name(path.name + ".next")
    new = load_key(pending) if pending.exists() else create_key(pending)
    with engine.begin() as conn:
        lock(conn)
        try:
            expect(conn, old, path)
        except SigningKeyError:
            expect(conn, new, pending)  # the hand-over committed last time; only the file was not replaced
            rec = None
        else:
            Notary(old, path, None).seal(conn)
            rec = hand_over(conn, old, new, path)
            if Notary(old, path, None).publish:
                enqueue(conn, [Message(subjects.LEDGER_CHECKPOINT, subjects.CHECKPOINT, rec.as_line())])
    os.replace(pending, path)
    witness(witness_path(checkpoint_file, engine.url), engine)
    if rec is None:
        with engine.connect() as conn:
            rec = recorded(conn)[-1]
    return rec
