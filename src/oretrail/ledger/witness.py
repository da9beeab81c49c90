"""The checkpoint file: every checkpoint and key hand-over, appended outside the database as it is made.

The database administrator can delete checkpoint rows along with the records they cover; a line already
copied out of their reach cannot be taken back. The file is JSON Lines, one object a line (`"type":
"checkpoint"` or `"key"`), only ever appended to, and public (it holds signatures and public keys, never a
secret): auditors copy it and run `oretrail verify --checkpoints COPY`.

Lines are written after the transaction that made them commits, under an exclusive lock on the file, by
catching up with the database from the file's last whole line: lines stay in sequence order whichever process
commits first, and a checkpoint missed by a crash between commit and write is written by the next one. A
checkpoint that never committed is never written.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import URL, Engine

from oretrail.ledger.checkpoints import Checkpoint, stored
from oretrail.ledger.keys import KeyRecord, key_path, recorded

CHECKPOINTS_ENV = "ORETRAIL_CHECKPOINTS"
_TAIL = 16384
log = logging.getLogger("oretrail.ledger")


def witness_path(path: str | Path | None = None, database: str | URL | None = None) -> Path:
    """`path`, else ORETRAIL_CHECKPOINTS, else beside the signing key: `<database>.checkpoints.jsonl`."""
    chosen = path or os.environ.get(CHECKPOINTS_ENV)
    if chosen:
        return Path(chosen)
    key = key_path(database=database)
    return key.with_name(key.name.removesuffix(".signing.key").removesuffix(".key") + ".checkpoints.jsonl")


def _last_line(fh: Any) -> dict[str, Any] | None:
    size = fh.seek(0, os.SEEK_END)
    if size == 0:
        return None
    fh.seek(max(0, size - _TAIL))
    lines = fh.read().split(b"\n")[:-1]  # a last piece without its newline is torn, not a line
    for ln in reversed(lines):
        try:
            obj = orjson.loads(ln)
        except orjson.JSONDecodeError:
            continue  # a line cut short by a crash: the next complete one before it tells where we are
        if isinstance(obj, dict):
            return obj
    return None


def catch_up(path: Path, engine: Engine) -> int:
    """Append what the database holds beyond the file's last line: keys not yet written, then checkpoints.
    Returns the number of lines written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    with os.fdopen(fd, "r+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released when the file closes
        last = _last_line(fh)
        with engine.connect() as conn:
            chain = recorded(conn)
            after = int(last["seq"]) if last and last.get("type") == "checkpoint" else _seq_before(last)
            marks = stored(conn, after)
        known = None if last is None else last.get("key_id")
        keys: list[KeyRecord] = chain
        if known is not None:
            ids = [k.key_id for k in chain]
            keys = chain[ids.index(known) + 1 :] if known in ids else []
        lines = [k.as_line() for k in keys] + [c.as_line() for c in marks]
        if not lines:
            return 0
        _drop_torn_line(fh)
        # No fsync: the database is the durable side. Lines lost with the page cache in a machine crash are
        # written again by the next catch-up, which starts from the last line the file really holds.
        fh.write(b"".join(orjson.dumps(obj) + b"\n" for obj in lines))
    return len(lines)


def _drop_torn_line(fh: Any) -> None:
    """A last line without its newline was torn by a crash mid-write: cut it off (as a write-ahead log does)
    so the line is written whole again by this catch-up, and the file stays readable to the end."""
    end = fh.seek(0, os.SEEK_END)
    if not end:
        return
    fh.seek(max(0, end - _TAIL))
    tail = fh.read()
    if tail.endswith(b"\n"):
        return
    cut = tail.rfind(b"\n")
    fh.truncate(end - len(tail) + cut + 1 if cut >= 0 else (0 if end <= _TAIL else end))


def _seq_before(last: dict[str, Any] | None) -> int:
    """After a key line, the checkpoints after the ledger head it took over at; with no line, all of them."""
    if last is None:
        return 0
    return int(last.get("since_seq") or 0)


def witness(path: Path | None, engine: Engine) -> None:
    """`catch_up` after a commit; a failure is logged and left to the next commit to repair, since what was
    committed is stored and acknowledged whether or not its copy is written yet."""
    if path is None:
        return
    try:
        catch_up(path, engine)
    except OSError as exc:
        log.warning("checkpoint file %s not written (%s); the next checkpoint catches up", path, exc)


def read_copy(path: Path) -> list[tuple[int, bytes]]:
    """The lines of a copy, numbered from 1, blank lines left out."""
    return [(i, ln) for i, ln in enumerate(path.read_bytes().split(b"\n"), 1) if ln.strip()]


__all__ = ["CHECKPOINTS_ENV", "Checkpoint", "catch_up", "read_copy", "witness", "witness_path"]
