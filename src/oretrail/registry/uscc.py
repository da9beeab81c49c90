"""Valid Unified Social Credit Codes (GB 32100-2015) for tests and the simulator.

Synthetic parties must pass the same check-digit validation as real ones, otherwise the simulator would
exercise the rejection path instead of the rules.
"""

from __future__ import annotations

import random

from stdnum.cn import uscc as _uscc

# Characters allowed in positions 9-18 of a USCC (GB 32100-2015: no I, O, Z, S, V).
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# GB 11714-1997 weights for the organisation code that forms positions 9-17.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code_check(body: str) -> str:
    """GB 11714 check character, so the embedded organisation code is valid in its own right too."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def make_uscc(rng: random.Random, region_code: str = "360700") -> str:
    """A USCC of an enterprise (authority 9, type 1) registered in `region_code` (GB/T 2260 division)."""
    if len(region_code) != 6 or not region_code.isdigit():
        raise ValueError(f"region code must be 6 digits (GB/T 2260), got {region_code!r}")
    body = "".join(rng.choice(_ALPHABET) for _ in range(8))
    head = f"91{region_code}{body}{_org_code_check(body)}"
    return head + _uscc.calc_check_digit(head)
