"""The simulator's documents re-cut as real senders send them: one EPCIS document per enterprise and month.

The simulator writes documents in the order events are sent, mixing enterprises; a national dataset comes
per enterprise and month instead, and arrives in no global time order. Tests and `bench/detect.py` load
these in several orders to hold the platform to the same final state whatever the order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import orjson

from oretrail.ids import party_of_location
from oretrail.pipeline import document_paths


class SentDocument(NamedTuple):
    sender: str  # the enterprise whose facility the events happened at, or that sent them on
    month: str  # YYYY-MM of the events (a correction goes with the month of the event it corrects)
    path: Path


def per_sender(events: Path, out: Path) -> list[SentDocument]:
    """Every event of the documents under `events`, written to `out` one document per sender and month."""
    groups: dict[tuple[str, str], list[Any]] = {}
    context: Any = None
    for path in document_paths([events]):
        doc = orjson.loads(path.read_bytes())
        context = doc["@context"]
        for ev in doc["epcisBody"]["eventList"]:
            place = (ev.get("bizLocation") or ev.get("readPoint") or {}).get("id", "")
            owners = [s["source"] for s in ev.get("sourceList", []) if s.get("type", "").endswith("owning_party")]
            sender = party_of_location(place) or (owners[0] if owners else "unknown")
            # A correction travels in the report of the month it corrects: the simulator's senders declare
            # their errors within hours, long before that month's reporting deadline.
            groups.setdefault((sender, ev["eventTime"][:7]), []).append(ev)
    out.mkdir(parents=True, exist_ok=True)
    sent = []
    for n, ((sender, month), evs) in enumerate(sorted(groups.items())):
        doc = {
            "@context": context,
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": f"{month}-28T00:00:00Z",
            "epcisBody": {"eventList": evs},
        }
        path = out / f"doc-{n:05d}.json"
        path.write_bytes(orjson.dumps(doc))
        sent.append(SentDocument(sender, month, path))
    return sent
