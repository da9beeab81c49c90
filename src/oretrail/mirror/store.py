"""Loading partner statistics: a reload of a reporter's period replaces it, so figures are never double-counted.

Mirror statistics are the partners' own publications, revised as they go; they are evidence from outside
the chain, not chain records, so they live in their own table rather than the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, and_, delete, insert, select

from oretrail.mirror.rows import MirrorRow, Skip, parse_mirror_csv
from oretrail.storage.schema import mirror


@dataclass(frozen=True, slots=True)
class MirrorLoad:
    rows: int
    periods_replaced: int  # (reporter, period) pairs that were already loaded and are now replaced
    skipped: dict[Skip, int] = field(default_factory=dict)  # rows left out, by reason

    def skip_report(self) -> list[str]:
        """One line per reason rows were left out, most first: the officer sees what the file held that
        the mirror rules do not read, and can tell a complete load from a lopsided one."""
        most_first = sorted(self.skipped.items(), key=lambda item: -item[1])
        return [f"skipped {n} row{'' if n == 1 else 's'}: {reason.value}" for reason, n in most_first]


def load_mirror(engine: Engine, lines: Iterable[str | bytes], name: str) -> MirrorLoad:
    """Parse the whole file first, so a refused file stores nothing; then replace its (reporter, period)
    pairs in one transaction."""
    parsed = parse_mirror_csv(lines, document=name)
    rows = parsed.rows
    periods = sorted({(r.reporter, r.period) for r in rows})
    with engine.begin() as conn:
        replaced = 0
        for reporter, period in periods:
            cond = and_(mirror.c.reporter == reporter, mirror.c.period == period)
            replaced += int(conn.execute(select(mirror.c.reporter).where(cond).limit(1)).first() is not None)
            conn.execute(delete(mirror).where(cond))
        if rows:
            conn.execute(
                insert(mirror),
                [
                    {"reporter": r.reporter, "partner": r.partner, "flow": r.flow, "cmd": r.cmd,
                     "period": r.period, "net_kg": r.net_kg, "value_usd": r.value_usd}
                    for r in rows
                ],
            )  # fmt: skip
    return MirrorLoad(len(rows), replaced, parsed.skipped)


def mirror_rows(conn: Connection) -> list[MirrorRow]:
    return [
        MirrorRow(r.reporter, r.partner, r.flow, r.cmd, r.period, r.net_kg, r.value_usd)
        for r in conn.execute(select(mirror).order_by(mirror.c.reporter, mirror.c.period, mirror.c.cmd))
    ]
