"""The one pinned serialiser for everything that is hashed: RFC 8785 (JSON Canonicalization Scheme).

Hashes must be reproducible by anyone holding the records, on any engine and in any language, so the
form is the published standard rather than whatever a JSON library happens to emit.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785


def canonical(obj: Any) -> bytes:
    return rfc8785.dumps(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
