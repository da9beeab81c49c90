"""Signed checkpoints of the ledger head (the idea of Certificate Transparency's signed tree heads).

A hash chain alone only proves that records agree with each other: whoever can rewrite the table can
recompute every hash. A head hash signed with the platform's Ed25519 key, whose public half officers hold,
cannot be recomputed that way. Each checkpoint also names its key and the checkpoint before it, under the
signature: a checkpoint row deleted from the middle breaks that second chain, and one deleted from the end
is missed only until it is compared with the copies kept outside the database (ledger/witness.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, func, insert, select

from oretrail.clock import utcnow
from oretrail.ledger.canonical import canonical
from oretrail.ledger.keys import key_id, public_hex
from oretrail.ledger.store import head
from oretrail.storage.schema import checkpoints


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    head_hash: str
    signed_at: datetime
    public_key: str
    signature: str
    key_id: str | None = None  # None: signed before migration 0017, by the older message
    prev_seq: int | None = None

    def message(self) -> bytes:
        if self.key_id is None:
            return canonical({"seq": self.seq, "head_hash": self.head_hash, "signed_at": self.signed_at.isoformat()})
        return canonical(
            {
                "seq": self.seq,
                "head_hash": self.head_hash,
                "signed_at": self.signed_at.isoformat(),
                "key_id": self.key_id,
                "prev_seq": self.prev_seq,
            }
        )

    def signature_holds(self) -> bool:
        """The signature is the named public key's over this checkpoint, and the named key is that key."""
        if self.key_id is not None and self.key_id != key_id(self.public_key):
            return False
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key)).verify(
                bytes.fromhex(self.signature), self.message()
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_line(self) -> dict[str, Any]:
        return {
            "type": "checkpoint",
            "seq": self.seq,
            "head_hash": self.head_hash,
            "signed_at": self.signed_at.isoformat(),
            "key_id": self.key_id,
            "prev_seq": self.prev_seq,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    @classmethod
    def from_line(cls, obj: dict[str, Any]) -> Checkpoint:
        return cls(
            int(obj["seq"]),
            str(obj["head_hash"]),
            datetime.fromisoformat(str(obj["signed_at"])),
            str(obj["public_key"]),
            str(obj["signature"]),
            None if obj.get("key_id") is None else str(obj["key_id"]),
            None if obj.get("prev_seq") is None else int(obj["prev_seq"]),
        )


def stored(conn: Connection, after: int = 0) -> list[Checkpoint]:
    rows = conn.execute(select(checkpoints).where(checkpoints.c.seq > after).order_by(checkpoints.c.seq))
    return [Checkpoint(r.seq, r.head_hash, r.signed_at, r.public_key, r.signature, r.key_id, r.prev_seq) for r in rows]


def sign_head(conn: Connection, key: Ed25519PrivateKey) -> Checkpoint | None:
    """Sign the current head unless it is signed already; returns the new checkpoint (None: nothing new)."""
    seq, head_hash = head(conn)
    last = conn.execute(select(func.max(checkpoints.c.seq))).scalar() or 0
    if seq == 0 or last >= seq:
        return None
    at = utcnow()
    unsigned = Checkpoint(seq, head_hash, at, public_hex(key), "", key_id(key), last)
    cp = replace(unsigned, signature=key.sign(unsigned.message()).hex())
    conn.execute(
        insert(checkpoints).values(
            seq=cp.seq,
            head_hash=cp.head_hash,
            signed_at=cp.signed_at,
            public_key=cp.public_key,
            signature=cp.signature,
            key_id=cp.key_id,
            prev_seq=cp.prev_seq,
        )
    )
    return cp
