"""Licences and declarations recorded in the ledger and projected into their tables, and the drawdown of
licences by the declarations that cite them.

Validation (`trade/records.py`) is complete before anything is written: a document with one bad line is
rejected whole, because a half-loaded licence file would make the licence rules judge against a state that
never existed. Each accepted record goes to the ledger as received (idempotent by its number; a changed record
is a new version and the old one stays in the ledger) and is upserted into its table with the ledger `seq` of
the version it now reflects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from oretrail.ledger.notary import Notary
from oretrail.ledger.store import LedgerWriter, Pending, Record
from oretrail.storage.schema import declarations, licences
from oretrail.storage.upsert import upsert
from oretrail.trade.records import parse_declarations, parse_licences


@dataclass
class LoadResult:
    new: int = 0
    unchanged: int = 0
    changed: int = 0
    keys: list[str] = field(default_factory=list)  # numbers of new or changed records, for the rules' scope

    def as_dict(self) -> dict[str, int]:
        return {"new": self.new, "unchanged": self.unchanged, "changed": self.changed}


def _store(conn: Connection, kind: str, table: Any, key: str, records: list[tuple[Any, dict[str, Any]]]) -> LoadResult:
    writer = LedgerWriter(conn)
    latest = writer.latest_digests(table.c[key], (getattr(r, key) for r, _ in records))
    result = LoadResult()
    pending: dict[str, tuple[Any, Pending]] = {}
    for rec, obj in records:
        number = getattr(rec, key)
        p = Pending.of(kind, number, obj)
        if latest.get(number) == p.digest:
            result.unchanged += 1
            continue
        if number in pending:
            pending.pop(number)  # the file's last version of a number is the one that stands
        elif number in latest:
            result.changed += 1
        else:
            result.new += 1
        pending[number] = (rec, p)
    stored = writer.append([p for _, p in pending.values()])
    _upsert(conn, table, key, [(rec, r.seq) for (rec, _), r in zip(pending.values(), stored, strict=True)])
    result.keys = sorted(pending)
    return result


def _upsert(conn: Connection, table: Any, key: str, items: list[tuple[Any, int]]) -> None:
    rows = [{f: getattr(rec, f) for f in rec.__slots__} | {"seq": seq} for rec, seq in items]
    if rows:
        upsert(conn, table, list({r[key]: r for r in rows}.values()))


def project_trade(conn: Connection, records: Sequence[Record]) -> None:
    """Licence and declaration rows from ledger records, for rebuild (newest version wins)."""
    for kind, table, key, parse in (
        ("licence", licences, "licence_no", parse_licences),
        ("declaration", declarations, "declaration_no", parse_declarations),
    ):
        mine = [r for r in records if r.kind == kind]
        if mine:
            parsed = parse([r.body for r in mine], f"ledger {kind} records")
            _upsert(conn, table, key, [(rec, r.seq) for (rec, _), r in zip(parsed, mine, strict=True)])


Hook = Callable[[Connection, LoadResult], None]


def load_licences(
    engine: Engine, lines: Iterable[str | bytes], name: str, then: Hook | None = None, notary: Notary | None = None
) -> LoadResult:
    """Validate all, then store all in one transaction, sealed (ledger/notary.py); `then` runs inside it (the
    CLI raises alerts there)."""
    records = parse_licences(lines, name)
    with (notary or Notary.open(engine)).transaction(engine) as conn:
        result = _store(conn, "licence", licences, "licence_no", records)
        if then is not None:
            then(conn, result)
    return result


def load_declarations(
    engine: Engine, lines: Iterable[str | bytes], name: str, then: Hook | None = None, notary: Notary | None = None
) -> LoadResult:
    records = parse_declarations(lines, name)
    with (notary or Notary.open(engine)).transaction(engine) as conn:
        result = _store(conn, "declaration", declarations, "declaration_no", records)
        if then is not None:
            then(conn, result)
    return result


@dataclass(frozen=True)
class Drawdown:
    licence_no: str
    quantity_g: int
    drawn_g: int
    uses: int

    @property
    def remaining_g(self) -> int:
        return self.quantity_g - self.drawn_g


def drawdown(conn: Connection, licence_nos: Iterable[str] | None = None) -> list[Drawdown]:
    """Per licence: what the declarations citing it have drawn, how many did, and what is left (negative
    when overdrawn)."""
    used = (
        select(
            declarations.c.licence_no,
            func.sum(declarations.c.net_g).label("drawn"),
            func.count().label("uses"),
        )
        .where(declarations.c.licence_no.is_not(None))
        .group_by(declarations.c.licence_no)
        .subquery()
    )
    q = (
        select(
            licences.c.licence_no,
            licences.c.quantity_g,
            func.coalesce(used.c.drawn, 0).label("drawn"),
            func.coalesce(used.c.uses, 0).label("uses"),
        )
        .outerjoin(used, used.c.licence_no == licences.c.licence_no)
        .order_by(licences.c.licence_no)
    )
    if licence_nos is not None:
        q = q.where(licences.c.licence_no.in_(sorted(set(licence_nos))))
    return [Drawdown(r.licence_no, int(r.quantity_g), int(r.drawn), int(r.uses)) for r in conn.execute(q)]
