"""The hash chain that links ledger records: pure functions, shared by append and verify."""

from __future__ import annotations

import hashlib
from datetime import datetime

import orjson

GENESIS = "0" * 64


def link_hash(prev_hash: str, seq: int, kind: str, key: str, digest: str, recorded_at: datetime) -> str:
    """SHA-256(previous hash ‖ canonical record header); the header commits to the body through its digest.

    Putting `seq` inside the hashed header is what makes a removed, inserted or reordered record break
    the chain at exactly that place. The header is the RFC 8785 form of {digest, key, kind, recorded_at, seq}:
    its names are written here in sorted order and its values are strings and one integer below 2**53, which
    orjson writes byte for byte as RFC 8785 does, so no canonicalising pass is needed (a test holds the two equal).
    """
    header = {"digest": digest, "key": key, "kind": kind, "recorded_at": recorded_at.isoformat(), "seq": seq}
    return hashlib.sha256(bytes.fromhex(prev_hash) + orjson.dumps(header)).hexdigest()
