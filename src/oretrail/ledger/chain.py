"""The hash chain that links ledger records: pure functions, shared by append and verify."""

from __future__ import annotations

import hashlib
from datetime import datetime

from oretrail.ledger.canonical import canonical

GENESIS = "0" * 64


def link_hash(prev_hash: str, seq: int, kind: str, key: str, digest: str, recorded_at: datetime) -> str:
    """SHA-256(previous hash ‖ canonical record header); the header commits to the body through its digest.

    Putting `seq` inside the hashed header is what makes a removed, inserted or reordered record break
    the chain at exactly that place.
    """
    header = canonical({"seq": seq, "kind": kind, "key": key, "digest": digest, "recorded_at": recorded_at.isoformat()})
    return hashlib.sha256(bytes.fromhex(prev_hash) + header).hexdigest()
