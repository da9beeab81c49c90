"""Bodies schemathesis cannot make by itself, for the feeds sent as JSON Lines or CSV (`POST /capture/{feed}`):
loaded by the schemathesis CLI through SCHEMATHESIS_HOOKS. Lines of small JSON objects with hostile values, and
Comtrade-shaped CSV with arbitrary cells: each must be read or refused with a 4xx, never a 5xx."""

from __future__ import annotations

import json

import schemathesis
from hypothesis import strategies as st

_SCALAR = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
_OBJECT = st.dictionaries(
    st.sampled_from(["kind", "id", "uscc", "licence_no", "quantity_kg", "date", "period", "schema", "x"])
    | st.text(max_size=6),
    _SCALAR | st.lists(_SCALAR, max_size=2),
    max_size=6,
)
LINES = st.lists(_OBJECT, min_size=1, max_size=3).map(lambda objs: "\n".join(map(json.dumps, objs)).encode())
_HEADER = "reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue"
_CELL = st.text(alphabet=st.characters(exclude_characters=',\n\r"'), max_size=10)
CSV = st.lists(st.lists(_CELL, min_size=7, max_size=7), min_size=1, max_size=3).map(
    lambda rows: "\n".join([_HEADER, *(",".join(r) for r in rows)]).encode()
)

for media_type in ("application/x-ndjson", "application/jsonl"):
    schemathesis.openapi.media_type(media_type, LINES)
schemathesis.openapi.media_type("text/csv", CSV)
