"""Our fast canonical form is byte-identical to the RFC 8785 reference implementation."""

from __future__ import annotations

import hashlib
from datetime import datetime

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from oretrail.ledger.canonical import canonical, sha256_hex
from oretrail.ledger.chain import GENESIS, link_hash

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([100.0, -0.0, 1e16, 1e21, 1e-7, 2.5e-5, 0.1 + 0.2, 5e-324, 1.7976931348623157e308])
    | st.text()
    | st.sampled_from(["1.0", 'say "2.0"', "urn:epc:class:lgtin:4012345.012345.9", "\\", 'a\\"b', "1e5", "-0.0"])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=1500)
@given(json_values)
def test_canonical_equals_reference(value: object) -> None:
    assert canonical(value) == rfc8785.dumps(value)


def test_keys_outside_the_bmp_sort_by_utf16() -> None:
    value = {"\U0001f600": 1, "\ufb01": 2, "a": 3}
    assert canonical(value) == rfc8785.dumps(value)


def test_small_fractions_use_the_reference_form() -> None:
    for x in (2.583514940228413e-6, 1e-6, 9.99e-5, 1e-7, 5e-324, -3.3e-5):
        assert canonical(x) == rfc8785.dumps(x)


def test_numbers_inside_strings_are_left_alone() -> None:
    value = {"q": 100.0, "id": "lot 100.0 of 1e5", "quote": 'a "3.0" b', "n": [1.5, -0.0, 1234567890123456]}
    assert canonical(value) == rfc8785.dumps(value)
    assert b'"lot 100.0 of 1e5"' in canonical(value)


@settings(max_examples=300)
@given(st.text(), st.text(), st.integers(1, 2**53 - 1), st.datetimes())
def test_link_header_is_the_canonical_form(kind: str, key: str, seq: int, at: datetime) -> None:
    digest = sha256_hex(key.encode("utf-8", "surrogatepass"))
    header = {"seq": seq, "kind": kind, "key": key, "digest": digest, "recorded_at": at.isoformat()}
    expected = hashlib.sha256(bytes.fromhex(GENESIS) + rfc8785.dumps(header)).hexdigest()
    assert link_hash(GENESIS, seq, kind, key, digest, at) == expected
