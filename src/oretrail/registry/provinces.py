"""Provinces as ISO 3166-2 codes, checked against pycountry so no hand-kept list goes stale.

Alerts are routed to a province (SPEC.md §4), so every registry record must name one that exists.
"""

from __future__ import annotations

import functools

import pycountry

MINERAL_PROVINCES = ("CN-NM", "CN-JX", "CN-HN", "CN-GD", "CN-GX", "CN-GZ", "CN-YN")
"""The provinces where the controlled minerals are mined and smelted (SPEC.md §1)."""

# pycountry carries the official romanisations ("Jiangxi Sheng"); the administrative suffix is dropped for
# display, and where the usual English name is not the romanisation it is given here.
_SUFFIXES = (" Zhuangzu Zizhiqu", " Huizu Zizhiqu", " Uygur Zizhiqu", " Zizhiqu", " Sheng", " Shi", " SAR")
_ENGLISH = {"CN-NM": "Inner Mongolia"}


@functools.cache
def _cn_subdivisions() -> dict[str, str]:
    return {s.code: s.name for s in pycountry.subdivisions.get(country_code="CN")}


def is_cn_province(code: str) -> bool:
    """True for an ISO 3166-2 subdivision code of China (provinces, regions, municipalities, SARs)."""
    return code in _cn_subdivisions()


def province_name(code: str) -> str:
    """English display name, e.g. `CN-JX` -> `Jiangxi`; KeyError for a code that is not a CN subdivision."""
    names = _cn_subdivisions()
    if code not in names:
        raise KeyError(f"{code!r} is not an ISO 3166-2 subdivision of China")
    if code in _ENGLISH:
        return _ENGLISH[code]
    name = names[code]
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name
