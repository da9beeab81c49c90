"""intake.off_profile: a valid EPCIS event does something the stage profile of SPEC.md §2 does not foresee.

Intake no longer bounces such an event: a lot that appears at a plant from nowhere, or goods that leave a
place under no waybill, are exactly the evidence the platform exists to keep, and refusing the document
would have lost the rest of the enterprise's month with it. The event is stored, read for what it does
(`ChainEvent.reading`), and this rule tells the enterprise's supervisors that its records do not follow the
profile, naming each field and what the event was read as. What the event did to the chain is judged by the
chain rules (provenance, balances, transit); this finding is about record-keeping, so it puts no quantity at
stake and its severity follows from the material alone (docs/rules.md §Severity: medium for a controlled
material, low otherwise). An event later declared erroneous no longer counts.
"""

from __future__ import annotations

from collections import defaultdict

import orjson
from sqlalchemy import select

from oretrail.chain.projector import party_of_place
from oretrail.i18n.message import Message, Said
from oretrail.model import READINGS
from oretrail.rules.base import Context, Finding
from oretrail.rules.rule import Rule, Settling
from oretrail.rules.scope import EVENT
from oretrail.storage.schema import event_lots, events, lots

RULE = "intake.off_profile"
SCOPE_KIND = EVENT  # the scope-table kind its subjects are filtered by
SAID = Message(
    RULE,
    "Event {event} ({what}, at {place} on {when:date}) does not follow the stage profile: {departures:semi}. It was "
    "stored and read as {read_as}.",
)
DEPARTURE = Message(f"{RULE}.departure", "{field}: {why}")
# Events stored before departures were messages (their projection holds English text) until a rebuild.
AS_STORED = Message(f"{RULE}.as_stored", "{text}")
READ_AS = {reading: Message(f"{RULE}.read_as.{reading}", words) for reading, words in READINGS.items()}
_CHUNK = 400


def find(ctx: Context) -> list[Finding]:
    e = events.c
    rows = ctx.conn.execute(
        select(events).where(e.off_profile.is_not(None), e.retracted.is_(False), ctx.within(SCOPE_KIND, e.event_id))
    ).all()
    if not rows:
        return []
    materials: dict[int, set[str]] = defaultdict(set)
    seqs = sorted(r.seq for r in rows)
    for i in range(0, len(seqs), _CHUNK):
        q = (
            select(event_lots.c.seq, lots.c.material)
            .join(lots, lots.c.lot_id == event_lots.c.lot_id)
            .where(event_lots.c.seq.in_(seqs[i : i + _CHUNK]), lots.c.material.is_not(None))
        )
        for seq, material in ctx.conn.execute(q):
            materials[seq].add(material)
    out = []
    for r in rows:
        stored = orjson.loads(r.off_profile)
        departures = [(where, _reason(why)) for where, why in stored["departures"]]
        read_as = READ_AS[stored["reading"]]()
        place = r.biz_location or r.read_point
        # A controlled material if the event moved any, so the finding is graded by what could be at stake.
        held = sorted(materials[r.seq], key=lambda m: (not ctx.is_controlled_material(m), m))
        material = held[0] if held else None
        what = " ".join(str(x) for x in (r.stage, r.event_type, r.action, r.biz_step) if x)
        out.append(
            Finding(
                rule=RULE,
                subject_kind="event",
                subject_id=r.event_id,
                message=SAID(
                    event=r.event_id,
                    what=what,
                    place=place or "?",
                    when=r.event_time.isoformat(),
                    departures=[DEPARTURE(field=where, why=why) for where, why in departures],
                    read_as=read_as,
                ),
                evidence=(r.event_id,),
                details={
                    "stage": r.stage,
                    "event_type": r.event_type,
                    "action": r.action,
                    "biz_step": r.biz_step,
                    "departures": [[where, why.render("en")] for where, why in departures],
                    "read_as": READINGS[stored["reading"]],
                    "materials": held,
                },
                location=place,
                party=r.source_party or party_of_place(place) or None,
                material=material,
                controlled=ctx.is_controlled_material(material),
            )
        )
    return out


DECLARATION = Rule(
    id=RULE,
    scope_kind=SCOPE_KIND,
    find=find,
    departments=("commerce", "industry"),
    # The enterprise may still correct its own report within the month's reporting window.
    settling=Settling.REPORT,
    title="a valid EPCIS event does something the stage profile does not foresee (stored and read for what it does)",
    check=(
        "Ask the enterprise what the event records and have its system report it in the profile's shape; check "
        "the lots it created or drew against the plant's stock records."
    ),
)


def _reason(stored: str | dict[str, object]) -> Said:
    return AS_STORED(text=stored) if isinstance(stored, str) else Said.from_json(stored)
