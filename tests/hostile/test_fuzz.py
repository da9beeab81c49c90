"""Property tests over every feed (issue 17 §3): a valid file of the simulator, changed where hypothesis
chooses (a value replaced by something hostile, a name removed or repeated, bytes cut, inserted or flipped),
is either read or refused with our one refusal, IntakeError, naming the file, the record and (where one is
to blame) the field; never another exception, and a refusal leaves every table as it was.

Each feed goes through the same entry point as `oretrail load` and `POST /capture/{feed}` (feeds.FEEDS'
`read_bytes`), on SQLite, with the rules judging what landed. Inputs that once broke something are kept in
test_corpus.py. The suite runs EXAMPLES examples per property (a few seconds each); a longer hunt:

    ORETRAIL_FUZZ_EXAMPLES=2000 python3 -m uv run pytest tests/hostile/test_fuzz.py -p no:randomly
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from oretrail.errors import IntakeError
from oretrail.feeds import BY_NAME, FEEDS
from oretrail.rules.config import Settings
from oretrail.storage.engine import make_engine, migrate
from oretrail.storage.schema import metadata

EXAMPLES = int(os.environ.get("ORETRAIL_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True
)

# What senders get wrong and attackers try: past every bound, the calendar's ends, markup, formulas, wildcards,
# control characters, lone surrogates (as JSON escapes), the 64-bit edges.
HOSTILE_TEXT = [
    "", " ", " x ", "\n", "\x00", "[/red]", "[bold]x[/bold]", "=cmd|' /C calc'!A0", "%", "_", "\\", "'", '"',
    "0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00", "2025-02-30",
    "2025-06-01T00:00:00", "2025-06", "20250603", "1e20", "NaN", "-0", "CN-XX", "CN-ZZ", "ZZ", "XK",
    "urn:oretrail:party:uscc:91110000000000000X", "urn:epc:id:sgtin:0614141.107346.2017", "\ud800", "\U0010ffff",
    "a" * 1500, "张" * 1100, "ζ" * 70,
]  # fmt: skip
NUMBERS = [0, -1, 1, 0.0, -0.0, 1e-300, 5e-324, 1e12, 1e12 + 1, 1e20, 1e300, -1e300, 1.7976931348623157e308,
           2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, float("inf"), float("nan")]  # fmt: skip
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from(NUMBERS),
    st.integers(),
    st.floats(),
    st.sampled_from(HOSTILE_TEXT),
    st.text(max_size=20),
)
VALUE = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip


def _paths(value: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*here, i))


@st.composite
def changed(draw: st.DrawFn, value: Any) -> str:
    """`value` as JSON text with one change somewhere inside it."""
    value = json.loads(json.dumps(value))
    path = draw(st.sampled_from([p for p in _paths(value) if p]))
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    key = path[-1]
    action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add", "repeat"]))
    if action == "delete":
        del parent[key]
    elif action == "add" and isinstance(parent, dict):
        parent[draw(st.sampled_from([*map(str, parent), "x", "@context", "ot:x"]))] = draw(VALUE)
    elif action == "add":
        parent.insert(key, draw(VALUE))
    elif action == "repeat" and isinstance(parent, dict):
        # the same name twice in one object, the second time with (probably) another value
        first, parent[key] = parent[key], "\x01repeat\x01"
        twice = f"{json.dumps(key)}: {json.dumps(first)}, {json.dumps(key)}: {json.dumps(draw(VALUE))}"
        return json.dumps(value).replace(f'{json.dumps(key)}: "\\u0001repeat\\u0001"', twice, 1)
    else:
        parent[key] = draw(VALUE)
    return json.dumps(value)  # NaN and Infinity are written as such: readers must refuse them


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with bytes cut, inserted or overwritten at a place hypothesis picks."""
    at = draw(st.integers(0, len(data)))
    cut = draw(st.integers(0, 8))
    noise = draw(st.binary(max_size=8) | st.sampled_from([b"\xff", b"\xef\xbb\xbf", b"\n", b",", b'"', b"\x00"]))
    return data[:at] + noise + data[at + cut :]


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.sorted_tables}


class Harness:
    """One database for one property: the registry and watch list loaded first, so that the records fuzzed
    name parties and lists that exist, and the rules have something to judge."""

    def __init__(self, data: Path, folder: Path, settings: Settings) -> None:
        self.engine = make_engine(f"sqlite:///{folder / 'fuzz.db'}")
        migrate(self.engine)
        self.settings = settings
        for feed in ("registry", "watchlist"):
            BY_NAME[feed].load(self.engine, [data / BY_NAME[feed].source], settings, None)

    def feed(self, name: str, data: bytes) -> None:
        """Reads `data` as feed `name`; a refusal must name the file and record and leave nothing behind."""
        before = _counts(self.engine)
        try:
            BY_NAME[name].read_bytes(self.engine, data, "fuzzed-input", self.settings)
        except IntakeError as refusal:
            assert refusal.document == "fuzzed-input", refusal
            assert refusal.reason.strip(), refusal
            assert "Traceback" not in str(refusal)
            if name != "events":  # a line feed names the line; a document's own faults have no event index
                assert refusal.index is not None or refusal.field, refusal
            after = _counts(self.engine)
            assert after == before, f"refused, yet written: {refusal}"


@pytest.fixture(scope="module")
def harness(data: Path, tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Harness:
    return Harness(data, tmp_path_factory.mktemp("fuzz"), settings)


LINE_FEEDS = [f.name for f in FEEDS if f.name not in ("events", "mirror")]


def _lines(data: Path, feed: str, count: int = 3) -> list[Any]:
    return [json.loads(line) for line in (data / BY_NAME[feed].source).read_text().splitlines()[:count]]


def _document(data: Path) -> dict[str, Any]:
    doc = json.loads(sorted((data / "events").iterdir())[0].read_bytes())
    doc["epcisBody"]["eventList"] = doc["epcisBody"]["eventList"][:3]
    return doc


def test_every_feed_is_fuzzed() -> None:
    assert {*LINE_FEEDS, "events", "mirror"} == {f.name for f in FEEDS}


@pytest.mark.parametrize("feed", LINE_FEEDS)
def test_a_changed_line_is_read_or_refused_naming_line_and_field(harness: Harness, data: Path, feed: str) -> None:
    lines = _lines(data, feed)

    @FUZZ
    @given(st.integers(0, len(lines) - 1).flatmap(lambda i: st.tuples(st.just(i), changed(lines[i]))))
    def one(case: tuple[int, str]) -> None:
        i, text = case
        body = [json.dumps(line) for line in lines]
        body[i] = text
        harness.feed(feed, "\n".join(body).encode("utf-8", errors="surrogatepass"))

    one()


@pytest.mark.parametrize("feed", [*LINE_FEEDS, "mirror"])
def test_damaged_bytes_are_read_or_refused(harness: Harness, data: Path, feed: str) -> None:
    raw = b"\n".join((data / BY_NAME[feed].source).read_bytes().splitlines()[:4])

    @FUZZ
    @given(damaged(raw))
    def one(body: bytes) -> None:
        harness.feed(feed, body)

    one()


MIRROR_CELLS = st.one_of(
    st.sampled_from([str(n) for n in NUMBERS]), st.sampled_from(HOSTILE_TEXT), st.text(max_size=12)
)


def test_a_changed_mirror_cell_is_read_or_refused(harness: Harness, data: Path) -> None:
    rows = [line.split(",") for line in (data / "mirror.csv").read_text().splitlines()[:4]]

    @FUZZ
    @given(st.integers(0, len(rows) - 1), st.integers(0, len(rows[0]) - 1), MIRROR_CELLS)
    def one(row: int, column: int, cell: str) -> None:
        body = [list(r) for r in rows]
        body[row][column] = cell
        text = "\n".join(",".join(c.replace(",", ";") for c in r) for r in body)
        harness.feed("mirror", text.encode("utf-8", errors="surrogatepass"))

    one()


def test_a_changed_epcis_document_is_read_or_refused(harness: Harness, data: Path) -> None:
    doc = _document(data)

    @FUZZ
    @given(changed(doc))
    def one(text: str) -> None:
        harness.feed("events", text.encode("utf-8", errors="surrogatepass"))

    one()


def test_a_damaged_epcis_document_is_read_or_refused(harness: Harness, data: Path) -> None:
    raw = json.dumps(_document(data)).encode()

    @FUZZ
    @given(damaged(raw))
    def one(body: bytes) -> None:
        harness.feed("events", body)

    one()


@pytest.mark.parametrize("feed", [*LINE_FEEDS, "events"])
def test_a_name_repeated_with_another_value_is_refused_by_every_json_feed(
    harness: Harness, data: Path, feed: str
) -> None:
    record = _document(data) if feed == "events" else _lines(data, feed, 1)[0]
    name = next(k for k in record if not k.startswith("@"))
    text = json.dumps(record)
    twice = text.replace(f"{json.dumps(name)}: ", f'{json.dumps(name)}: "repeated", {json.dumps(name)}: ', 1)
    with pytest.raises(IntakeError, match="appears twice") as refused:
        BY_NAME[feed].read_bytes(harness.engine, twice.encode(), "fuzzed-input", harness.settings)
    assert refused.value.document == "fuzzed-input"
