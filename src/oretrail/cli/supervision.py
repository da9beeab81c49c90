"""`oretrail dossier`, `oretrail plan inspections`, `oretrail supervision …`, `oretrail reports prefill`,
`oretrail channels …`: supervision of enterprises from the command line (records arrive through `oretrail
load supervision FILE` and `oretrail load reports FILE`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from oretrail.cli.common import EXIT_NOT_FOUND, ConfigOption, DbOption, FormatOption, app, fail, lang, open_db
from oretrail.output import Format, emit

supervision_app = typer.Typer(no_args_is_help=True, help="Supervision: reviews, scores, actions, facilities.")
app.add_typer(supervision_app, name="supervision")
plan_app = typer.Typer(no_args_is_help=True, help="Plans: whom to inspect.")
app.add_typer(plan_app, name="plan")
reports_app = typer.Typer(no_args_is_help=True, help="Monthly reports of controlled flows.")
app.add_typer(reports_app, name="reports")
channels_app = typer.Typer(no_args_is_help=True, help="Customs channels for declarations of controlled material.")
app.add_typer(channels_app, name="channels")


def _settings(config: Any) -> Any:
    from oretrail.rules.config import load_settings

    return load_settings(config)


@app.command("dossier")
def dossier_cmd(party: str, config: ConfigOption = None, db: DbOption = None, fmt: FormatOption = Format.json) -> None:
    """One enterprise's dossier: registry, facilities and status, licences and drawdown, flows, alerts,
    reviews, inspections, actions, trainings, reports, risk score and history, and a timeline."""
    from oretrail.supervision.dossier import NotFound, dossier

    s = _settings(config)
    with open_db(db).connect() as conn:
        try:
            record = dossier(conn, party, s.config, s.catalogue, lang())
        except NotFound as exc:
            fail(str(exc), EXIT_NOT_FOUND, fmt)
    if fmt is Format.table:
        e, risk = record["enterprise"], record["risk"]
        lines = [f"{e['name']} ({e['id']}), {e['province']}, as of {record['as_of']}",
                 f"  risk score: {risk['score'] if risk else 'not computed'}"]  # fmt: skip
        lines += [f"  facility {f['id']}: {f['status']}" for f in record["facilities"]]
        lines += [f"  flag: {f['message']}" for f in record["flags"]]
        lines += [f"  {t['date']} {t['kind']}: {t['what']}" for t in record["timeline"][:30]]
        emit(record, fmt, text="\n".join(lines))
    else:
        emit(record, fmt)


@plan_app.command("inspections")
def plan_inspections_cmd(
    province: Annotated[str, typer.Option("--province", help="ISO 3166-2, e.g. CN-JX")],
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    capacity: Annotated[int, typer.Option("--capacity", min=1, help="Inspections the province can make.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random picks.")] = 0,
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Pick whom to inspect: mostly by risk score, with the policy's minimum random share (labelled)."""
    import re

    from oretrail.registry.provinces import is_cn_province
    from oretrail.supervision.plan import plan_inspections, rendered

    if not is_cn_province(province):
        fail(f"no province {province}: an ISO 3166-2 code such as CN-JX", fmt=fmt)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(f"--month {month}: YYYY-MM", fmt=fmt)
    s = _settings(config)
    with open_db(db).begin() as conn:
        plan = plan_inspections(conn, s.config, s.catalogue, province, month, capacity, seed)
    picks = rendered(plan["picks"], lang())
    if fmt is Format.table:
        rows = [
            {
                "enterprise": p["enterprise"],
                "basis": p["basis"],
                "score": p["score"],
                "reasons": "; ".join(r.get("basis") or r.get("draw", "") for r in p["reasons"]),
            }
            for p in picks
        ]
        emit(rows, fmt, title=f"{plan['id']}: {len(picks)} of {plan['candidates']} enterprises")  # fmt: skip
    else:
        emit({**plan, "picks": picks}, fmt)


@supervision_app.command("template")
def template_cmd(fmt: FormatOption = Format.json) -> None:
    """The review template: MOFCOM's nine elements, their EU and BIS counterparts, the questions."""
    from oretrail.supervision.template import template

    emit(template().record(lang()), fmt)


@supervision_app.command("guidance")
def guidance_cmd(doc_id: Annotated[str | None, typer.Argument()] = None, fmt: FormatOption = Format.table) -> None:
    """Guidance documents (all, or one by id), in the reader's language."""
    from oretrail.supervision.template import guidance, guidance_doc

    if doc_id is None:
        emit([g.record(lang()) for g in guidance()], fmt, title="guidance")
        return
    found = guidance_doc(doc_id)
    if found is None:
        fail(f"no guidance document {doc_id}", EXIT_NOT_FOUND, fmt)
    emit(found.record(lang()), fmt)


@supervision_app.command("review")
def review_cmd(review_id: str, db: DbOption = None, fmt: FormatOption = Format.json) -> None:
    """A review with its score and method, guidance for weak elements, and progress since the last one."""
    import orjson
    from sqlalchemy import select

    from oretrail.storage.schema import reviews
    from oretrail.supervision.review import explained

    with open_db(db).connect() as conn:
        row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
        if row is None:
            fail(f"no review {review_id}", EXIT_NOT_FOUND, fmt)
        before = conn.execute(select(reviews).where(reviews.c.enterprise == row.enterprise, reviews.c.date < row.date)
                              .order_by(reviews.c.date.desc()).limit(1)).first()  # fmt: skip
    as_dict = lambda r: {**r._mapping, "elements": orjson.loads(r.elements)}  # noqa: E731
    emit(explained(as_dict(row), as_dict(before) if before else None, lang()), fmt)


@supervision_app.command("scores")
def scores_cmd(
    province: Annotated[str | None, typer.Option("--province")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD; default: the supervision clock's day")
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Compute and record every enterprise's risk score (of a province), highest first."""
    from oretrail.supervision.score import score_all

    s = _settings(config)
    day = date.fromisoformat(as_of) if as_of else None
    with open_db(db).begin() as conn:
        scores = score_all(conn, s.config, s.catalogue, day, province)
    language = lang()
    if fmt is Format.table:
        rows = [{"enterprise": x.enterprise, "score": x.score,
                 "top": "; ".join(f"{c.name} {c.points:g}" for c in sorted(x.components, key=lambda c: -c.points)[:3]
                                  if c.points)} for x in scores]  # fmt: skip
        emit(rows, fmt, title="risk scores")
    else:
        emit([{"enterprise": x.enterprise, "as_of": x.as_of.isoformat(), "score": x.score,
               "components": [c.record(language) for c in x.components]} for x in scores], fmt)  # fmt: skip


@supervision_app.command("risk")
def risk_cmd(party: str, db: DbOption = None, fmt: FormatOption = Format.json) -> None:
    """An enterprise's recorded scores, each component explained, and what changed between them."""
    from oretrail.supervision.score import history

    with open_db(db).connect() as conn:
        emit(history(conn, party, lang()), fmt, title=f"risk history of {party}")


@supervision_app.command("actions")
def actions_cmd(
    enterprise: Annotated[str | None, typer.Option("--enterprise")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only actions past their deadline.")] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Corrective actions with deadlines and closures."""
    from sqlalchemy import select

    from oretrail.rules.monthly_flows import beijing, clock
    from oretrail.storage.schema import action_closures, corrective_actions

    a = corrective_actions
    q = select(a, action_closures.c.closed_on).outerjoin(action_closures, action_closures.c.action_id == a.c.id)
    if enterprise:
        q = q.where(a.c.enterprise == enterprise)
    with open_db(db).connect() as conn:
        now = clock(conn)
        today = beijing(now).date() if now else date.today()
        rows = []
        for r in conn.execute(q.order_by(a.c.due_on, a.c.id)):
            late = (r.closed_on or today) > r.due_on and (r.closed_on is not None or r.due_on < today)
            if not overdue or late:
                rows.append({"id": r.id, "enterprise": r.enterprise, "item": r.item, "due_on": r.due_on.isoformat(),
                             "closed_on": r.closed_on and r.closed_on.isoformat(), "overdue": late})  # fmt: skip
    emit(rows, fmt, title="corrective actions")


@supervision_app.command("facility")
def facility_cmd(
    facility: str, config: ConfigOption = None, db: DbOption = None, fmt: FormatOption = Format.json
) -> None:
    """A facility's status today and its history (inspections, and lapses on the ICGLR schedule)."""
    from oretrail.supervision.facility import status_history

    with open_db(db).connect() as conn:
        emit(status_history(conn, _settings(config).config, facility), fmt)


@supervision_app.command("tick")
def tick_cmd(config: ConfigOption = None, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    """Judge the supervision rules over everything (deadlines move with the clock): run it daily."""
    from oretrail.alerts.judge import judge
    from oretrail.rules.runner import RULE_IDS

    chosen = [r for r in RULE_IDS if r.startswith("supervision.")]
    with open_db(db).begin() as conn:
        judged = judge(conn, None, _settings(config), rules=chosen)
    emit({"alerts_new": len(judged.new), "withdrawn": judged.withdrawn, "settled": judged.settled}, fmt,
         text=f"supervision rules: {len(judged.new)} new alert(s), {judged.withdrawn} withdrawn")  # fmt: skip


@reports_app.command("prefill")
def prefill_cmd(enterprise: str, period: str, db: DbOption = None, fmt: FormatOption = Format.json) -> None:
    """A month's report (PERIOD YYYY-MM) as the enterprise's own events give it, in the feed's shape."""
    import re

    from oretrail.supervision.reports import prefill

    if not re.fullmatch(r"\d{4}-?(0[1-9]|1[0-2])", period):
        fail(f"{period}: YYYY-MM", fmt=fmt)
    with open_db(db).connect() as conn:
        emit(prefill(conn, enterprise, period), fmt)


@channels_app.command("assign")
def channels_assign(
    since: Annotated[str | None, typer.Option("--since", help="Declarations dated from YYYY-MM-DD.")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Channel every export declaration of controlled material (red, yellow, blue, green), with reasons."""
    from oretrail.supervision.channels import assign, controlled_numbers

    s = _settings(config)
    with open_db(db).begin() as conn:
        controlled = controlled_numbers(conn, s.catalogue, date.fromisoformat(since) if since else None)
        done = assign(conn, s.config, sorted(controlled), seed, controlled=controlled)
    language = lang()
    emit([c.record(language) for c in done], fmt, title="customs channels")


@channels_app.command("show")
def channels_show(declaration_no: str, db: DbOption = None, fmt: FormatOption = Format.json) -> None:
    """A declaration's channel and its reasons."""
    from oretrail.supervision.channels import stored

    with open_db(db).connect() as conn:
        found = stored(conn, declaration_no, lang())
    if found is None:
        fail(f"declaration {declaration_no} has no channel (oretrail channels assign)", EXIT_NOT_FOUND, fmt)
    emit(found, fmt)
