"""What the outside-signal rules share: declarations as the mirror logic reads them, the trade flows a scoped
run may judge, and the goods in words officers read.

The mirror rules judge trade flows (`<partnerISO>:<HS6>:<YYYYMM>`), which are not rows of any table, so
they compute in Python over the series a scoped run touches and keep the findings whose subject is in scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, func, select

from oretrail.mirror.gap import Declaration
from oretrail.rules.base import Catalogue, Context, Finding
from oretrail.rules.scope import TRADE_FLOW, scope_ids
from oretrail.storage.schema import declarations as d


def controlled_hs6(ctx: Context) -> set[str]:
    """Subheadings holding a licence-controlled code, asked of the catalogue (partners report HS6 only)."""
    return set(ctx.catalogue.controlled_hs6())


def scoped_flows(ctx: Context) -> set[str] | None:
    """Trade-flow ids a scoped run may judge; None in a scan (everything)."""
    if not ctx.scoped:
        return None
    return set(ctx.conn.execute(scope_ids(TRADE_FLOW)).scalars())


_COLUMNS = (d.c.declaration_no, d.c.date, d.c.destination, d.c.hs_code, d.c.net_g, d.c.value_usd, d.c.consignee)


def read_declarations(
    ctx: Context,
    hs6: Iterable[str],
    destinations: Iterable[str] | None = None,
    window: tuple[dt.date, dt.date] | None = None,
) -> list[Declaration]:
    """Declarations of the given HS6 (and destinations, and dates within `window`, both ends included), in
    kilograms, for the pure mirror functions, in declaration order. A scan's three mirror rules take theirs
    from one read of every declaration (`Context.shared`): each read brings every declaration of the country
    into Python, three quarters of those rules' time at 9.57M events on DuckDB."""
    subheadings = set(hs6)
    wanted = None if destinations is None else set(destinations)
    if not ctx.scoped:
        return [
            x
            for x in ctx.shared(_every_declaration)
            if x.hs_code[:6] in subheadings
            and (wanted is None or x.destination in wanted)
            and (window is None or window[0] <= x.date <= window[1])
        ]
    q = select(*_COLUMNS).where(func.substr(d.c.hs_code, 1, 6).in_(sorted(subheadings)))
    if wanted is not None:
        q = q.where(d.c.destination.in_(sorted(wanted)))
    if window is not None:
        q = q.where(d.c.date.between(*window))
    return _declared(ctx.conn.execute(q.order_by(d.c.declaration_no)))


def _every_declaration(conn: Connection) -> list[Declaration]:
    return _declared(conn.execute(select(*_COLUMNS).order_by(d.c.declaration_no)))


def _declared(rows: Iterable[Any]) -> list[Declaration]:
    return [
        Declaration(r.declaration_no, r.date, r.destination, r.hs_code, r.net_g / 1000, r.value_usd, r.consignee)
        for r in rows
    ]


def flow_window(flows: set[str] | None, months_before: int) -> tuple[dt.date, dt.date] | None:
    """The dates a scoped run must read: from the first day of the earliest scoped month less
    `months_before`, to the last day of the latest scoped month. None in a scan (everything)."""
    if not flows:
        return None
    months = [int(f.rsplit(":", 1)[1]) for f in flows]
    first, last = min(months), max(months)
    start = (first // 100) * 12 + first % 100 - 1 - months_before
    after = (last // 100) * 12 + last % 100  # the month after the latest, as a month index
    return dt.date(start // 12, start % 12 + 1, 1), dt.date(after // 12, after % 12 + 1, 1) - dt.timedelta(days=1)


def in_scope(findings: list[Finding], flows: set[str] | None) -> list[Finding]:
    return findings if flows is None else [f for f in findings if f.subject_id in flows]


def materials_of(catalogue: Catalogue, hs: str) -> list[str]:
    """Catalogue codes an HS code (6 or 10 digits) can stand for, controlled first: what the goods may be."""
    found = {id(m) for m in catalogue.by_hs(hs)}
    ranked = sorted((not m.licence_required, code) for code, m in catalogue.materials.items() if id(m) in found)
    return [code for _, code in ranked]


def goods(catalogue: Catalogue, hs6: str) -> str:
    """A subheading with what it may hold, "HS 811292 (ga.metal, ge.metal)": six digits mean little to a reader."""
    codes = materials_of(catalogue, hs6)
    return f"HS {hs6} ({', '.join(codes[:4])})" if codes else f"HS {hs6}"
