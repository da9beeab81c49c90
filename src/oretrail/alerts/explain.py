"""An alert in plain words: what was found, where, how much, on which records, and what to check next.

Every evidence id is looked up again in the projections, so the officer sees the records as they stand now
(a later correction shows as "retracted"), next to the figures the rule saw when it raised the alert.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import Connection, select

from oretrail.alerts.store import as_record, get_alert
from oretrail.alerts.workflow import state
from oretrail.rules.base import kg
from oretrail.rules.runner import default_catalogue, rule_of
from oretrail.rules.trade_flows import country, goods, month_words
from oretrail.storage.schema import declarations, enterprises, events, facilities, licences, lots, watchlist


def _checks(rule: str, lang: str = "en") -> str:
    declared = rule_of(rule)
    return declared.check(lang) if declared is not None else "Review the records above with the departments named."


def _describe(conn: Connection, ref: str) -> str:
    """One evidence id as a sentence; the id alone when it is not on record."""
    ev = conn.execute(select(events).where(events.c.event_id == ref)).first()
    if ev is not None:
        flag = " (RETRACTED by a later correction)" if ev.retracted else ""
        return (
            f"event {ref}: {ev.stage or ev.event_type} {ev.biz_step or ''} at {ev.biz_location or '?'} "
            f"on {ev.event_time:%Y-%m-%d %H:%M}{flag}"
        )
    dec = conn.execute(select(declarations).where(declarations.c.declaration_no == ref)).first()
    if dec is not None:
        return (
            f"declaration {ref}: {dec.date}, {dec.exporter}, HS {dec.hs_code}, {kg(dec.net_g)}, "
            f"USD {dec.value_usd:,.0f}, to {dec.consignee} ({dec.destination}) via {dec.port or '?'}, "
            f"licence {dec.licence_no or 'none'}"
        )
    lic = conn.execute(select(licences).where(licences.c.licence_no == ref)).first()
    if lic is not None:
        return (
            f"licence {ref}: {lic.status}, {lic.exporter}, {kg(lic.quantity_g)} of {lic.material} (HS {lic.hs_code}) "
            f"to {lic.consignee} ({lic.destination}), valid {lic.valid_from} to {lic.valid_to}"
        )
    lot = conn.execute(select(lots).where(lots.c.lot_id == ref)).first()
    if lot is not None:
        grade = f", grade {lot.grade:.4g}" if lot.grade is not None else ""
        return (
            f"lot {ref}: {lot.material or '?'}{grade}, {kg(lot.mass_g)} created by {lot.created_stage or '?'} "
            f"event {lot.created_event} at {lot.created_location or '?'} on {lot.created_at:%Y-%m-%d}"
        )
    listed = conn.execute(select(watchlist).where(watchlist.c.entity_id == ref)).first()
    if listed is not None:
        names = [n for n in orjson.loads(listed.names) if n != listed.caption]
        countries = orjson.loads(listed.countries)
        return (
            f"watch-list entity {ref}: {listed.schema} {listed.caption!r}"
            + (f", also known as {', '.join(repr(n) for n in names[:5])}" if names else "")
            + (f", countries {', '.join(countries)}" if countries else "")
            + f" (list version {listed.version})"
        )
    if ": " in ref:  # a figure the rule quoted ("score: 0.9412", "consignee name: ..."), not a record id
        return ref
    return f"{ref}: not (or no longer) on record"


def _trade_flow(subject: str) -> str:
    """`DE:811292:202506` in words: whose statistics, which goods, which month."""
    partner, hs6, period = subject.split(":")
    return (
        f"{subject}: imports of {goods(default_catalogue(), hs6)} from China into {country(partner)} in "
        f"{month_words(period)}"
    )


def _place(conn: Connection, jurisdiction: str, subject: str, kind: str = "") -> str:
    if kind == "trade-flow" and subject.count(":") == 2:
        return f"{_trade_flow(subject)}, jurisdiction {jurisdiction}"
    name = conn.execute(select(enterprises.c.name).where(enterprises.c.party_id == subject)).scalar()
    fac = conn.execute(select(facilities.c.type).where(facilities.c.location_id == subject)).scalar()
    extra = f" ({name})" if name else f" (a {fac})" if fac else ""
    return f"{subject}{extra}, jurisdiction {jurisdiction}"


def explain(conn: Connection, alert: str) -> str:
    row = get_alert(conn, alert)
    if row is None:
        raise KeyError(f"no alert {alert}")
    details: dict[str, Any] = orjson.loads(row.details or "{}")
    evidence: list[str] = orjson.loads(row.evidence)
    departments: list[str] = orjson.loads(row.departments)
    st = state(conn, alert)
    lines = [
        f"Alert {row.id}",
        f"  Rule:        {row.rule} ({row.severity}), raised {row.raised_at:%Y-%m-%d %H:%M} UTC",
        f"  Subject:     {row.subject_kind} {_place(conn, row.jurisdiction, row.subject_id, row.subject_kind)}",
        f"  For:         {', '.join(departments)}",
        f"  Status:      {st.status}"
        + (f", assigned to {st.assignee}" if st.assignee else "")
        + (", withdrawn" if row.withdrawn_at is not None else "")
        + (
            ""
            if row.settled_at is not None
            else f", provisional until {row.settles_at:%Y-%m-%d} (evidence that could clear it may still arrive)"
            if row.settles_at is not None
            else ", provisional until the next settling"
        ),
        "",
        "What was found:",
        f"  {row.message}",
        "",
        "Figures the rule used:",
    ]
    lines += [f"  {k}: {v}" for k, v in sorted(details.items()) if v not in (None, "", [], {})]
    lines += ["", "Records behind it:"]
    lines += [f"  {i}. {_describe(conn, ref)}" for i, ref in enumerate(evidence, 1)]
    if st.history:
        lines += ["", "Actions so far:"]
        lines += [
            f"  {a.at:%Y-%m-%d %H:%M} {a.actor}: {a.action}"
            + (f" → {a.department}" if a.department else "")
            + (f" — {a.note}" if a.note else "")
            for a in st.history
        ]
    lines += ["", "What to check:", f"  {_checks(row.rule)}"]
    return "\n".join(lines)


def explain_record(conn: Connection, alert: str) -> dict[str, Any]:
    """The same explanation as data, for programs (`oretrail explain --format json`): the SPEC.md §4 record,
    the figures the rule used, the workflow state and its history, and each evidence id described as now."""
    row = get_alert(conn, alert)
    if row is None:
        raise KeyError(f"no alert {alert}")
    st = state(conn, alert)
    return {
        **as_record(row),
        "details": orjson.loads(row.details or "{}"),
        "status": st.status,
        "assignee": st.assignee,
        "escalations": st.escalations,
        "shared_with": st.shared_with,
        "withdrawn": st.withdrawn,
        "history": [asdict(a) for a in st.history],
        "evidence_described": [_describe(conn, ref) for ref in orjson.loads(row.evidence)],
        "checks": _checks(row.rule),
    }
