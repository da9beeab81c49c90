"""What every rule shares: the finding it returns, the catalogue it reads, and the context it runs in.

A rule is a pure function `find(ctx) -> list[Finding]` over the projection tables. It never writes; the
alert store decides what a finding becomes. The scope filter is a SQL condition, so a capture-time run and a
full scan execute the same query, differing only in which subjects it is allowed to see.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, case, literal, true

from oretrail.i18n.message import Said
from oretrail.rules import portable
from oretrail.rules.config import Config
from oretrail.rules.portable import SEP
from oretrail.rules.scope import scope_ids

T = TypeVar("T")


class Material(Protocol):
    """Read-only members, so a frozen dataclass with narrower field types (a float where None is allowed)
    still matches."""

    @property
    def element(self) -> str: ...
    @property
    def hs6(self) -> Any: ...
    @property
    def hs10(self) -> Any: ...
    @property
    def licence_required(self) -> bool: ...
    @property
    def max_recovery(self) -> float: ...
    @property
    def unit_value_min(self) -> float | None: ...
    @property
    def unit_value_max(self) -> float | None: ...
    @property
    def grade_min(self) -> float | None: ...
    @property
    def grade_max(self) -> float | None: ...


class Catalogue(Protocol):
    """The part of `oretrail.catalogue` the rules read; tests pass a small stand-in of the same shape.

    `materials` is a read-only member and the HS code is positional-only, so `oretrail.catalogue.Catalogue`
    (a dict of its own Material, parameter named `hs_code`) matches structurally."""

    @property
    def materials(self) -> Mapping[str, Material]: ...

    def by_hs(self, hs: str, /) -> Sequence[Material]: ...

    def is_controlled_hs(self, hs: str, /) -> bool: ...

    def controlled_hs6(self) -> set[str]: ...


@dataclass(frozen=True)
class Finding:
    """One rule's verdict on one subject; `key` separates several findings of a rule on the same subject."""

    rule: str
    subject_kind: str  # SPEC.md §4: declaration | licence | lot | event | shipment | enterprise | facility
    subject_id: str
    message: Said  # a message key with parameters, rendered in the reader's language (i18n/)
    evidence: tuple[str, ...]
    details: dict[str, Any] = field(hash=False)
    key: str = ""
    location: str | None = None  # facility or port whose province has jurisdiction
    party: str | None = None  # enterprise whose province has jurisdiction when no facility is known
    material: str | None = None  # catalogue code of what is at stake, for severity
    stake_g: int = 0  # grams of that material at stake
    value_usd: float | None = None  # declared value at stake, when a declaration gives it
    controlled: bool = True  # whether what is at stake is licence-controlled for export
    # The latest data time the finding rests on, when its evidence alone does not tell (settling starts there).
    anchor: datetime | None = None

    @property
    def ident(self) -> tuple[str, str, str, str]:
        return (self.rule, self.subject_kind, self.subject_id, self.key)


SCOPE_TABLE = "rule_scope"


@dataclass
class Context:
    conn: Connection
    catalogue: Catalogue
    config: Config
    scoped: bool = False  # True: only subjects listed in the temporary scope table are judged
    # Shared by the contexts of one run's readers (`dataclasses.replace` keeps these objects).
    _shared: dict[Callable[[Connection], Any], Any] = field(default_factory=dict, repr=False)
    _reading: dict[Callable[[Connection], Any], threading.Lock] = field(default_factory=dict, repr=False)
    _sharing: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def shared(self, read: Callable[[Connection], T]) -> T:
        """`read(conn)` once per run: several rules judge the same derived figures (an enterprise's monthly
        flows: supervision.late_report and report_mismatch; every declaration: the mirror rules), which cost a
        pass over the ledger's rows each. A rule on another reader that wants the same figures waits for the
        first to read them rather than read again; one that wants other figures does not wait."""
        with self._sharing:
            lock = self._reading.setdefault(read, threading.Lock())
        with lock:
            if read not in self._shared:
                self._shared[read] = read(self.conn)
            return self._shared[read]  # type: ignore[no-any-return]

    def within(self, kind: str, column: ColumnElement[Any]) -> ColumnElement[bool]:
        """The scope filter for one subject kind: no condition in a scan, membership in the scope table else."""
        return column.in_(scope_ids(kind)) if self.scoped else true()

    # --- catalogue, folded into SQL as literal lists and CASE maps (the catalogue is small) --------------
    @cached_property
    def controlled_materials(self) -> list[str]:
        return sorted(code for code, m in self.catalogue.materials.items() if m.licence_required)

    @cached_property
    def catalogue_materials(self) -> list[str]:
        return sorted(self.catalogue.materials)

    @cached_property
    def controlled_hs(self) -> list[str]:
        """The catalogue's licence-controlled codes (SPEC.md §3: a code it does not list is not controlled), asked
        of the catalogue's own `is_controlled_hs` so its matching logic stays the authority."""
        codes = {c for m in self.catalogue.materials.values() for c in m.hs10}
        return sorted(c for c in codes if self.catalogue.is_controlled_hs(c))

    def recovery_of(self, material: ColumnElement[Any]) -> ColumnElement[Any]:
        """Max recovery of a material column; 1.0 (nothing can come out that did not go in) when unknown."""
        whens = {code: float(m.max_recovery) for code, m in self.catalogue.materials.items() if m.max_recovery}
        return case(whens, value=material, else_=literal(1.0)) if whens else literal(1.0)

    def is_controlled_material(self, code: str | None) -> bool:
        m = self.catalogue.materials.get(code or "")
        return bool(m and m.licence_required)


def capped(items: Iterable[str], limit: int) -> tuple[str, ...]:
    """Sorted, distinct, at most `limit`: evidence must be deterministic and stay readable at national scale."""
    return tuple(sorted({i for i in items if i}))[:limit]


def kg(grams: float) -> str:
    """Quantities in messages: officers think in kilograms (tonnes above 10 t)."""
    if abs(grams) >= 10_000_000:
        return f"{grams / 1_000_000:,.1f} t"
    return f"{grams / 1000:,.3f} kg".replace(".000 kg", " kg")


def text_agg(ctx: Context, column: ColumnElement[Any]) -> ColumnElement[str]:
    """All values of a group in one string (`portable.text_agg`)."""
    return portable.text_agg(ctx.conn.dialect.name, column)


def split_agg(value: str | None) -> list[str]:
    return [v for v in (value or "").split(SEP) if v]


def sorted_findings(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.ident)


def material_for_hs(catalogue: Catalogue, hs: str | None) -> str | None:
    """The catalogue code an HS code declares, preferring controlled materials; None when the catalogue has none."""
    if not hs:
        return None
    found = {id(m) for m in catalogue.by_hs(hs)}
    codes = sorted((not m.licence_required, code) for code, m in catalogue.materials.items() if id(m) in found)
    return codes[0][1] if codes else None
