"""Folding company names so that spelling variants of one consignee compare equal.

Licences and declarations are typed by different people: "Example Semiconductor GmbH" and "EXAMPLE
SEMICONDUCTOR G.m.b.H." are one company, and a mismatch alert on that would train officers to ignore the
rule. Legal-form words carry no identity, so they are dropped; everything else must match.
"""

from __future__ import annotations

import functools
import re
import unicodedata

LEGAL_FORMS = frozenset(
    [
        "ab",
        "ag",
        "as",
        "asa",
        "bhd",
        "bv",
        "co",
        "company",
        "corp",
        "corporation",
        "cv",
        "gmbh",
        "inc",
        "incorporated",
        "jsc",
        "kft",
        "kg",
        "kk",
        "limited",
        "llc",
        "llp",
        "lp",
        "ltd",
        "nv",
        "oao",
        "ooo",
        "oy",
        "oyj",
        "pjsc",
        "plc",
        "pte",
        "pty",
        "sa",
        "sab",
        "sae",
        "sarl",
        "sas",
        "spa",
        "sl",
        "srl",
        "sro",
        "ud",
        "zao",
    ]
)
_PUNCT = re.compile(r"[^\w]+", re.UNICODE)


@functools.lru_cache(maxsize=100_000)  # consignee names repeat across thousands of declarations
def fold_name(name: str | None) -> str:
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = text.replace("&", " and ").replace(".", "")  # "G.m.b.H." → "gmbh", "S.A." → "sa"
    words = [w for w in _PUNCT.sub(" ", text).split() if w not in LEGAL_FORMS]
    return " ".join(words)
