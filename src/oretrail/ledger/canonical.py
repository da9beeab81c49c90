"""The one pinned serialiser for everything that is hashed: RFC 8785 (JSON Canonicalization Scheme).

Hashes must be reproducible by anyone holding the records, on any engine and in any language, so the
form is the published standard rather than whatever a JSON library happens to emit. The reference
implementation (`rfc8785`) is pure Python and costs ~150 µs for a typical event, which alone would cap
intake near 6,000 events/s; orjson with sorted keys emits the same bytes once integral floats are written
as integers, so that is the fast path, and anything it could get wrong goes to the reference. A property
test holds the two to byte equality.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

_MAX_SAFE = 2**53  # RFC 8785 numbers are IEEE doubles; larger integers go to the reference, which refuses them
_EXP_FROM = 1e21  # ECMAScript writes integral doubles from 1e21 on in exponent form, as orjson does
_FIXED_FROM = 1e-4  # below this, fractions go to the reference


class _NeedsReference(Exception):
    pass


def _prepare(obj: Any) -> Any:
    """Integral floats become ints (ES6 prints 100.0 as 100, -0.0 as 0); odd cases are handed over."""
    t = type(obj)
    if t is float:
        if obj.is_integer():
            if abs(obj) < _MAX_SAFE:
                return int(obj)
            if abs(obj) < _EXP_FROM:
                raise _NeedsReference  # ES6 pads shortest digits with zeros; int() would print exact ones
        elif abs(obj) < _FIXED_FROM:
            raise _NeedsReference  # ES6 and orjson switch to exponent form at different magnitudes down here
        return obj
    if t is dict:
        out = {}
        for k, v in obj.items():
            if type(k) is not str or (not k.isascii() and max(k) > "\uffff"):
                raise _NeedsReference  # UTF-16 key order differs from code point order only here
            out[k] = _prepare(v)
        return out
    if t is list or t is tuple:
        return [_prepare(v) for v in obj]
    if t is int and abs(obj) >= _MAX_SAFE:
        raise _NeedsReference
    if t is str or t is int or t is bool or obj is None:
        return obj
    raise _NeedsReference


def canonical(obj: Any) -> bytes:
    try:
        return orjson.dumps(_prepare(obj), option=orjson.OPT_SORT_KEYS)
    except _NeedsReference:
        return rfc8785.dumps(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
