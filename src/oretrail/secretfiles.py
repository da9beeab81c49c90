"""Secrets at rest: read only from files nobody but their owner can read, written only that way.

A key file that the group or others may read is a key that has already left its owner's control, so it is
refused when read, naming the file and its mode, rather than used; the fix (`chmod 600 FILE`) is the
operator's to make knowingly. Secrets that are not files come from the environment (docs/operations.md).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from oretrail.i18n.message import Message, Said

OPEN_MODE = Message(
    "secret.mode",
    "{path} holds {what} but its mode {mode} lets {who} read it: make it private (chmod 600 {path})",
)
WHO = {
    "group": Message("secret.mode.group", "its group"),
    "others": Message("secret.mode.others", "other users"),
    "both": Message("secret.mode.both", "its group and other users"),
}


class SecretFileError(ValueError):
    """A secret file that may not be used as found; `said` is the message in either language."""

    def __init__(self, said: Said) -> None:
        super().__init__(said.render("en"))
        self.said = said


def check_private(path: Path, what: Said) -> None:
    """Refuse `path` when its group or others have any permission on it."""
    mode = stat.S_IMODE(path.stat().st_mode)
    group, others = bool(mode & 0o070), bool(mode & 0o007)
    if group or others:
        who = "both" if group and others else "group" if group else "others"
        raise SecretFileError(OPEN_MODE(path=str(path), what=what, mode=f"{mode:04o}", who=WHO[who]()))


def read_secret(path: Path, what: Said) -> bytes:
    """The bytes of a private file (mode 0600 or stricter); SecretFileError when group or others may read it."""
    check_private(path, what)
    return path.read_bytes()


def write_secret(path: Path, data: bytes) -> None:
    """Create `path` with mode 0600 (never replacing a file: FileExistsError) and its folder with 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
