"""Files attached to alerts, stored once by their SHA-256: the same photo attached twice is one row, and the
hash in the decision log proves which bytes an officer attached."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from oretrail.clock import utcnow
from oretrail.i18n.message import Message, Said
from oretrail.storage.schema import attachments

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024  # an inspection report with photos; larger evidence stays in its system


EMPTY = Message("attachment.error.empty", "an attachment cannot be empty")
TOO_LARGE = Message("attachment.error.too_large", "an attachment holds at most {limit} bytes, this one {size}")


class AttachmentError(ValueError):
    """An attachment refused, with its message; `too_large` tells a 413 from a 422."""

    def __init__(self, said: Said) -> None:
        super().__init__(said)
        self.too_large = said.key == TOO_LARGE.key


def store_attachment(conn: Connection, body: bytes, media_type: str) -> str:
    if not body:
        raise AttachmentError(EMPTY())
    if len(body) > MAX_ATTACHMENT_BYTES:
        raise AttachmentError(TOO_LARGE(limit=MAX_ATTACHMENT_BYTES, size=len(body)))
    digest = hashlib.sha256(body).hexdigest()
    ins = pg_insert(attachments) if conn.dialect.name == "postgresql" else sqlite_insert(attachments)
    conn.execute(
        ins.on_conflict_do_nothing(index_elements=[attachments.c.sha256]),
        {"sha256": digest, "media_type": media_type or "application/octet-stream", "size": len(body),
         "body": body, "stored_at": utcnow()},
    )  # fmt: skip
    return digest


def read_attachment(conn: Connection, digest: str) -> tuple[bytes, str] | None:
    row = conn.execute(
        select(attachments.c.body, attachments.c.media_type).where(attachments.c.sha256 == digest)
    ).first()
    return (bytes(row.body), str(row.media_type)) if row is not None else None
