"""What the platform accepts at all, in one place: bounds of this world for quantities, values and times, sizes
of what one record may be, and the one JSON reader every feed uses.

Each bound is far beyond any real record and exists so that a typing error or an attack is refused with the
record and field named, never turned into an overflow deep in a database driver (issue 17 §3). docs/feeds.md
lists them for senders.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from oretrail.i18n.message import Message, Said

# The most one lot, licence or declaration can hold: a million tonnes, ten times the world's yearly mine output
# of the largest of the controlled minerals (graphite, about 1.6 Mt in 2024, USGS Mineral Commodity Summaries
# 2025), so no real record comes near it; and no sum of such figures overflows a 64-bit integer (9.2e18 g).
MAX_GRAMS = 10**12
# The highest declared value in USD of one record: a trillion, above China's whole yearly export of goods
# (about USD 3.6 trillion in 2024) divided by any count of declarations that makes sense.
MAX_VALUE_USD = 1e12
# Dates and times of records: nothing of a modern supply chain is older; licences run years, not centuries.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200
# One line of a line-oriented feed (a registry record, a licence, a declaration, a watch-list entity): the
# largest OpenSanctions entity line is a few hundred kilobytes; a megabyte leaves room and stops a 60 MB line.
MAX_LINE_BYTES = 1024 * 1024
# A name as it is screened (consignees, end users, listed names): the longest legal names run to a few hundred
# characters; screening cost grows with the square of a name's length, so longer text is not a name.
MAX_NAME_CHARS = 1000


NOT_JSON = Message("intake.not_json", "not valid JSON: {error}")
NAME_TWICE = Message(
    "intake.name_twice",
    "the name {name!r} appears twice in one object with different values ({first} and {second}): "
    "which one counts would be a guess",
)
TOO_DEEP = Message("intake.too_deep", "nested too deep")
UNSAFE_NUMBER = Message(
    "intake.unsafe_number", "a whole number past {limit} (2**53 - 1), which no JSON reader keeps exactly"
)
LINE_TOO_LONG = Message("intake.line_too_long", "the line is {size} bytes, over the limit of {limit}")


class NotJSON(ValueError):
    """The input is not one JSON value we read: `said` says why, for the caller to name record and field;
    `field` is the JSON path of the value to blame, where there is one."""

    def __init__(self, said: Said, field: str | None = None) -> None:
        super().__init__(str(said))
        self.said = said
        self.field = field


# The largest whole number every JSON reader keeps exactly (2**53 - 1, RFC 7493 §2.2), and the most that the
# ledger's canonical form (RFC 8785) can write: a larger one would be refused only when the record is hashed.
# A whole number written as a float below 1e21 (`1e20`) is written back by that form in plain digits, which
# would then be read as such an integer when the ledger is replayed: it is refused too. Beyond 1e21 the form
# keeps the exponent, and each feed's own bounds judge the value.
MAX_SAFE_INTEGER = 2**53 - 1
_DIGITS_BELOW = 1e21


# A name that may repeat with another value: GS1's own example AssociationEvent-h gives one event two eventIDs
# (a ni:/// hash ID and a UUID), both naming that one event; the last is kept, as every JSON reader keeps it,
# and the document, conforming to the schema, is accepted. No other name may repeat with another value.
MAY_REPEAT = frozenset({"eventID"})


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        first: dict[str, Any] = {}
        for name, value in pairs:
            if name in first and first[name] != value and name not in MAY_REPEAT:
                raise NotJSON(NAME_TWICE(name=name, first=_show(first[name]), second=_show(value)))
            first.setdefault(name, value)
    return obj


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _Unsafe(Exception):
    pass


def _unsafe(number: object) -> bool:
    if type(number) is int:
        return abs(number) > MAX_SAFE_INTEGER
    return type(number) is float and number.is_integer() and MAX_SAFE_INTEGER < abs(number) < _DIGITS_BELOW


def _safe_int(text: str) -> int:
    number = int(text)
    if _unsafe(number):
        raise _Unsafe
    return number


def _safe_float(text: str) -> float:
    number = float(text)
    if _unsafe(number):
        raise _Unsafe
    return number


def _unsafe_path(value: Any, path: str = "") -> str | None:
    """The path of the first whole number past MAX_SAFE_INTEGER in `value` (as orjson read it)."""
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return path if _unsafe(value) else None
    for key, inner in items:
        where = _unsafe_path(inner, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key)
        if where is not None:
            return where
    return None


_CHECK = json.JSONDecoder(object_pairs_hook=_unique, parse_int=_safe_int, parse_float=_safe_float)


def read_json(raw: bytes | str) -> Any:
    """orjson's reading (strict UTF-8, no NaN or Infinity, at most 1,024 levels), and then a second pass that
    refuses a name repeated in one object: orjson, like most readers, silently keeps the last, so
    `{"quantity": 5, "quantity": 999999999}` would be read as the larger figure; and a whole number past
    ±(2**53 - 1), which other readers would round and the ledger's canonical form cannot write. The second pass
    costs about twice the first (4 ms on a 600 kB document) and is worth it for evidence."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NotJSON(NOT_JSON(error=str(exc))) from None
    if isinstance(value, dict | list):  # only an object can repeat a name
        check_names(raw, value)
    return value


def check_names(raw: bytes | str, value: Any = None) -> None:
    """The second pass of `read_json` alone, for a reader that has parsed `raw` (into `value`) with orjson
    itself: NotJSON when a name repeats in one object with another value, or a number is past what JSON
    readers keep exactly."""
    try:
        _CHECK.decode(raw.decode() if isinstance(raw, bytes) else raw)
    except RecursionError:
        raise NotJSON(TOO_DEEP()) from None
    except _Unsafe:
        where = _unsafe_path(orjson.loads(raw) if value is None else value) or "$"
        raise NotJSON(UNSAFE_NUMBER(limit=f"{MAX_SAFE_INTEGER:,}"), where) from None


def too_long(raw: bytes | str) -> Said | None:
    """Why a line of a line-oriented feed is refused for its size alone, or None."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    return LINE_TOO_LONG(size=f"{size:,}", limit=f"{MAX_LINE_BYTES:,}") if size > MAX_LINE_BYTES else None
