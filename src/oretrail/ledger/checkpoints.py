"""Signed checkpoints of the ledger head (the idea of Certificate Transparency's signed tree heads).

A hash chain alone only proves that records agree with each other: whoever can rewrite the table can
recompute every hash. A head hash signed with the platform's Ed25519 key, whose public half officers
hold, cannot be recomputed that way.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, insert, select

from oretrail.ledger.canonical import canonical
from oretrail.ledger.store import head, utcnow
from oretrail.storage.schema import checkpoints

DEFAULT_KEY_FILE = "oretrail-signing.key"


def key_path(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("ORETRAIL_SIGNING_KEY") or DEFAULT_KEY_FILE)


def load_or_create_key(path: str | Path | None = None) -> Ed25519PrivateKey:
    """The platform key: created once (mode 0600), then always reused."""
    p = key_path(path)
    if p.exists():
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{p} does not hold an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def signed_message(seq: int, head_hash: str, signed_at: datetime) -> bytes:
    return canonical({"seq": seq, "head_hash": head_hash, "signed_at": signed_at.isoformat()})


def sign_head(conn: Connection, key: Ed25519PrivateKey) -> int | None:
    """Sign the current head unless it is already signed; returns the signed sequence number."""
    seq, head_hash = head(conn)
    if seq == 0:
        return None
    if conn.execute(select(checkpoints.c.seq).where(checkpoints.c.seq == seq)).first():
        return seq
    at = utcnow()
    conn.execute(
        insert(checkpoints).values(
            seq=seq,
            head_hash=head_hash,
            signed_at=at,
            public_key=public_hex(key),
            signature=key.sign(signed_message(seq, head_hash, at)).hex(),
        )
    )
    return seq
