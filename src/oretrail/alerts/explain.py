"""An alert in plain words: what was found, where, how much, on which records, and what to check next.

Every evidence id is looked up again in the projections, so the officer sees the records as they stand now
(a later correction shows as "retracted"), next to the figures the rule saw when it raised the alert.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import Connection, select

from oretrail.alerts.store import as_record, get_alert, message_of
from oretrail.alerts.workflow import note_text, state
from oretrail.i18n.message import Message
from oretrail.i18n.words import term
from oretrail.rules.runner import default_catalogue, rule_of
from oretrail.rules.trade_flows import goods
from oretrail.storage.schema import declarations, enterprises, events, facilities, licences, lots, watchlist

M = {
    m.key.removeprefix("explain."): m
    for m in (
        Message("explain.checks_default", "Review the records above with the departments named."),
        Message("explain.event", "event {ref}: {what} {step} at {place} on {when:minute}{flag}"),
        Message("explain.retracted", " (RETRACTED by a later correction)"),
        Message(
            "explain.declaration",
            "declaration {ref}: {date:date}, {exporter}, HS {hs}, {grams:kg}, USD {value:,.0f}, to {consignee} "
            "({destination}) via {port}, licence {licence}",
        ),
        Message(
            "explain.licence",
            "licence {ref}: {status:term}, {exporter}, {grams:kg} of {material} (HS {hs}) to {consignee} "
            "({destination}), valid {start:date} to {end:date}",
        ),
        Message(
            "explain.lot",
            "lot {ref}: {material}{grade}, {grams:kg} created by {stage:stage} event {event} at {place} on {when:date}",
        ),
        Message("explain.grade", ", grade {grade:.4g}"),
        Message(
            "explain.listed",
            "watch-list entity {ref}: {schema:term} {caption:q}{aka}{countries} (list version {version})",
        ),
        Message("explain.aka", ", also known as {names:list}"),
        Message("explain.countries", ", countries {countries:list}"),
        Message("explain.none", "none"),
        Message("explain.gone", "{ref}: not (or no longer) on record"),
        Message(
            "explain.trade_flow", "{subject}: imports of {goods} from China into {partner:country} in {period:month}"
        ),
        Message("explain.place", "{subject}{extra}, jurisdiction {jurisdiction:province}"),
        Message("explain.facility", " (a {type:term})"),
        Message("explain.head", "Alert {id}"),
        Message("explain.rule", "  Rule:        {rule} ({severity:term}), raised {raised:minute} UTC"),
        Message("explain.subject", "  Subject:     {kind:term} {place}"),
        Message("explain.for", "  For:         {departments:terms}"),
        Message("explain.status", "  Status:      {status:term}{assignee}{withdrawn}{provisional}"),
        Message("explain.assigned", ", assigned to {who}"),
        Message("explain.withdrawn", ", withdrawn"),
        Message(
            "explain.provisional_until",
            ", provisional until {when:date} (evidence that could clear it may still arrive)",
        ),
        Message("explain.provisional", ", provisional until the next settling"),
        Message("explain.found", "What was found:"),
        Message("explain.figures", "Figures the rule used:"),
        Message("explain.records", "Records behind it:"),
        Message("explain.actions", "Actions so far:"),
        Message("explain.check", "What to check:"),
    )
}


def _checks(rule: str, lang: str = "en") -> str:
    declared = rule_of(rule)
    return declared.said("check", lang) if declared is not None else M["checks_default"].render(lang)


def _describe(conn: Connection, ref: str, lang: str = "en") -> str:
    """One evidence id as a sentence; the id alone when it is not on record."""
    ev = conn.execute(select(events).where(events.c.event_id == ref)).first()
    if ev is not None:
        return M["event"].render(
            lang,
            ref=ref,
            what=ev.stage or ev.event_type,
            step=ev.biz_step or "",
            place=ev.biz_location or "?",
            when=ev.event_time.isoformat(),
            flag=M["retracted"].render(lang) if ev.retracted else "",
        )
    dec = conn.execute(select(declarations).where(declarations.c.declaration_no == ref)).first()
    if dec is not None:
        return M["declaration"].render(
            lang,
            ref=ref,
            date=dec.date.isoformat(),
            exporter=dec.exporter,
            hs=dec.hs_code,
            grams=dec.net_g,
            value=dec.value_usd,
            consignee=dec.consignee,
            destination=dec.destination,
            port=dec.port or "?",
            licence=dec.licence_no or M["none"].render(lang),
        )
    lic = conn.execute(select(licences).where(licences.c.licence_no == ref)).first()
    if lic is not None:
        return M["licence"].render(
            lang,
            ref=ref,
            status=lic.status,
            exporter=lic.exporter,
            grams=lic.quantity_g,
            material=lic.material,
            hs=lic.hs_code,
            consignee=lic.consignee,
            destination=lic.destination,
            start=lic.valid_from.isoformat(),
            end=lic.valid_to.isoformat(),
        )
    lot = conn.execute(select(lots).where(lots.c.lot_id == ref)).first()
    if lot is not None:
        return M["lot"].render(
            lang,
            ref=ref,
            material=lot.material or "?",
            grade=M["grade"].render(lang, grade=lot.grade) if lot.grade is not None else "",
            grams=lot.mass_g,
            stage=lot.created_stage or "?",
            event=lot.created_event,
            place=lot.created_location or "?",
            when=lot.created_at.isoformat(),
        )
    listed = conn.execute(select(watchlist).where(watchlist.c.entity_id == ref)).first()
    if listed is not None:
        names = [n for n in orjson.loads(listed.names) if n != listed.caption]
        countries = orjson.loads(listed.countries)
        return M["listed"].render(
            lang,
            ref=ref,
            schema=listed.schema,
            caption=listed.caption,
            aka=M["aka"].render(lang, names=[repr(n) for n in names[:5]]) if names else "",
            countries=M["countries"].render(lang, countries=countries) if countries else "",
            version=listed.version,
        )
    if ": " in ref:  # a figure the rule quoted ("score: 0.9412", "consignee name: ..."), not a record id
        return ref
    return M["gone"].render(lang, ref=ref)


def _trade_flow(subject: str, lang: str) -> str:
    """`DE:811292:202506` in words: whose statistics, which goods, which month."""
    partner, hs6, period = subject.split(":")
    return M["trade_flow"].render(
        lang, subject=subject, goods=goods(default_catalogue(), hs6), partner=partner, period=period
    )


def _place(conn: Connection, jurisdiction: str, subject: str, kind: str = "", lang: str = "en") -> str:
    if kind == "trade-flow" and subject.count(":") == 2:
        subject, extra = _trade_flow(subject, lang), ""
    else:
        name = conn.execute(select(enterprises.c.name).where(enterprises.c.party_id == subject)).scalar()
        fac = conn.execute(select(facilities.c.type).where(facilities.c.location_id == subject)).scalar()
        extra = f" ({name})" if name else M["facility"].render(lang, type=fac) if fac else ""
    return M["place"].render(lang, subject=subject, extra=extra, jurisdiction=jurisdiction)


def explain(conn: Connection, alert: str, lang: str = "en") -> str:
    row = get_alert(conn, alert)
    if row is None:
        raise KeyError(f"no alert {alert}")
    details: dict[str, Any] = orjson.loads(row.details or "{}")
    evidence: list[str] = orjson.loads(row.evidence)
    departments: list[str] = orjson.loads(row.departments)
    st = state(conn, alert)
    if row.settled_at is not None:
        provisional = ""
    elif row.settles_at is not None:
        provisional = M["provisional_until"].render(lang, when=row.settles_at.isoformat())
    else:
        provisional = M["provisional"].render(lang)
    lines = [
        M["head"].render(lang, id=row.id),
        M["rule"].render(lang, rule=row.rule, severity=row.severity, raised=row.raised_at.isoformat()),
        M["subject"].render(
            lang, kind=row.subject_kind, place=_place(conn, row.jurisdiction, row.subject_id, row.subject_kind, lang)
        ),
        M["for"].render(lang, departments=departments),
        M["status"].render(
            lang,
            status=st.status,
            assignee=M["assigned"].render(lang, who=st.assignee) if st.assignee else "",
            withdrawn=M["withdrawn"].render(lang) if row.withdrawn_at is not None else "",
            provisional=provisional,
        ),
        "",
        M["found"].render(lang),
        f"  {message_of(row).render(lang)}",
        "",
        M["figures"].render(lang),
    ]
    lines += [f"  {k}: {v}" for k, v in sorted(details.items()) if v not in (None, "", [], {})]
    lines += ["", M["records"].render(lang)]
    lines += [f"  {i}. {_describe(conn, ref, lang)}" for i, ref in enumerate(evidence, 1)]
    if st.history:
        lines += ["", M["actions"].render(lang)]
        lines += [
            f"  {a.at:%Y-%m-%d %H:%M} {a.actor}: {term(a.action, lang)}"
            + (f" → {term(a.department, lang)}" if a.department else "")
            + (f" → {a.province}" if a.province else "")
            + (f" — {note_text(a.note, lang)}" if a.note else "")
            + (f" [{a.attachment}]" if a.attachment else "")
            for a in st.history
        ]
    lines += ["", M["check"].render(lang), f"  {_checks(row.rule, lang)}"]
    return "\n".join(lines)


def explain_record(conn: Connection, alert: str, lang: str = "en") -> dict[str, Any]:
    """The same explanation as data, for programs (`oretrail explain --format json`): the SPEC.md §4 record,
    the figures the rule used, the workflow state and its history, and each evidence id described as now."""
    row = get_alert(conn, alert)
    if row is None:
        raise KeyError(f"no alert {alert}")
    st = state(conn, alert)
    return {
        **as_record(row, lang),
        "details": orjson.loads(row.details or "{}"),
        "status": st.status,
        "assignee": st.assignee,
        "escalations": st.escalations,
        "level": st.level,
        "handed_to": st.handed_to,
        "attachments": st.attachments,
        "acknowledged_at": st.acknowledged_at.isoformat() if st.acknowledged_at else None,
        "shared_with": st.shared_with,
        "withdrawn": st.withdrawn,
        "history": [{**asdict(a), "note": note_text(a.note, lang)} for a in st.history],
        "evidence_described": [_describe(conn, ref, lang) for ref in orjson.loads(row.evidence)],
        "checks": _checks(row.rule, lang),
    }
