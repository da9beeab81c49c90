"""An alert in plain words: what was found, where, how much, on which records, and what to check next.

Every evidence id is looked up again in the projections, so the officer sees the records as they stand now
(a later correction shows as "retracted"), next to the figures the rule saw when it raised the alert.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, select

from oretrail.alerts.store import get_alert
from oretrail.alerts.workflow import state
from oretrail.rules.base import kg
from oretrail.rules.runner import default_catalogue
from oretrail.rules.trade_flows import country, goods, month_words
from oretrail.storage.schema import declarations, enterprises, events, facilities, licences, lots, watchlist

CHECKS: dict[str, str] = {
    "licence.missing": "Hold the consignment; ask the exporter for the licence; confirm with MOFCOM that none "
    "was issued under another number.",
    "licence.overdrawn": "List every declaration under the licence; stop further use; check whether the excess "
    "left under another licence or none.",
    "licence.mismatch": "Compare the licence and the declaration side by side; ask whether an amended licence "
    "exists; check the consignee's identity and address.",
    "licence.invalid": "Confirm the licence status and dates with MOFCOM; hold the consignment if it has not left.",
    "declaration.misclassified": "Inspect or sample the goods; compare the declared description with the lots' "
    "material and grade; reclassify and check the licence duty.",
    "declaration.unit_value": "Ask for the sales contract and invoice; check the goods' identity against the "
    "declared HS code; refer undervaluation to the tax authority.",
    "trace.no_provenance": "Ask the exporter and the processors in the trace for the purchase records of the "
    "untraced lots; check the mines' output records.",
    "balance.transformation": "Inspect the plant's feed records and stock; compare with its registered capacity; "
    "look for unrecorded purchases of ore or concentrate.",
    "balance.lot": "Count the stock at the place; ask for the records of how the lot arrived there.",
    "transit.not_received": "Contact the carrier and the consignee; locate the vehicle; check for unrecorded "
    "transfers on the way.",
    "transit.diverted": "Ask the consignee named at dispatch whether it expected the goods; inspect the place that "
    "received them.",
    "party.unregistered": "Identify the enterprise (USCC); check its business licence and premises; have it "
    "register or stop trading in controlled material.",
    "screening.watchlist": "Compare the counterparty's full name, address and registration with the listed entity; "
    "if it is the same, suspend the licence or hold the consignment and refer to the coordination office.",
    "licence.rerouted": "Compare the new end user with the refused one (address, registration, owners); ask the "
    "exporter for the end-user certificate; hold the licence or consignment until cleared.",
    "mirror.gap": "List the exporters and declarations of the flow; ask the partner's customs for its import "
    "records of the month (consignor, quantities); look for the goods declared under other codes or destinations.",
    "mirror.share_jump": "Ask the exporters to this destination for their buyers and end-user certificates; check "
    "whether the buyers re-export to a destination that would not get a licence.",
    "mirror.no_capacity": "Ask the exporters who uses the goods in the destination; check the consignees' line of "
    "business and onward shipments.",
    "intake.off_profile": "Ask the enterprise what the event recorded and have its system report that step as the "
    "profile says; where lots appeared or left with no origin or destination on record, count the stock and ask "
    "for the purchase or sales records behind them.",
}


def _checks(rule: str) -> str:
    parts = rule.split(".")
    while parts:
        found = CHECKS.get(".".join(parts))
        if found:
            return found
        parts.pop()
    return "Review the records above with the departments named."


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
        f"  Status:      {st.status}" + (f", assigned to {st.assignee}" if st.assignee else ""),
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
