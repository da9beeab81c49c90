"""Walking the ledger, its checkpoints and the copies of them kept outside the database, to name the first
thing that is not as written.

Each fault has a kind (`fault`), the record it shows at (`first_bad_seq`) and, where one is involved, the
checkpoint (`checkpoint`) and the line of the copy (`copy_line`), so a report can say what was done where:

| fault | what was done |
| --- | --- |
| altered | a record's body changed (its digest no longer matches) |
| removed / reordered | a record deleted, or records duplicated or swapped (the sequence breaks) |
| chain | a record inserted, or altered with its digest fixed (the hash chain breaks there) |
| rewritten | records rewritten with every hash recomputed: a signed head no longer matches |
| truncated | records removed from the end: a checkpoint signs a head the ledger no longer reaches |
| unsigned | records appended after the last checkpoint (a valid hash without a signature) |
| bad_signature | a checkpoint altered or forged |
| unknown_key | a checkpoint signed by a key that no trusted key handed over to |
| handover | a key that claims to take over without its predecessor's signature |
| root | the copy and the database start from different keys |
| checkpoint_deleted / checkpoint_gap | checkpoint rows deleted (seen in the copy, or from the chain of checkpoints) |
| copy_malformed / copy_order | a line of the copy cut short, altered into nonsense, inserted or moved |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from oretrail.i18n.message import Message, Said
from oretrail.ledger.canonical import sha256_hex
from oretrail.ledger.chain import GENESIS, link_hash
from oretrail.ledger.checkpoints import Checkpoint, stored
from oretrail.ledger.keys import KeyRecord, key_id, recorded
from oretrail.ledger.store import records
from oretrail.ledger.witness import read_copy

OK = Message("verify.ok", "ledger intact: {records} records, {checkpoints} signed checkpoints verified")
OK_COPY = Message(
    "verify.ok.copy",
    "ledger intact: {records} records, {checkpoints} signed checkpoints verified, {copied} of them against "
    "the copy {path}",
)
TAMPERED = Message("verify.tampered", "ledger TAMPERED at record {seq}: {problem}")
IN_DB = Message("verify.where.database", "in the database")
IN_COPY = Message("verify.where.copy", "line {line} of the copy")
SAY = {
    "altered": Message("verify.altered", "{kind} {key}: body altered (digest mismatch)"),
    "removed": Message("verify.removed", "sequence jumps to {next}: record(s) removed"),
    "reordered": Message("verify.reordered", "sequence goes back to {next}: record(s) duplicated or reordered"),
    "chain": Message("verify.chain", "{kind} {key}: chain hash mismatch (record inserted, altered or reordered)"),
    "rewritten": Message(
        "verify.rewritten",
        "checkpoint {checkpoint} ({where}) signed head {signed}… but the ledger now gives {found}…: history "
        "rewritten after checkpoint {prev}",
    ),
    "truncated": Message(
        "verify.truncated",
        "checkpoint {checkpoint} ({where}) signs the head at record {checkpoint} but the ledger ends at "
        "{records}: records removed",
    ),
    "unsigned": Message(
        "verify.unsigned",
        "records {seq} to {last} come after the last signed checkpoint ({checkpoint}): appended without a signature",
    ),
    "bad_signature": Message(
        "verify.bad_signature", "checkpoint {checkpoint} ({where}) has an invalid signature: altered or forged"
    ),
    "unknown_key": Message(
        "verify.unknown_key",
        "checkpoint {checkpoint} ({where}) is signed by an unknown key {key}…, which no trusted key handed over to",
    ),
    "handover": Message(
        "verify.handover",
        "key {key}… claims to take over from key {previous}…, which did not sign the hand-over: forged",
    ),
    "root": Message(
        "verify.root",
        "the copy starts from key {copy}… but the database from key {database}…: the chain of keys was replaced",
    ),
    "checkpoint_deleted": Message(
        "verify.checkpoint_deleted",
        "checkpoint {checkpoint} (line {line} of the copy) is missing from the database: deleted",
    ),
    "checkpoint_gap": Message(
        "verify.checkpoint_gap",
        "checkpoint {checkpoint} ({where}) follows checkpoint {prev}, which is missing there: deleted",
    ),
    "copy_malformed": Message(
        "verify.copy_malformed", "line {line} of the copy {path} is not a checkpoint: cut short or altered"
    ),
    "copy_order": Message(
        "verify.copy_order",
        "line {line} of the copy {path} holds checkpoint {checkpoint} after checkpoint {prev}: lines inserted "
        "or reordered",
    ),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    records: int
    checkpoints: int
    first_bad_seq: int | None = None
    fault: str | None = None
    checkpoint: int | None = None
    copy_line: int | None = None
    copied: int = 0  # checkpoints of the copy matched
    said: Said | None = field(default=None, compare=False)

    @property
    def problem(self) -> str | None:
        return None if self.said is None else self.said.render("en")

    def message(self, lang: str = "en") -> str:
        if self.ok:
            return (self.said or OK(records=self.records, checkpoints=self.checkpoints)).render(lang)
        return TAMPERED.render(lang, seq=self.first_bad_seq, problem=self.said.render(lang) if self.said else "")

    def __str__(self) -> str:
        return self.message("en")

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "first_bad_seq": self.first_bad_seq,
            "fault": self.fault,
            "checkpoint": self.checkpoint,
            "copy_line": self.copy_line,
            "copied": self.copied,
            "problem": None if self.ok or self.said is None else self.said.render(lang),
        }


class _Fault(Exception):
    def __init__(self, fault: str, seq: int | None, checkpoint: int | None = None, line: int | None = None,
                 **params: Any) -> None:  # fmt: skip
        super().__init__(fault)
        self.fault, self.seq, self.checkpoint, self.line = fault, seq, checkpoint, line
        self.said = SAY[fault](seq=seq, checkpoint=checkpoint, line=line, **params)


@dataclass
class _Copy:
    path: Path
    keys: list[KeyRecord] = field(default_factory=list)
    marks: dict[int, tuple[int, Checkpoint]] = field(default_factory=dict)  # seq -> (line, checkpoint)


def _where(line: int | None) -> Said:
    return IN_DB() if line is None else IN_COPY(line=line)


def _read_copy(path: Path) -> _Copy:
    """The copy's key and checkpoint lines; its own order and chain of checkpoints checked as it is read."""
    copy = _Copy(path)
    prev = None
    for line, raw in read_copy(path):
        try:
            obj = orjson.loads(raw)
            if obj.get("type") == "key":
                copy.keys.append(KeyRecord.from_line(obj))
                continue
            if obj.get("type") != "checkpoint":
                raise ValueError(obj.get("type"))
            cp = Checkpoint.from_line(obj)
        except (orjson.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError):
            raise _Fault("copy_malformed", prev.seq + 1 if prev else 1, line=line, path=str(path)) from None
        if prev is not None and cp.seq <= prev.seq:
            raise _Fault("copy_order", cp.seq, cp.seq, line, prev=prev.seq, path=str(path))
        copy.marks[cp.seq] = (line, cp)
        prev = cp
    return copy


def _trusted_keys(db: list[KeyRecord], copy: _Copy | None, trusted: str | None) -> list[KeyRecord] | None:
    """The chain of keys that may sign, in order, each handed over to by the one before (None: no key recorded,
    so each checkpoint is checked against its own key, or the trusted one, as before migration 0017). A trusted
    key anywhere in the chain vouches for the whole of it: its own record names the key it took over from."""
    by_id = {k.key_id: k for k in db}
    for k in copy.keys if copy else []:
        by_id.setdefault(k.key_id, k)
    if copy and copy.keys and db and copy.keys[0].key_id != db[0].key_id:
        raise _Fault("root", 1, copy=copy.keys[0].key_id[:16], database=db[0].key_id[:16])
    chain = sorted(by_id.values(), key=lambda k: (k.since_seq, k.created_at))
    if not chain:
        return None
    out = [chain[0]]
    for k in chain[1:]:
        if k.previous != out[-1].key_id or not k.handed_over_by(out[-1].public_key):
            raise _Fault("handover", k.since_seq + 1, key=k.key_id[:16], previous=(k.previous or "-")[:16])
        out.append(k)
    if trusted is not None and trusted not in {k.public_key for k in out}:
        return []  # the officer's key is not in the chain: no checkpoint is signed by a key they trust
    return out


def _check_mark(cp: Checkpoint, line: int | None, keys: list[KeyRecord] | None, trusted: str | None) -> None:
    where = _where(line)
    if trusted and keys is None and cp.public_key != trusted:
        raise _Fault("unknown_key", cp.seq, cp.seq, line, where=where, key=cp.public_key[:16])
    if keys is not None:
        signer = cp.key_id or key_id(cp.public_key)
        valid = [
            k
            for i, k in enumerate(keys)
            if k.key_id == signer
            and (i == 0 or cp.seq > k.since_seq)
            and (i + 1 == len(keys) or cp.seq <= keys[i + 1].since_seq)
        ]
        if not valid:
            raise _Fault("unknown_key", cp.seq, cp.seq, line, where=where, key=cp.public_key[:16])
    if not cp.signature_holds():
        raise _Fault("bad_signature", cp.seq, cp.seq, line, where=where)


def _check_chain_of_marks(marks: list[tuple[int | None, Checkpoint]]) -> None:
    """Each checkpoint names the one before it (from migration 0017 on): a gap is a deleted checkpoint."""
    prev = 0
    for line, cp in marks:
        if cp.prev_seq is not None and cp.prev_seq != prev and cp.prev_seq > 0:
            raise _Fault("checkpoint_gap", cp.seq, cp.seq, line, where=_where(line), prev=cp.prev_seq)
        prev = cp.seq


def verify(conn: Connection, trusted_public_key: str | None = None, copy_path: Path | None = None) -> Verdict:
    """Recompute digests and the chain; check every signed checkpoint, in the database and in the copy at
    `copy_path`, against the recomputed chain and the chain of keys.

    `trusted_public_key` (hex) is the key officers hold (the first, or any later one handed over to); without
    it the chain of keys starts at the first key recorded (the copy's, when a copy is given).
    """
    db_marks = stored(conn)
    n = 0
    copy: _Copy | None = None
    try:
        copy = _read_copy(copy_path) if copy_path is not None else None
        keys = _trusted_keys(recorded(conn), copy, trusted_public_key)
        for cp in db_marks:
            _check_mark(cp, None, keys, trusted_public_key)
        _check_chain_of_marks([(None, cp) for cp in db_marks])
        copied = sorted((copy.marks if copy else {}).items())
        for _, (line, cp) in copied:
            _check_mark(cp, line, keys, trusted_public_key)
        _check_chain_of_marks([(line, cp) for _, (line, cp) in copied])
        n = _walk(conn, db_marks, copy)
        _check_ends(n, db_marks, copy)
    except _Fault as f:
        seq = f.seq if f.seq is not None else n + 1
        good = n or max(0, seq - 1)  # records verified before the fault, when the walk stopped at it
        return Verdict(False, good, len(db_marks), seq, f.fault, f.checkpoint, f.line, said=f.said)
    if copy is None:
        return Verdict(True, n, len(db_marks))
    said = OK_COPY(records=n, checkpoints=len(db_marks), copied=len(copy.marks), path=str(copy.path))
    return Verdict(True, n, len(db_marks), copied=len(copy.marks), said=said)


def _walk(conn: Connection, db_marks: list[Checkpoint], copy: _Copy | None) -> int:
    """Recompute the chain; at each signed head (the database's and the copy's), compare. Returns the count."""
    heads: dict[int, list[tuple[int | None, Checkpoint]]] = {}
    for cp in db_marks:
        heads.setdefault(cp.seq, []).append((None, cp))
    for seq, (at, mark) in (copy.marks if copy else {}).items():
        heads.setdefault(seq, []).append((at, mark))
    prev, expected, last_mark = GENESIS, 1, 0
    for rec in records(conn):
        if rec.seq != expected:
            raise _Fault("removed" if rec.seq > expected else "reordered", expected, next=rec.seq)
        if sha256_hex(rec.body) != rec.digest:
            raise _Fault("altered", rec.seq, kind=rec.kind, key=rec.key)
        h = link_hash(prev, rec.seq, rec.kind, rec.key, rec.digest, rec.recorded_at)
        if h != rec.hash:
            raise _Fault("chain", rec.seq, kind=rec.kind, key=rec.key)
        for line, cp in heads.get(rec.seq, ()):
            if cp.head_hash != h:
                raise _Fault(
                    "rewritten", cp.seq, cp.seq, line, where=_where(line), signed=cp.head_hash[:16],
                    found=h[:16], prev=last_mark,
                )  # fmt: skip
        if rec.seq in heads:
            last_mark = rec.seq
        prev, expected = h, expected + 1
    return expected - 1


def _check_ends(n: int, db_marks: list[Checkpoint], copy: _Copy | None) -> None:
    marks: list[tuple[int | None, Checkpoint]] = [(None, cp) for cp in db_marks]
    marks += list((copy.marks if copy else {}).values())
    beyond = sorted((cp.seq, line is not None, line) for line, cp in marks if cp.seq > n)
    if beyond:
        seq, _, line = beyond[0]
        raise _Fault("truncated", n + 1, seq, line, where=_where(line), records=n)
    in_db = {cp.seq for cp in db_marks}
    for seq, (line, _) in sorted((copy.marks if copy else {}).items()):
        if seq not in in_db:
            raise _Fault("checkpoint_deleted", seq, seq, line)
    last = max((cp.seq for _, cp in marks), default=0)
    if marks and n > last:
        raise _Fault("unsigned", last + 1, last, last=n)
