"""balance.transformation: a smelter or plant puts out more of a controlled element than its inputs contained.

Mass is conserved: the element in the outputs cannot exceed the element in the inputs times the best recovery
the process achieves (the catalogue's `max_recovery` of the output material), plus measurement tolerance.
More than that means unrecorded feed, i.e. material of unknown origin entering the chain here.

Per event and element: out_mg > in_mg × max_recovery × (1 + relative tolerance) + absolute tolerance.
An input lot with no grade on record counts at grade 1 (pure element) and an input lot unknown altogether
counts toward every element: the rule only raises what no charitable reading of the inputs can explain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, Select, and_, bindparam, case, func, select, true

from oretrail.i18n.message import Message
from oretrail.rules.base import Context, Finding, capped, split_agg, text_agg
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import TRANSFORMATION
from oretrail.rules.statements import once
from oretrail.storage.schema import TRANSFORMED_ROLES, event_lots, events, lots

el = event_lots

RULE = "balance.transformation"
SAID = Message(
    RULE,
    "The {stage:stage} at {place} on {when:date} put out {out_g:kg} of {element}, but its inputs held {in_g:kg} and at "
    "most {recovery:pct} can be recovered ({allowed_g:kg}): {excess_g:kg} of {element} came from feed that is not "
    "on record.",
)
SCOPE_KIND = TRANSFORMATION  # the scope-table kind its subjects are filtered by
UNKNOWN = "?"


@once
def _statement(ctx: Context) -> Select[Any]:
    cfg = ctx.config
    element = func.coalesce(lots.c.element, UNKNOWN)
    is_in = el.c.role == "input"
    is_out = and_(el.c.role == "output", lots.c.element.is_not(None), lots.c.grade.is_not(None))
    # Scoped, the transformations' rows are reached by their events' sequence numbers, the table's key.
    scoped = select(events.c.seq).where(ctx.within(SCOPE_KIND, events.c.event_id))
    in_scope = el.c.seq.in_(scoped) if ctx.scoped else true()
    transformed: BindParameter[Any] = bindparam("roles", TRANSFORMED_ROLES, literal_execute=True)
    # One pass over the transformations' inputs and outputs, grouped by event and element: sums only. The
    # lots named as evidence are gathered afterwards for the few events that break the balance; gathered in
    # this pass they were strings built for millions of events that balance (a third of the rule's time).
    per_element = (
        select(
            el.c.event_id,
            element.label("element"),
            func.sum(case((is_in, el.c.grams * func.coalesce(lots.c.grade, 1.0) * 1000.0))).label("in_mg"),
            func.sum(case((is_out, el.c.grams * lots.c.grade * 1000.0))).label("out_mg"),
            func.sum(case((is_out, el.c.grams))).label("out_g"),
            func.max(case((is_out, ctx.recovery_of(lots.c.material)))).label("recovery"),
            func.min(case((is_out, lots.c.material))).label("material"),
        )
        .outerjoin(lots, lots.c.lot_id == el.c.lot_id)
        # The roles written into the SQL as the partial index ix_event_lots_transformed names them, which
        # covers this read: SQLite uses a partial index only when it can see the query implies its condition.
        .where(el.c.role.in_(transformed), in_scope)
        .group_by(el.c.event_id, element)
        .subquery("per_element")
    )
    # Inputs of unknown element may hold any element: add them to every element's budget of that event.
    unknown = func.coalesce(
        func.sum(case((per_element.c.element == UNKNOWN, per_element.c.in_mg))).over(
            partition_by=per_element.c.event_id
        ),
        0.0,
    )
    budget = select(per_element, (func.coalesce(per_element.c.in_mg, 0.0) + unknown).label("budget_mg")).subquery(
        "budget"
    )
    bound = budget.c.budget_mg * budget.c.recovery * (1.0 + cfg.relative_tolerance) + cfg.absolute_tolerance_g * 1000.0
    broken = (
        select(budget, events.c.seq, events.c.biz_location, events.c.event_time, events.c.stage)
        .outerjoin(events, events.c.event_id == budget.c.event_id)
        .where(budget.c.element != UNKNOWN, budget.c.out_mg.is_not(None), budget.c.out_mg > bound)
        .subquery("broken")
    )
    # The evidence of each broken balance: its event's inputs of that element or of none known, its outputs.
    rows, made_of = event_lots.alias("evidence"), lots.alias("made_of")
    of_element = func.coalesce(made_of.c.element, UNKNOWN) == broken.c.element
    is_in2, is_unknown_in = rows.c.role == "input", and_(rows.c.role == "input", made_of.c.element.is_(None))
    is_out2 = and_(rows.c.role == "output", made_of.c.grade.is_not(None))
    return (
        select(
            broken,
            text_agg(ctx, case((and_(is_in2, of_element), rows.c.lot_id))).label("in_lots"),
            text_agg(ctx, case((and_(is_out2, of_element), rows.c.lot_id))).label("out_lots"),
            text_agg(ctx, case((is_unknown_in, rows.c.lot_id))).label("unknown_lots"),
        )
        .outerjoin(
            rows,
            and_(rows.c.seq == broken.c.seq, rows.c.role.in_(transformed)),
        )
        .outerjoin(made_of, made_of.c.lot_id == rows.c.lot_id)
        .group_by(*broken.c)
    )


def find(ctx: Context) -> list[Finding]:
    cfg = ctx.config
    rows = ctx.conn.execute(_statement(ctx))
    out = []
    for r in rows:
        in_mg_v, out_mg_v = float(r.budget_mg), float(r.out_mg)
        allowed = in_mg_v * float(r.recovery)
        excess = out_mg_v - allowed
        in_lots = split_agg(r.in_lots) + split_agg(r.unknown_lots)
        out_lots = split_agg(r.out_lots)
        stake_g = round(int(r.out_g) * excess / out_mg_v) if out_mg_v > 0 else int(r.out_g)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="event",
                subject_id=r.event_id,
                key=r.element,
                message=SAID(
                    stage=r.stage or "transformation",
                    place=r.biz_location or "?",
                    when=r.event_time.isoformat(),
                    out_g=out_mg_v / 1000,
                    element=r.element,
                    in_g=in_mg_v / 1000,
                    recovery=float(r.recovery),
                    allowed_g=allowed / 1000,
                    excess_g=excess / 1000,
                ),
                evidence=(
                    r.event_id,
                    *capped(in_lots, ctx.config.max_evidence),
                    *capped(out_lots, ctx.config.max_evidence),
                ),
                details={
                    "element": r.element,
                    "input_element_mg": round(in_mg_v),
                    "output_element_mg": round(out_mg_v),
                    "max_recovery": float(r.recovery),
                    "allowed_mg": round(allowed),
                    "excess_mg": round(excess),
                    "relative_tolerance": cfg.relative_tolerance,
                    "absolute_tolerance_g": cfg.absolute_tolerance_g,
                    "input_lots": list(capped(in_lots, ctx.config.max_evidence)),
                    "output_lots": list(capped(out_lots, ctx.config.max_evidence)),
                },
                location=r.biz_location,
                material=r.material,
                stake_g=stake_g,
                controlled=ctx.is_controlled_material(r.material),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("industry", "natural_resources"),
    settling=Settling.REPORT,
    title=(
        "a transformation puts out more of the controlled element than its inputs contained, beyond recovery "
        "bounds and tolerance"
    ),
    check=(
        "Inspect the plant's feed records and stock; compare with its registered capacity; look for "
        "unrecorded purchases of ore or concentrate."
    ),
    thresholds=(
        "balance.relative_tolerance",
        "balance.absolute_tolerance_g",
    ),
)
