"""The EPCIS query index: the fields the binding's query parameters filter on, one row per ledger event record.

It follows the ledger by a cursor instead of being written by capture: capture stays as fast as it was
(the benchmarks of the intake path are untouched), events loaded by `oretrail load` are found as well as
those sent over HTTP, and the index can be dropped and rebuilt from the ledger at any time. Every read of
the binding first brings the index up to the ledger's head (`catch_up`), so a query sees every event whose
capture has committed.

The original of a corrected event and its errorDeclaration are two records, and both are indexed: EPCIS
2.0 §7.4.1 keeps the erroneous event and adds the declaration (`EXISTS_errorDeclaration` tells them apart).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from oretrail.intake import vocabulary as voc
from oretrail.ledger.store import records
from oretrail.storage.schema import cursors, epcis_events, epcis_values, ledger

CURSOR = "epcis_index"
EVENT_KIND = "event"  # ledger record kind of EPCIS events (pipeline.EVENT, one floor above us)
_BATCH = 2000

# Quantity lists and EPC lists → the value kinds MATCH_* parameters read.
EPC_LISTS = {"epcList": "epc", "childEPCs": "epc", "inputEPCList": "input_epc", "outputEPCList": "output_epc"}
QUANTITY_LISTS = {
    "quantityList": "class",
    "childQuantityList": "class",
    "inputQuantityList": "input_class",
    "outputQuantityList": "output_class",
}
# Sensor attributes with an EQ_<attribute> parameter of their own (sensorMetadata and sensorReport alike).
SENSOR_ATTRIBUTES = (
    "type", "deviceID", "dataProcessingMethod", "microorganism", "chemicalSubstance", "bizRules", "stringValue",
    "hexBinaryValue", "uriValue", "booleanValue",
)  # fmt: skip
SENSOR_TIMES = ("startTime", "endTime")
_lock = threading.Lock()  # one catch-up at a time in this process; the cursor row serialises processes


def naive_utc(value: str) -> datetime:
    """An ISO 8601 time as naive UTC, the form of every time column; raises ValueError."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith(("Z", "z")) else value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def time_key(value: str) -> str:
    """A sortable text form of a time (sensor start and end times are kept as values, not columns)."""
    return naive_utc(value).isoformat(timespec="microseconds")


def folded(vocabulary: voc.Vocabulary, value: str, prefixes: Mapping[str, str] = voc.STANDARD_PREFIXES) -> str:
    """A CBV value folded as intake folds it (`urn:epcglobal:cbv:bizstep:shipping` → `shipping`); a value no
    spelling admits is kept as sent, so that a query for it finds nothing rather than failing."""
    try:
        return vocabulary.normalise(value, prefixes)
    except voc.VocabularyError:
        return value


def measurement_type(value: str, prefixes: Mapping[str, str] = voc.STANDARD_PREFIXES) -> str:
    """GS1 measurement types are bare words (`Temperature`); `gs1:Temperature` and the web IRI fold to it."""
    iri = voc.expand(value, prefixes)
    return iri[len(voc.GS1_NS) :] if iri.startswith(voc.GS1_NS) else value


def rows_of(seq: int, body: dict[str, Any], recorded_at: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The index row of one stored event and its value rows."""
    prefixes = voc.context_prefixes(body.get("@context", []), dict(voc.STANDARD_PREFIXES))
    declaration = body.get("errorDeclaration")
    event = {
        "seq": seq,
        "event_id": body["eventID"],
        "event_type": body["type"],
        "action": body.get("action"),
        "event_time": naive_utc(body["eventTime"]),
        "record_time": recorded_at,
        "biz_step": folded(voc.BIZ_STEP, body["bizStep"], prefixes) if body.get("bizStep") else None,
        "disposition": folded(voc.DISPOSITION, body["disposition"], prefixes) if body.get("disposition") else None,
        "read_point": (body.get("readPoint") or {}).get("id"),
        "biz_location": (body.get("bizLocation") or {}).get("id"),
        "transformation_id": body.get("transformationID"),
        "error_time": naive_utc(declaration["declarationTime"]) if declaration else None,
        "error_reason": (
            folded(voc.ERROR_REASON, declaration["reason"], prefixes) if declaration and declaration.get("reason")
            else None
        ),
    }  # fmt: skip
    values: list[dict[str, Any]] = []

    def add(kind: str, value: Any, quantity: float | None = None) -> None:
        values.append({"seq": seq, "n": len(values), "kind": kind, "value": str(value), "quantity": quantity})

    if body.get("parentID"):
        add("parent", body["parentID"])
    for key, kind in EPC_LISTS.items():
        for epc in body.get(key) or ():
            add(kind, epc)
    for key, kind in QUANTITY_LISTS.items():
        for element in body.get(key) or ():
            quantity = element.get("quantity")
            add(kind, element["epcClass"], float(quantity) if isinstance(quantity, int | float) else None)
    for part, kind in (("set", "pd_set"), ("unset", "pd_unset")):
        for value in (body.get("persistentDisposition") or {}).get(part) or ():
            add(kind, folded(voc.DISPOSITION, value, prefixes))
    for corrective in (declaration or {}).get("correctiveEventIDs") or ():
        add("corrective", corrective)
    for entry in body.get("bizTransactionList") or ():
        kind = folded(voc.BIZ_TRANSACTION_TYPE, entry["type"], prefixes) if entry.get("type") else ""
        add(f"btt:{kind}", entry["bizTransaction"])
    for key, field in (("sourceList", "source"), ("destinationList", "destination")):
        for entry in body.get(key) or ():
            add(f"{field}:{folded(voc.SOURCE_DEST_TYPE, entry['type'], prefixes)}", entry[field])
    for element in body.get("sensorElementList") or ():
        for part in (element.get("sensorMetadata") or {}, *(element.get("sensorReport") or ())):
            for attribute in SENSOR_ATTRIBUTES:
                value = part.get(attribute)
                if value is None:
                    continue
                if attribute == "type":
                    value = measurement_type(value, prefixes)
                elif attribute == "booleanValue":
                    value = "true" if value else "false"
                add(f"sensor:{attribute}", value)
            for attribute in SENSOR_TIMES:
                if part.get(attribute):
                    add(f"sensor:{attribute}", time_key(part[attribute]))
    return event, values


def catch_up(engine: Engine) -> int:
    """Index every ledger event record after the cursor; returns how many were indexed.

    The cursor row is locked first (an UPDATE), so two processes never index the same records: the second
    waits and then finds the cursor moved on."""
    with _lock, engine.begin() as conn:
        done = _claim(conn)
        count = 0
        last = done
        batch_events: list[dict[str, Any]] = []
        batch_values: list[dict[str, Any]] = []
        for rec in records(conn, after=done, kinds=(EVENT_KIND,)):
            event, values = rows_of(rec.seq, orjson.loads(rec.body), rec.recorded_at)
            batch_events.append(event)
            batch_values.extend(values)
            last = rec.seq
            count += 1
            if len(batch_events) >= _BATCH:
                _flush(conn, batch_events, batch_values)
        _flush(conn, batch_events, batch_values)
        if last != done:
            conn.execute(update(cursors).where(cursors.c.name == CURSOR).values(seq=last))
        return count


def _claim(conn: Connection) -> int:
    """Lock the index's cursor row (creating it at 0) and return its position."""
    locked = conn.execute(update(cursors).where(cursors.c.name == CURSOR).values(seq=cursors.c.seq))
    if locked.rowcount == 0:
        conn.execute(insert(cursors).values(name=CURSOR, seq=0))
        return 0
    return int(conn.execute(select(cursors.c.seq).where(cursors.c.name == CURSOR)).scalar_one())


def _flush(conn: Connection, batch_events: list[dict[str, Any]], batch_values: list[dict[str, Any]]) -> None:
    if batch_events:
        conn.execute(insert(epcis_events), batch_events)
    if batch_values:
        conn.execute(insert(epcis_values), batch_values)
    batch_events.clear()
    batch_values.clear()


def bodies(conn: Connection, seqs: list[int]) -> Iterator[tuple[int, dict[str, Any], datetime]]:
    """The stored events of `seqs`, in that order, as (seq, event JSON, record time)."""
    found: dict[int, tuple[str, datetime]] = {}
    for i in range(0, len(seqs), 500):
        chunk = seqs[i : i + 500]
        q = select(ledger.c.seq, ledger.c.body, ledger.c.recorded_at).where(ledger.c.seq.in_(chunk))
        found.update({seq: (body, at) for seq, body, at in conn.execute(q)})
    for seq in seqs:
        body, at = found[seq]
        yield seq, orjson.loads(body), at
