"""Walking the ledger to find the first record that is not what was written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Row, select

from oretrail.i18n.message import Message, Said
from oretrail.ledger.canonical import sha256_hex
from oretrail.ledger.chain import GENESIS, link_hash
from oretrail.ledger.checkpoints import signed_message
from oretrail.ledger.store import records
from oretrail.storage.schema import checkpoints

INTACT = Message("verify.intact", "ledger intact: {records} records, {checkpoints} signed checkpoints verified")
TAMPERED = Message("verify.tampered", "ledger TAMPERED at record {seq}: {problem}")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    records: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        return self.said().render("en")

    def said(self) -> Said:
        if self.ok:
            return INTACT(records=self.records, checkpoints=self.checkpoints)
        return TAMPERED(seq=self.first_bad_seq, problem=self.problem)


def verify(conn: Connection, trusted_public_key: str | None = None) -> Verdict:
    """Recompute digests and the chain; check every signed checkpoint against the recomputed chain.

    `trusted_public_key` (hex) is the key officers hold; without it, checkpoints are checked against the
    key stored beside them, which still catches a rewrite that kept the old signatures.
    """
    marks = {r.seq: r for r in conn.execute(select(checkpoints).order_by(checkpoints.c.seq))}
    prev, expected_seq, n, seen_marks = GENESIS, 1, 0, 0
    for rec in records(conn):
        if rec.seq != expected_seq:
            kind = "removed" if rec.seq > expected_seq else "duplicated or reordered"
            return Verdict(False, n, seen_marks, expected_seq, f"sequence jumps to {rec.seq}: record(s) {kind}")
        if sha256_hex(rec.body) != rec.digest:
            return Verdict(False, n, seen_marks, rec.seq, f"{rec.kind} {rec.key}: body altered (digest mismatch)")
        h = link_hash(prev, rec.seq, rec.kind, rec.key, rec.digest, rec.recorded_at)
        if h != rec.hash:
            return Verdict(
                False,
                n,
                seen_marks,
                rec.seq,
                f"{rec.kind} {rec.key}: chain hash mismatch (record inserted, altered or reordered)",
            )
        mark = marks.get(rec.seq)
        if mark is not None:
            problem = _check_mark(mark, h, trusted_public_key)
            if problem:
                return Verdict(False, n, seen_marks, rec.seq, problem)
            seen_marks += 1
        prev, expected_seq, n = h, expected_seq + 1, n + 1
    beyond = [s for s in marks if s >= expected_seq]
    if beyond:
        return Verdict(
            False,
            n,
            seen_marks,
            expected_seq,
            f"signed checkpoint at {min(beyond)} but the ledger ends at {n}: records removed",
        )
    return Verdict(True, n, seen_marks)


def _check_mark(mark: Row[Any], recomputed: str, trusted: str | None) -> str | None:
    seq, head_hash, signed_at, pub, sig = (
        mark.seq,
        mark.head_hash,
        mark.signed_at,
        mark.public_key,
        mark.signature,
    )
    if trusted and pub != trusted:
        return f"checkpoint {seq} is signed by an unknown key {pub[:16]}…"
    if head_hash != recomputed:
        return (
            f"checkpoint {seq} signed head {head_hash[:16]}… but the ledger now gives {recomputed[:16]}…: "
            "history rewritten"
        )
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub)).verify(
            bytes.fromhex(sig), signed_message(seq, head_hash, signed_at)
        )
    except (InvalidSignature, ValueError):
        return f"checkpoint {seq} has an invalid signature"
    return None
