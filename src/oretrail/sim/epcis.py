"""EPCIS 2.0 JSON-LD events of the oretrail profile (SPEC.md §2), and the writer that streams them to files.

Events are plain dicts built in the order a real sender would fill them in; the writer cuts them into
`EPCISDocument` files of a few hundred to a thousand events as they come, so memory never depends on scale.
Re-sends and corrections are the writer's business, because in real feeds they are the sender's system
replaying what it already sent.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from oretrail.ids import BTT_DECLARATION, DECLARATION_PREFIX

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
OT_NS = "https://oretrail.org/ns/"
CST = timedelta(hours=8)  # China Standard Time: every event happens there

Event = dict[str, Any]


def new_event_id(rng: random.Random) -> str:
    return f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"


def stamp(utc: datetime, zulu: bool) -> str:
    """Some senders' systems write UTC, others Beijing local time; the offset of the place is always +08:00."""
    if zulu:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (utc + CST).strftime("%Y-%m-%dT%H:%M:%S.000+08:00")


@dataclass(frozen=True)
class Qty:
    lot: str
    grams: int
    uom: str  # KGM | TNE | GRM

    def json(self) -> dict[str, Any]:
        if self.uom == "TNE":
            value: float | int = round(self.grams / 1_000_000, 6)
        elif self.uom == "GRM":
            value = self.grams
        else:
            value = round(self.grams / 1000, 3)
        return {"epcClass": self.lot, "quantity": value, "uom": self.uom}


def _base(rng: random.Random, kind: str, utc: datetime, zulu: bool) -> Event:
    return {
        "type": kind,
        "eventID": new_event_id(rng),
        "eventTime": stamp(utc, zulu),
        "eventTimeZoneOffset": "+08:00",
    }


def mining(
    rng: random.Random, utc: datetime, zulu: bool, mine: str, lots: list[Qty], material: str, grade: float
) -> Event:
    ev = _base(rng, "ObjectEvent", utc, zulu)
    ev.update(
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        epcList=[],
        quantityList=[q.json() for q in lots],
        readPoint={"id": mine},
        bizLocation={"id": mine},
        ilmd={"ot:material": material, "ot:grade": grade},
    )
    ev["ot:stage"] = "mining"
    return ev


def transformation(
    rng: random.Random,
    utc: datetime,
    zulu: bool,
    stage: str,
    plant: str,
    inputs: list[Qty],
    outputs: list[Qty],
    material: str,
    grade: float,
) -> Event:
    ev = _base(rng, "TransformationEvent", utc, zulu)
    ev.update(
        inputQuantityList=[q.json() for q in inputs],
        outputQuantityList=[q.json() for q in outputs],
        bizStep="creating_class_instance",
        disposition="active",
        readPoint={"id": plant},
        bizLocation={"id": plant},
        ilmd={"ot:material": material, "ot:grade": grade},
    )
    ev["ot:stage"] = stage
    return ev


def shipping(
    rng: random.Random, utc: datetime, zulu: bool, origin: str, dest: str, owner: str, lots: list[Qty], waybill: str
) -> Event:
    ev = _base(rng, "ObjectEvent", utc, zulu)
    ev.update(
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        epcList=[],
        quantityList=[q.json() for q in lots],
        readPoint={"id": origin},
        bizLocation={"id": origin},
        bizTransactionList=[{"type": "bol", "bizTransaction": waybill}],
        sourceList=[{"type": "owning_party", "source": owner}, {"type": "location", "source": origin}],
        destinationList=[
            {"type": "owning_party", "destination": owner},
            {"type": "possessing_party", "destination": owner},
            {"type": "location", "destination": dest},
        ],
    )
    ev["ot:stage"] = "transportation"
    return ev


def receiving(
    rng: random.Random, utc: datetime, zulu: bool, place: str, owner: str, lots: list[Qty], waybill: str
) -> Event:
    ev = _base(rng, "ObjectEvent", utc, zulu)
    ev.update(
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        epcList=[],
        quantityList=[q.json() for q in lots],
        readPoint={"id": place},
        bizLocation={"id": place},
        bizTransactionList=[{"type": "bol", "bizTransaction": waybill}],
        sourceList=[{"type": "owning_party", "source": owner}],
        destinationList=[{"type": "owning_party", "destination": owner}],
    )
    ev["ot:stage"] = "transportation"
    return ev


def sale(
    rng: random.Random, utc: datetime, zulu: bool, place: str, seller: str, buyer: str, lots: list[Qty], invoice: str
) -> Event:
    ev = _base(rng, "TransactionEvent", utc, zulu)
    ev.update(
        action="ADD",
        epcList=[],
        quantityList=[q.json() for q in lots],
        bizTransactionList=[{"type": "inv", "bizTransaction": invoice}],
        bizLocation={"id": place},
        sourceList=[{"type": "owning_party", "source": seller}],
        destinationList=[{"type": "owning_party", "destination": buyer}],
    )
    ev["ot:stage"] = "sales"
    return ev


def export(
    rng: random.Random, utc: datetime, zulu: bool, port: str, owner: str, lots: list[Qty], declaration_no: str
) -> Event:
    ev = _base(rng, "ObjectEvent", utc, zulu)
    ev.update(
        action="OBSERVE",
        bizStep="departing",
        disposition="in_transit",
        epcList=[],
        quantityList=[q.json() for q in lots],
        readPoint={"id": port},
        bizLocation={"id": port},
        bizTransactionList=[{"type": BTT_DECLARATION, "bizTransaction": DECLARATION_PREFIX + declaration_no}],
        sourceList=[{"type": "owning_party", "source": owner}],
    )
    ev["ot:stage"] = "export"
    return ev


def error_declaration(original: Event, declared: datetime, zulu: bool, corrective: str) -> Event:
    """The erroneous event sent again, unchanged but for the declaration that retracts it (EPCIS 2.0 §7.4.1)."""
    return {
        **original,
        "errorDeclaration": {
            "declarationTime": stamp(declared, zulu),
            "reason": "incorrect_data",
            "correctiveEventIDs": [corrective],
        },
    }


@dataclass
class DocumentWriter:
    """Streams events into numbered EPCISDocument files in the order they were sent, re-sending a few as
    sender systems do.

    The simulator makes one batch at a time, from the mine to its end months later, but no sender can report
    an event before it happens: a feed that carried December's receipts before January's dispatches would let
    a platform's clock (the newest event time) run months ahead of shipments still on the road. So events are
    spooled to disk by the day they are sent and written out in send order once no batch can still send on
    that day (`release`); memory holds one day's events, whatever the scale.
    """

    folder: Path
    rng: random.Random
    resend_rate: float = 0.004
    events: int = 0  # events written to documents, re-sends included
    generated: int = 0  # events handed to `add`
    documents: int = 0
    resends: int = 0
    newest: datetime = datetime.min  # newest eventTime handed to `add`, naive UTC
    _buffer: list[Event] = field(default_factory=list)
    _limit: int = 0
    _pending: list[tuple[int, Event]] = field(default_factory=list)  # (write after this many events, event)
    _last_sent: datetime = datetime.min  # send time of the newest event written, naive UTC
    _spool: Path = field(init=False)
    _days: dict[str, IO[bytes]] = field(default_factory=dict)  # send day (UTC) → its spool file

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._limit = self.rng.randint(300, 1000)
        self._spool = Path(tempfile.mkdtemp(prefix="oretrail-sim-spool-"))

    def add(self, event: Event, utc: datetime, resendable: bool = True, sent: datetime | None = None) -> None:
        """Queue one event that happened at `utc` and was sent at `sent` (default: as it happened);
        `resendable=False` for one about to be corrected, whose re-send would be ambiguous."""
        sent = sent or utc
        day = sent.strftime("%Y-%m-%d")
        fh = self._days.get(day)
        if fh is None:
            fh = self._days[day] = (self._spool / day).open("ab")
        fh.write(orjson.dumps([sent.isoformat(), self.generated, resendable, event]) + b"\n")
        self.generated += 1
        self.newest = max(self.newest, utc)

    def release(self, before: datetime) -> None:
        """Write out every event sent on a (UTC) day before `before`'s: the caller promises no more will come."""
        cutoff = before.strftime("%Y-%m-%d")
        for day in sorted(d for d in self._days if d < cutoff):
            self._days.pop(day).close()
            path = self._spool / day
            rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
            path.unlink()
            for sent, _, resendable, event in sorted(rows, key=lambda r: (r[0], r[1])):
                self._last_sent = datetime.fromisoformat(sent)
                self._write(event, resendable)

    def _write(self, event: Event, resendable: bool) -> None:
        self._append(event)
        if resendable and self.rng.random() < self.resend_rate:
            self._pending.append((self.events + self.rng.randint(5, 400), event))
        due = [e for n, e in self._pending if n <= self.events]
        if due:
            self._pending = [(n, e) for n, e in self._pending if n > self.events]
            for e in due:
                self._append(e)
                self.resends += 1

    def _append(self, event: Event) -> None:
        self._buffer.append(event)
        self.events += 1
        if len(self._buffer) >= self._limit:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        self.documents += 1
        doc = {
            "@context": [EPCIS_CONTEXT, {"ot": OT_NS}],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": stamp(self._last_sent + timedelta(hours=1), True),
            "epcisBody": {"eventList": self._buffer},
        }
        (self.folder / f"epcis-{self.documents:05d}.json").write_bytes(orjson.dumps(doc))
        self._buffer = []
        self._limit = self.rng.randint(300, 1000)

    def close(self) -> None:
        self.release(datetime.max)
        shutil.rmtree(self._spool, ignore_errors=True)
        for _, e in self._pending:
            self._append(e)
            self.resends += 1
        self._pending = []
        self._flush()
