"""The platform's signing key: where it lives, its identity, and the chain of hand-overs from one key to the next.

A signature proves something only to whoever knows which key to expect. So the key's identity (`key_id`,
the SHA-256 of its raw public key) is recorded in the database the first time it signs and in every
checkpoint, and a key file that is missing or holds another key is an error naming the file: a new key made
in silence would sign a rewritten history as readily as the true one. The one exception is the very first
capture into an empty ledger with no key recorded, where there is nothing yet for a key to vouch for
(`oretrail signing init` makes the key explicitly beforehand). A key is replaced only by a hand-over
(`oretrail signing rotate`): the old key signs the new public key, and verify follows the chain.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import URL, Connection, Engine, insert, make_url, select

from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.ledger.canonical import canonical
from oretrail.ledger.store import head
from oretrail.secretfiles import SecretFileError, read_secret, write_secret
from oretrail.storage.engine import database_url
from oretrail.storage.schema import signing_keys

KEY_ENV = "ORETRAIL_SIGNING_KEY"
LEGACY_KEY_FILE = "oretrail-signing.key"
"""Where earlier versions kept the key: the working folder, where `git add .` would commit it."""
WHAT = Message("secret.what.signing", "the ledger's signing key")

MISSING = Message(
    "signing.missing",
    "signing key file {path} is missing, and the database's ledger is signed by key {key_id}: restore the file "
    "from its backup (or point ORETRAIL_SIGNING_KEY at it); a new key is never made for a ledger in use",
)
MISSING_UNRECORDED = Message(
    "signing.missing_unrecorded",
    "signing key file {path} is missing and the ledger already holds {records} record(s): make the key "
    "explicitly with `oretrail signing init`, or restore the file (or point ORETRAIL_SIGNING_KEY at it)",
)
CHANGED = Message(
    "signing.changed",
    "signing key file {path} holds key {found}, but the database's ledger is signed by key {expected} since "
    "record {since}: restore the right file; a new key takes over only by `oretrail signing rotate`",
)
NOT_ED25519 = Message("signing.not_ed25519", "{path} does not hold an Ed25519 private key")
EXISTS = Message("signing.exists", "{path} already exists: a key is never replaced (`oretrail signing rotate`)")
LEGACY = Message(
    "signing.legacy",
    "{legacy} holds the signing key of an older oretrail, which kept it in the working folder; this database's "
    "key now lives at {path}: move it there (mv {legacy} {path}), or set ORETRAIL_SIGNING_KEY={legacy} to keep "
    "using it where it is",
)
ALREADY = Message(
    "signing.already_recorded",
    "the database already records signing key {key_id}: `oretrail signing init` only makes the first key",
)


class SigningKeyError(ValueError):
    """The platform key cannot be used as found; `said` names the file and what to do, in either language."""

    def __init__(self, said: Said) -> None:
        super().__init__(said.render("en"))
        self.said = said


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


def public_hex(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey | str) -> str:
    """The key's identity: SHA-256 of its 32 raw public bytes, hex (what officers compare by eye, in part)."""
    raw = bytes.fromhex(key) if isinstance(key, str) else bytes.fromhex(public_hex(key))
    return hashlib.sha256(raw).hexdigest()


def create_key(path: Path) -> Ed25519PrivateKey:
    """A new key written to `path` (mode 0600); never over an existing file."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    try:
        write_secret(path, pem)
    except FileExistsError:
        raise SigningKeyError(EXISTS(path=str(path))) from None
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    """The key in `path`: refused when missing, readable by group or others, or not an Ed25519 key."""
    try:
        data = read_secret(path, WHAT())
    except SecretFileError as exc:
        raise SigningKeyError(exc.said) from None
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(NOT_ED25519(path=str(path)))
    return key


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One key of the chain: the first has no `previous`; each later one carries the previous key's signature."""

    key_id: str
    public_key: str
    since_seq: int
    created_at: datetime
    previous: str | None = None
    handover: str | None = None

    def message(self) -> bytes:
        """What the previous key signs to hand over: the new key's identity and public half, and from when."""
        return canonical(
            {
                "handover": {
                    "from": self.previous,
                    "to": self.key_id,
                    "public_key": self.public_key,
                    "since_seq": self.since_seq,
                    "at": self.created_at.isoformat(),
                }
            }
        )

    def handed_over_by(self, previous_public: str) -> bool:
        if self.handover is None:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(previous_public)).verify(
                bytes.fromhex(self.handover), self.message()
            )
        except (InvalidSignature, ValueError):
            return False
        return True

    def as_line(self) -> dict[str, object]:
        return {
            "type": "key",
            "key_id": self.key_id,
            "public_key": self.public_key,
            "since_seq": self.since_seq,
            "created_at": self.created_at.isoformat(),
            "previous": self.previous,
            "handover": self.handover,
        }

    @classmethod
    def from_line(cls, obj: dict[str, object]) -> KeyRecord:
        return cls(
            str(obj["key_id"]),
            str(obj["public_key"]),
            int(obj["since_seq"]),  # type: ignore[call-overload]
            datetime.fromisoformat(str(obj["created_at"])),
            None if obj.get("previous") is None else str(obj["previous"]),
            None if obj.get("handover") is None else str(obj["handover"]),
        )


def recorded(conn: Connection) -> list[KeyRecord]:
    """The chain of keys the database records, oldest first."""
    rows = conn.execute(select(signing_keys).order_by(signing_keys.c.since_seq, signing_keys.c.created_at))
    return [KeyRecord(r.key_id, r.public_key, r.since_seq, r.created_at, r.previous, r.handover) for r in rows]


def _insert(conn: Connection, rec: KeyRecord) -> KeyRecord:
    conn.execute(
        insert(signing_keys).values(
            key_id=rec.key_id,
            public_key=rec.public_key,
            since_seq=rec.since_seq,
            created_at=rec.created_at,
            previous=rec.previous,
            handover=rec.handover,
        )
    )
    return rec


def register_first(conn: Connection, key: Ed25519PrivateKey) -> KeyRecord:
    """Record `key` as the ledger's first key; SigningKeyError when one is recorded already."""
    chain = recorded(conn)
    if chain:
        raise SigningKeyError(ALREADY(key_id=chain[-1].key_id))
    return _insert(conn, KeyRecord(key_id(key), public_hex(key), 0, utcnow()))


def hand_over(conn: Connection, old: Ed25519PrivateKey, new: Ed25519PrivateKey, path: Path) -> KeyRecord:
    """Record `new` as the key from the current head on, signed over by `old`, which must be the current key."""
    current = expect(conn, old, path)
    unsigned = KeyRecord(key_id(new), public_hex(new), head(conn)[0], utcnow(), current.key_id)
    signed = replace(unsigned, handover=old.sign(unsigned.message()).hex())
    return _insert(conn, signed)


def expect(conn: Connection, key: Ed25519PrivateKey, path: Path) -> KeyRecord:
    """The current key record, which must be `key` (read from `path`); the first key is recorded here."""
    chain = recorded(conn)
    if not chain:
        return register_first(conn, key)
    current = chain[-1]
    mine = key_id(key)
    if current.key_id != mine:
        raise SigningKeyError(CHANGED(path=str(path), found=mine, expected=current.key_id, since=current.since_seq))
    return current


def open_key(engine: Engine, path: str | Path | None = None) -> tuple[Ed25519PrivateKey, Path, bool]:
    """The key that signs `engine`'s ledger, from its file (see `key_path`); returns it, the file, and whether
    it was made now. It is made only for an empty ledger with no key recorded (the first capture)."""
    p = key_path(path, engine.url)
    if p.exists():
        return load_key(p), p, False
    legacy = Path(LEGACY_KEY_FILE)
    if not (path or os.environ.get(KEY_ENV)) and legacy.exists():
        raise SigningKeyError(LEGACY(legacy=str(legacy.resolve()), path=str(p)))
    with engine.connect() as conn:
        chain = recorded(conn)
        records = head(conn)[0]
    if chain:
        raise SigningKeyError(MISSING(path=str(p), key_id=chain[-1].key_id))
    if records:
        raise SigningKeyError(MISSING_UNRECORDED(path=str(p), records=records))
    try:
        return create_key(p), p, True
    except SigningKeyError:
        return load_key(p), p, False  # another process's first capture made it a moment ago
