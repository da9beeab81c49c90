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


class NotJSON(ValueError):
    """The input is not one JSON value we read: the message says why, for the caller to name record and field."""


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
                raise NotJSON(
                    f"the name {name!r} appears twice in one object with different values "
                    f"({_show(first[name])} and {_show(value)}): which one counts would be a guess"
                )
            first.setdefault(name, value)
    return obj


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_CHECK = json.JSONDecoder(object_pairs_hook=_unique)


def read_json(raw: bytes | str) -> Any:
    """orjson's reading (strict UTF-8, no NaN or Infinity, at most 1,024 levels), and then a second pass that
    refuses a name repeated in one object: orjson, like most readers, silently keeps the last, so
    `{"quantity": 5, "quantity": 999999999}` would be read as the larger figure. The second pass costs about
    twice the first (4 ms on a 600 kB document) and is worth it for evidence."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise NotJSON(f"not valid JSON: {exc}") from None
    if isinstance(value, dict | list):  # only an object can repeat a name
        check_names(raw)
    return value


def check_names(raw: bytes | str) -> None:
    """The second pass of `read_json` alone, for a reader that has parsed `raw` with orjson itself: NotJSON
    when a name repeats in one object with another value."""
    try:
        _CHECK.decode(raw.decode() if isinstance(raw, bytes) else raw)
    except RecursionError:
        raise NotJSON("nested too deep") from None


def too_long(raw: bytes | str) -> str | None:
    """Why a line of a line-oriented feed is refused for its size alone, or None."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    return f"the line is {size:,} bytes, over the limit of {MAX_LINE_BYTES:,}" if size > MAX_LINE_BYTES else None
