"""The controlled-item catalogue as typed, immutable values (SPEC.md §3).

The rules ask the catalogue three kinds of question: is this customs code licence-controlled, which
material could this declaration be, and what are the physical bounds of a material. Answering them from
frozen values loaded once keeps every rule run on the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Material:
    """One catalogue entry; grades and recoveries are mass fractions of `element`."""

    code: str
    element: str
    form: str
    name: str
    upstream: tuple[str, ...]
    hs6: tuple[str, ...]
    hs10: tuple[str, ...]
    licence_required: bool
    grade_min: float
    grade_max: float
    max_recovery: float
    unit_value_min: float
    unit_value_max: float
    announcement: str | None
    sources: tuple[str, ...]


def normalise_hs(hs_code: str) -> str:
    """Digits only, because feeds write HS codes as `8112.92.90.10`, `811292 9010` or `8112929010`."""
    digits = hs_code.replace(".", "").replace(" ", "").strip()
    if not digits.isdigit() or len(digits) not in (6, 8, 10):
        raise ValueError(f"not an HS code of 6, 8 or 10 digits: {hs_code!r}")
    return digits


class Catalogue:
    """Look-ups over the materials; built once per file, so the indexes are computed up front."""

    __slots__ = ("_by_hs6", "_by_hs10", "materials")

    def __init__(self, materials: dict[str, Material]) -> None:
        self.materials: dict[str, Material] = dict(materials)
        self._by_hs10: dict[str, list[Material]] = {}
        self._by_hs6: dict[str, list[Material]] = {}
        for material in self.materials.values():
            for code in material.hs10:
                self._by_hs10.setdefault(code, []).append(material)
            for code in material.hs6:
                self._by_hs6.setdefault(code, []).append(material)

    def material(self, code: str) -> Material:
        try:
            return self.materials[code]
        except KeyError:
            raise KeyError(f"unknown material code {code!r}: not in the controlled-item catalogue") from None

    def by_hs(self, hs_code: str) -> list[Material]:
        """Materials a declared code may stand for.

        A 10-digit code listed by an announcement names its materials exactly; any other code can only be
        narrowed down to the materials declared under its HS6 subheading.
        """
        digits = normalise_hs(hs_code)
        if len(digits) == 10 and digits in self._by_hs10:
            return list(self._by_hs10[digits])
        return list(self._by_hs6.get(digits[:6], []))

    def is_controlled_hs(self, hs_code: str) -> bool:
        """SPEC.md §3: a code the catalogue does not list is not licence-controlled.

        The announcements list 10-digit codes, so a 6- or 8-digit code is never controlled by itself. Where
        the catalogue knows a material is controlled but could not confirm its 10-digit lines (it holds HS6
        only), every 10-digit code under those HS6 counts as controlled: an export-control office would
        rather check one declaration too many than let a controlled item through unlicensed.
        """
        digits = normalise_hs(hs_code)
        if len(digits) != 10:
            return False
        if any(m.licence_required for m in self._by_hs10.get(digits, [])):
            return True
        return any(m.licence_required and not m.hs10 for m in self._by_hs6.get(digits[:6], []))

    def controlled_hs6(self) -> set[str]:
        """Subheadings that hold a controlled code: partners' mirror statistics only report HS6."""
        return {code[:6] for m in self.materials.values() if m.licence_required for code in (m.hs10 or m.hs6)}

    def elements(self) -> set[str]:
        return {m.element for m in self.materials.values()}
