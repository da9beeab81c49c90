"""`oretrail dossier`, `oretrail plan inspections`, `oretrail supervision …`, `oretrail reports prefill`,
`oretrail channels …`: supervision of enterprises from the command line (records arrive through `oretrail
load supervision FILE` and `oretrail load reports FILE`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from oretrail.cli.common import (
    EXIT_NOT_FOUND,
    ConfigOption,
    DbOption,
    FormatOption,
    app,
    fail,
    helped,
    lang,
    open_db,
    option_help,
)
from oretrail.i18n.message import Message, said_of
from oretrail.i18n.words import term
from oretrail.output import Format, emit

supervision_app = typer.Typer(
    no_args_is_help=True, help=helped("supervision", "Supervision: reviews, scores, actions, facilities.")
)
app.add_typer(supervision_app, name="supervision")
plan_app = typer.Typer(no_args_is_help=True, help=helped("plan", "Plans: whom to inspect."))
app.add_typer(plan_app, name="plan")
reports_app = typer.Typer(no_args_is_help=True, help=helped("reports", "Monthly reports of controlled flows."))
app.add_typer(reports_app, name="reports")
channels_app = typer.Typer(
    no_args_is_help=True, help=helped("channels", "Customs channels for declarations of controlled material.")
)
app.add_typer(channels_app, name="channels")

DOSSIER_HEAD = Message("cli.dossier.head", "{name} ({id}), {province:province}, as of {as_of}")
RISK_SCORE = Message("cli.dossier.risk_score", "risk score: {score}")
NOT_COMPUTED = Message("cli.dossier.not_computed", "not computed")
FACILITY = Message("cli.dossier.facility", "facility {id}: {status:term}")
FLAG = Message("cli.dossier.flag", "flag: {message}")
NO_PROVINCE = Message("cli.supervision.no_province", "no province {province}: an ISO 3166-2 code such as CN-JX")
BAD_MONTH = Message("cli.supervision.bad_month", "{option} {value}: YYYY-MM")
BAD_DAY = Message("cli.supervision.bad_day", "{option} {value}: YYYY-MM-DD")
PLAN = Message("table.plan", "{id}: {picks} of {candidates} enterprises")
GUIDANCE = Message("table.guidance", "guidance")
NO_GUIDANCE = Message("cli.supervision.no_guidance", "no guidance document {id}")
NO_REVIEW = Message("cli.supervision.no_review", "no review {id}")
RISK_SCORES = Message("table.risk_scores", "risk scores")
RISK_HISTORY = Message("table.risk_history", "risk history of {party}")
ACTIONS = Message("table.corrective_actions", "corrective actions")
TICKED = Message("cli.supervision.ticked", "supervision rules: {new} new alert(s), {withdrawn} withdrawn")
CHANNELS = Message("table.customs_channels", "customs channels")
NO_CHANNEL = Message("cli.channels.none", "declaration {declaration} has no channel (oretrail channels assign)")

PartyArgument = Annotated[str, typer.Argument(help=option_help("supervision.party", "The enterprise's party id."))]
EnterpriseOption = Annotated[
    str | None, typer.Option("--enterprise", help=option_help("supervision.enterprise", "Only this enterprise."))
]


def _settings(config: Any) -> Any:
    from oretrail.rules.config import load_settings

    return load_settings(config)


@app.command(
    "dossier",
    help=helped(
        "dossier",
        "One enterprise's dossier: registry, facilities and status, licences and drawdown, flows, alerts, reviews, "
        "inspections, actions, trainings, reports, risk score and history, and a timeline.",
    ),
)
def dossier_cmd(
    party: PartyArgument, config: ConfigOption = None, db: DbOption = None, fmt: FormatOption = Format.json
) -> None:
    from oretrail.supervision.dossier import NotFound, dossier

    s = _settings(config)
    with open_db(db).connect() as conn:
        try:
            record = dossier(conn, party, s.config, s.catalogue, lang())
        except NotFound as exc:
            fail(said_of(exc), EXIT_NOT_FOUND, fmt)
    if fmt is Format.table:
        language = lang()
        e, risk = record["enterprise"], record["risk"]
        score = risk["score"] if risk else NOT_COMPUTED()
        lines = [DOSSIER_HEAD.render(language, name=e["name"], id=e["id"], province=e["province"],
                                     as_of=record["as_of"]),
                 "  " + RISK_SCORE.render(language, score=score)]  # fmt: skip
        lines += ["  " + FACILITY.render(language, id=f["id"], status=f["status"]) for f in record["facilities"]]
        lines += ["  " + FLAG.render(language, message=f["message"]) for f in record["flags"]]
        lines += [f"  {t['date']} {term(t['kind'], language)}: {t['what']}" for t in record["timeline"][:30]]
        emit(record, fmt, text="\n".join(lines))
    else:
        emit(record, fmt)


@plan_app.command(
    "inspections",
    help=helped(
        "plan inspections",
        "Pick whom to inspect: mostly by risk score, with the policy's minimum random share (labelled).",
    ),
)
def plan_inspections_cmd(
    province: Annotated[str, typer.Option("--province", help=option_help("plan.province", "ISO 3166-2, e.g. CN-JX"))],
    month: Annotated[str, typer.Option("--month", help=option_help("plan.month", "YYYY-MM"))],
    capacity: Annotated[
        int,
        typer.Option("--capacity", min=1, help=option_help("plan.capacity", "Inspections the province can make.")),
    ],
    seed: Annotated[int, typer.Option("--seed", help=option_help("plan.seed", "Seed of the random picks."))] = 0,
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    import re

    from oretrail.registry.provinces import is_cn_province
    from oretrail.supervision.plan import plan_inspections, rendered

    if not is_cn_province(province):
        fail(NO_PROVINCE(province=province), fmt=fmt)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(BAD_MONTH(option="--month", value=month), fmt=fmt)
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
        emit(rows, fmt, title=PLAN(id=plan["id"], picks=len(picks), candidates=plan["candidates"]))
    else:
        emit({**plan, "picks": picks}, fmt)


@supervision_app.command(
    "template",
    help=helped(
        "supervision template",
        "The review template: MOFCOM's nine elements, their EU and BIS counterparts, the questions.",
    ),
)
def template_cmd(fmt: FormatOption = Format.json) -> None:
    from oretrail.supervision.template import template

    emit(template().record(lang()), fmt)


@supervision_app.command(
    "guidance", help=helped("supervision guidance", "Guidance documents (all, or one by id), in the reader's language.")
)
def guidance_cmd(
    doc_id: Annotated[
        str | None, typer.Argument(help=option_help("supervision.doc_id", "A guidance document's id."))
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.supervision.template import guidance, guidance_doc

    if doc_id is None:
        emit([g.record(lang()) for g in guidance()], fmt, title=GUIDANCE)
        return
    found = guidance_doc(doc_id)
    if found is None:
        fail(NO_GUIDANCE(id=doc_id), EXIT_NOT_FOUND, fmt)
    emit(found.record(lang()), fmt)


@supervision_app.command(
    "review",
    help=helped(
        "supervision review",
        "A review with its score and method, guidance for weak elements, and progress since the last one.",
    ),
)
def review_cmd(
    review_id: Annotated[str, typer.Argument(help=option_help("supervision.review_id", "The review's id."))],
    db: DbOption = None,
    fmt: FormatOption = Format.json,
) -> None:
    import orjson
    from sqlalchemy import select

    from oretrail.storage.schema import reviews
    from oretrail.supervision.review import explained

    with open_db(db).connect() as conn:
        row = conn.execute(select(reviews).where(reviews.c.id == review_id)).first()
        if row is None:
            fail(NO_REVIEW(id=review_id), EXIT_NOT_FOUND, fmt)
        before = conn.execute(select(reviews).where(reviews.c.enterprise == row.enterprise, reviews.c.date < row.date)
                              .order_by(reviews.c.date.desc()).limit(1)).first()  # fmt: skip
    as_dict = lambda r: {**r._mapping, "elements": orjson.loads(r.elements)}  # noqa: E731
    emit(explained(as_dict(row), as_dict(before) if before else None, lang()), fmt)


@supervision_app.command(
    "scores",
    help=helped(
        "supervision scores", "Compute and record every enterprise's risk score (of a province), highest first."
    ),
)
def scores_cmd(
    province: Annotated[
        str | None,
        typer.Option("--province", help=option_help("supervision.province", "Only this province (ISO 3166-2).")),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help=option_help("supervision.as_of", "YYYY-MM-DD; default: the supervision clock's day")
        ),
    ] = None,
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.supervision.score import score_all

    s = _settings(config)
    day = _day("--as-of", as_of, fmt)
    with open_db(db).begin() as conn:
        scores = score_all(conn, s.config, s.catalogue, day, province)
    language = lang()
    if fmt is Format.table:
        rows = [{"enterprise": x.enterprise, "score": x.score,
                 "top": "; ".join(f"{c.name} {c.points:g}" for c in sorted(x.components, key=lambda c: -c.points)[:3]
                                  if c.points)} for x in scores]  # fmt: skip
        emit(rows, fmt, title=RISK_SCORES)
    else:
        emit([{"enterprise": x.enterprise, "as_of": x.as_of.isoformat(), "score": x.score,
               "components": [c.record(language) for c in x.components]} for x in scores], fmt)  # fmt: skip


def _day(option: str, value: str | None, fmt: Format) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        fail(BAD_DAY(option=option, value=value), fmt=fmt)


@supervision_app.command(
    "risk",
    help=helped(
        "supervision risk",
        "An enterprise's recorded scores, each component explained, and what changed between them.",
    ),
)
def risk_cmd(party: PartyArgument, db: DbOption = None, fmt: FormatOption = Format.json) -> None:
    from oretrail.supervision.score import history

    with open_db(db).connect() as conn:
        emit(history(conn, party, lang()), fmt, title=RISK_HISTORY(party=party))


@supervision_app.command(
    "actions", help=helped("supervision actions", "Corrective actions with deadlines and closures.")
)
def actions_cmd(
    enterprise: EnterpriseOption = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help=option_help("supervision.overdue", "Only actions past their deadline."))
    ] = False,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
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
    emit(rows, fmt, title=ACTIONS)


@supervision_app.command(
    "facility",
    help=helped(
        "supervision facility",
        "A facility's status today and its history (inspections, and lapses on the ICGLR schedule).",
    ),
)
def facility_cmd(
    facility: Annotated[str, typer.Argument(help=option_help("supervision.facility", "The facility's id."))],
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.json,
) -> None:
    from oretrail.supervision.facility import status_history

    with open_db(db).connect() as conn:
        emit(status_history(conn, _settings(config).config, facility), fmt)


@supervision_app.command(
    "tick",
    help=helped(
        "supervision tick", "Judge the supervision rules over everything (deadlines move with the clock): run it daily."
    ),
)
def tick_cmd(config: ConfigOption = None, db: DbOption = None, fmt: FormatOption = Format.table) -> None:
    from oretrail.alerts.judge import judge
    from oretrail.rules.runner import RULE_IDS

    chosen = [r for r in RULE_IDS if r.startswith("supervision.")]
    with open_db(db).begin() as conn:
        judged = judge(conn, None, _settings(config), rules=chosen)
    emit({"alerts_new": len(judged.new), "withdrawn": judged.withdrawn, "settled": judged.settled}, fmt,
         text=TICKED.render(lang(), new=len(judged.new), withdrawn=judged.withdrawn))  # fmt: skip


@reports_app.command(
    "prefill",
    help=helped(
        "reports prefill",
        "A month's report (PERIOD YYYY-MM) as the enterprise's own events give it, in the feed's shape.",
    ),
)
def prefill_cmd(
    enterprise: PartyArgument,
    period: Annotated[str, typer.Argument(help=option_help("reports.period", "The month, YYYY-MM."))],
    db: DbOption = None,
    fmt: FormatOption = Format.json,
) -> None:
    import re

    from oretrail.supervision.reports import prefill

    if not re.fullmatch(r"\d{4}-?(0[1-9]|1[0-2])", period):
        fail(BAD_MONTH(option="PERIOD", value=period), fmt=fmt)
    with open_db(db).connect() as conn:
        emit(prefill(conn, enterprise, period), fmt)


@channels_app.command(
    "assign",
    help=helped(
        "channels assign",
        "Channel every export declaration of controlled material (red, yellow, blue, green), with reasons.",
    ),
)
def channels_assign(
    since: Annotated[
        str | None, typer.Option("--since", help=option_help("channels.since", "Declarations dated from YYYY-MM-DD."))
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help=option_help("channels.seed", "Seed of the random channel draws."))
    ] = 0,
    config: ConfigOption = None,
    db: DbOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    from oretrail.supervision.channels import assign, controlled_numbers

    s = _settings(config)
    day = _day("--since", since, fmt)
    with open_db(db).begin() as conn:
        controlled = controlled_numbers(conn, s.catalogue, day)
        done = assign(conn, s.config, sorted(controlled), seed, controlled=controlled)
    language = lang()
    rows = [c.record(language) for c in done]
    if fmt is Format.table:
        rows = [{**r, "channel": term(r["channel"], language)} for r in rows]
    emit(rows, fmt, title=CHANNELS)


@channels_app.command("show", help=helped("channels show", "A declaration's channel and its reasons."))
def channels_show(
    declaration_no: Annotated[
        str, typer.Argument(help=option_help("channels.declaration_no", "The customs declaration number."))
    ],
    db: DbOption = None,
    fmt: FormatOption = Format.json,
) -> None:
    from oretrail.supervision.channels import stored

    with open_db(db).connect() as conn:
        found = stored(conn, declaration_no, lang())
    if found is None:
        fail(NO_CHANNEL(declaration=declaration_no), EXIT_NOT_FOUND, fmt)
    emit(found, fmt)
