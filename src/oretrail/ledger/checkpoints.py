"""Signed checkpoints of the ledger head (the idea of Certificate Transparency's signed tree heads).

A hash chain alone only proves that records agree with each other: whoever can rewrite the table can
recompute every hash. A head hash signed with the platform's Ed25519 key, whose public half officers
hold, cannot be recomputed that way.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import URL, Connection, insert, make_url, select

from oretrail.clock import utcnow
from oretrail.ledger.canonical import canonical
from oretrail.ledger.store import head
from oretrail.storage.engine import database_url
from oretrail.storage.schema import checkpoints

KEY_ENV = "ORETRAIL_SIGNING_KEY"
LEGACY_KEY_FILE = "oretrail-signing.key"
"""Where earlier versions kept the key: the working folder, where `git add .` would commit it."""


class SigningKeyError(ValueError):
    """The platform key cannot be used as found; the message says which file and what to do."""


def data_dir() -> Path:
    """The user's data folder for oretrail (XDG: `$XDG_DATA_HOME/oretrail`, else `~/.local/share/oretrail`)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "oretrail"


def key_path(path: str | Path | None = None, database: str | URL | None = None) -> Path:
    """Where the platform key of `database` lives: `path`, else `ORETRAIL_SIGNING_KEY`, else beside a SQLite
    database file (`<file>.signing.key`), else in the user's data folder, one file per server database.

    The key belongs to the database it signs, and never by default to the working folder, which is often a
    source checkout.
    """
    chosen = path or os.environ.get(KEY_ENV)
    if chosen:
        return Path(chosen)
    url = make_url(database or database_url())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        file = Path(url.database)
        return file.with_name(file.name + ".signing.key")
    if url.get_backend_name() == "sqlite":
        return data_dir() / "signing.key"
    where = f"{url.get_backend_name()}-{url.host or 'localhost'}-{url.port or 'default'}-{url.database or ''}"
    return data_dir() / (re.sub(r"[^A-Za-z0-9._-]", "_", where) + ".signing.key")


def load_or_create_key(path: str | Path | None = None, database: str | URL | None = None) -> Ed25519PrivateKey:
    """The platform key (see `key_path`): created once with mode 0600, then always reused.

    A key left in the working folder by an older version is not silently replaced by a new one, since
    officers may hold its public half: SigningKeyError says where to move it.
    """
    p = key_path(path, database)
    if p.exists():
        key = serialization.load_pem_private_key(p.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{p} does not hold an Ed25519 private key")
        return key
    legacy = Path(LEGACY_KEY_FILE)
    if not (path or os.environ.get(KEY_ENV)) and legacy.exists():
        raise SigningKeyError(
            f"{legacy.resolve()} holds the signing key of an older oretrail, which kept it in the working folder; "
            f"this database's key now lives at {p}: move it there (mv {legacy} {p}), "
            f"or set {KEY_ENV}={legacy.resolve()} to keep using it where it is"
        )
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
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
