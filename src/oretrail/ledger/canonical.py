"""The one pinned serialiser for everything that is hashed: RFC 8785 (JSON Canonicalization Scheme).

Hashes must be reproducible by anyone holding the records, on any engine and in any language, so the
form is the published standard rather than whatever a JSON library happens to emit. The reference
implementation (`rfc8785`) is pure Python and costs ~150 µs for a typical event, which alone would cap
intake near 6,000 events/s. orjson with sorted keys emits the same bytes once numbers are written the
ES6 way, so that is the fast path: integral floats become integers, fractions between 1e-6 and 1e-4 are
spelled out in fixed form, and anything it could still get wrong goes to the reference. A property test
holds the two to byte equality.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import rfc8785

_MAX_SAFE = 2**53  # RFC 8785 numbers are IEEE doubles; larger integers go to the reference, which refuses them
_EXP_FROM = 1e21  # ECMAScript writes integral doubles from 1e21 on in exponent form, as orjson does
_FIXED_FROM = 1e-4  # below this orjson writes an exponent, while ES6 keeps the fixed form down to 1e-6


class _NeedsReference(Exception):
    pass


def _small(value: float) -> orjson.Fragment:
    """ES6's fixed form of a fraction below 1e-4: the same shortest round-trip digits as Python's repr,
    placed after '0.' and zeros. Below 1e-6 ES6 switches to its own exponent spelling: the reference."""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    zeros = -int(exponent or 0) - 1
    if not 0 < zeros < 6:
        raise _NeedsReference
    sign = "-" if value < 0 else ""
    return orjson.Fragment(f"{sign}0.{'0' * zeros}{mantissa.replace('.', '')}")


def _prepare(obj: Any) -> Any:
    """Numbers rewritten the ES6 way; odd cases are handed over.

    A container is copied only when a number inside it changes, and the leaves orjson already writes as
    RFC 8785 does (strings, the commonest, small integers, booleans, null) are passed over without a call:
    an event has a few dozen leaves and one or two numbers to rewrite.
    """
    t = type(obj)
    if t is dict or t is list or t is tuple:
        keyed = t is dict
        out: Any = None
        for k, v in obj.items() if keyed else enumerate(obj):
            tv = type(v)
            if tv is str or v is None or tv is bool or (tv is int and -_MAX_SAFE < v < _MAX_SAFE):
                continue
            new = _prepare(v)
            if new is not v:
                if out is None:
                    out = dict(obj) if keyed else list(obj)
                out[k] = new
        return obj if out is None else out
    if t is float:
        if obj.is_integer():
            if abs(obj) < _MAX_SAFE:
                return int(obj)  # ES6 prints 100.0 as 100, -0.0 as 0
            if abs(obj) < _EXP_FROM:
                raise _NeedsReference  # ES6 pads shortest digits with zeros; int() would print exact ones
        elif abs(obj) < _FIXED_FROM:
            return _small(obj)
        return obj
    if t is str or t is bool or obj is None or (t is int and -_MAX_SAFE < obj < _MAX_SAFE):
        return obj
    raise _NeedsReference


def _utf16_order_differs(obj: Any) -> bool:
    """True when a key outside the BMP makes UTF-16 order (RFC 8785) differ from orjson's code point order."""
    if isinstance(obj, dict):
        return any((not k.isascii() and max(k) > "\uffff") or _utf16_order_differs(v) for k, v in obj.items())
    if isinstance(obj, list | tuple):
        return any(_utf16_order_differs(v) for v in obj)
    return False


def canonical(obj: Any) -> bytes:
    try:
        out = orjson.dumps(_prepare(obj), option=orjson.OPT_SORT_KEYS)
    except (_NeedsReference, TypeError):  # orjson refuses keys that are not strings with a TypeError
        return rfc8785.dumps(obj)
    # Keys are checked only when the output is not plain ASCII: checking every key of every event cost more.
    if out.isascii() or not _utf16_order_differs(obj):
        return out
    return rfc8785.dumps(obj)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
