"""Small builders of oretrail profile events (SPEC.md §2), for any test that needs EPCIS input.

Each function returns a plain event dict that `read_document` accepts as is; pass keyword arguments to
change what a test is about, and mutate the dict to break it. `document(*events)` wraps events in an
EPCISDocument whose @context binds `ot:`; `encode(doc)` gives the bytes intake reads.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import orjson

OT_NS = "https://oretrail.org/ns/"
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/epcis-context.jsonld"
OT_CONTEXT: list[Any] = [EPCIS_CONTEXT, {"ot": OT_NS}]

USCC = "91360700MA35F0AX28"
BUYER_USCC = "91440300MA5EXAMPLE"
PARTY = f"urn:oretrail:party:uscc:{USCC}"
BUYER = f"urn:oretrail:party:uscc:{BUYER_USCC}"
CARRIER = "urn:oretrail:party:uscc:91110000CARRIER01"
MINE = f"urn:oretrail:loc:{USCC}:mine-1"
SMELTER = f"urn:oretrail:loc:{USCC}:smelter-1"
WAREHOUSE = f"urn:oretrail:loc:{BUYER_USCC}:warehouse-1"
PORT = "urn:oretrail:port:CNSZX"
TIME = "2025-06-01T08:00:00+08:00"

_ids = itertools.count(1)

Lots = Sequence[tuple[str, float]]


def lot(code: str, uscc: str = USCC) -> str:
    return f"urn:oretrail:lot:{uscc}:{code}"


def quantities(lots: Lots, uom: str = "KGM") -> list[dict[str, Any]]:
    return [{"epcClass": epc_class, "quantity": qty, "uom": uom} for epc_class, qty in lots]


def _event(kind: str, stage: str, event_id: str | None, time: str, **fields: Any) -> dict[str, Any]:
    ev: dict[str, Any] = {
        "type": kind,
        "eventID": event_id or f"urn:uuid:00000000-0000-4000-8000-{next(_ids):012d}",
        "eventTime": time,
        "eventTimeZoneOffset": time[-6:] if time[-6] in "+-" else "+00:00",
    }
    ev.update(fields)
    ev["ot:stage"] = stage
    return ev


def mining(
    lots: Lots = ((lot("ore-1"), 1000.0),),
    material: str = "w.ore",
    grade: float = 0.005,
    *,
    location: str = MINE,
    event_id: str | None = None,
    time: str = TIME,
) -> dict[str, Any]:
    return _event(
        "ObjectEvent", "mining", event_id, time,
        action="ADD", bizStep="commissioning", bizLocation={"id": location},
        quantityList=quantities(lots), ilmd={"ot:material": material, "ot:grade": grade},
    )  # fmt: skip


def transformation(
    stage: str,
    inputs: Lots,
    outputs: Lots,
    material: str,
    grade: float,
    *,
    location: str = SMELTER,
    event_id: str | None = None,
    time: str = TIME,
) -> dict[str, Any]:
    return _event(
        "TransformationEvent", stage, event_id, time,
        bizStep="commissioning", bizLocation={"id": location},
        inputQuantityList=quantities(inputs), outputQuantityList=quantities(outputs),
        ilmd={"ot:material": material, "ot:grade": grade},
    )  # fmt: skip


def smelting(**kw: Any) -> dict[str, Any]:
    args = {"inputs": [(lot("ore-1"), 1000.0)], "outputs": [(lot("conc-1"), 80.0)]}
    return transformation("smelting", **{**args, "material": "w.concentrate", "grade": 0.6, **kw})


def processing(**kw: Any) -> dict[str, Any]:
    args = {"inputs": [(lot("conc-1"), 80.0)], "outputs": [(lot("apt-1"), 60.0)]}
    return transformation("processing", **{**args, "material": "w.apt", "grade": 0.7, **kw})


def manufacturing(**kw: Any) -> dict[str, Any]:
    args = {"inputs": [(lot("apt-1"), 60.0)], "outputs": [(lot("carbide-1"), 40.0)]}
    return transformation("manufacturing", **{**args, "material": "w.carbide", "grade": 0.9, **kw})


def shipping(
    lots: Lots = ((lot("conc-1"), 80.0),),
    waybill: str = "urn:oretrail:waybill:WB0001",
    *,
    origin: str = SMELTER,
    destination: str = WAREHOUSE,
    carrier: str = CARRIER,
    event_id: str | None = None,
    time: str = TIME,
) -> dict[str, Any]:
    return _event(
        "ObjectEvent", "transportation", event_id, time,
        action="OBSERVE", bizStep="shipping", disposition="in_transit", bizLocation={"id": origin},
        quantityList=quantities(lots),
        bizTransactionList=[{"type": "bol", "bizTransaction": waybill}],
        destinationList=[
            {"type": "location", "destination": destination},
            {"type": "possessing_party", "destination": carrier},
        ],
    )  # fmt: skip


def receiving(
    lots: Lots = ((lot("conc-1"), 80.0),),
    waybill: str = "urn:oretrail:waybill:WB0001",
    *,
    location: str = WAREHOUSE,
    event_id: str | None = None,
    time: str = "2025-06-03T10:00:00+08:00",
) -> dict[str, Any]:
    return _event(
        "ObjectEvent", "transportation", event_id, time,
        action="OBSERVE", bizStep="receiving", bizLocation={"id": location},
        quantityList=quantities(lots),
        bizTransactionList=[{"type": "bol", "bizTransaction": waybill}],
    )  # fmt: skip


def sales(
    lots: Lots = ((lot("conc-1"), 80.0),),
    invoice: str = "urn:oretrail:invoice:INV0001",
    *,
    seller: str = PARTY,
    buyer: str = BUYER,
    event_id: str | None = None,
    time: str = TIME,
) -> dict[str, Any]:
    return _event(
        "TransactionEvent", "sales", event_id, time,
        action="ADD", quantityList=quantities(lots),
        bizTransactionList=[{"type": "inv", "bizTransaction": invoice}],
        sourceList=[{"type": "owning_party", "source": seller}],
        destinationList=[{"type": "owning_party", "destination": buyer}],
    )  # fmt: skip


def export(
    lots: Lots = ((lot("carbide-1"), 40.0),),
    declaration_no: str = "530120250000123456",
    *,
    port: str = PORT,
    event_id: str | None = None,
    time: str = TIME,
) -> dict[str, Any]:
    return _event(
        "ObjectEvent", "export", event_id, time,
        action="OBSERVE", bizStep="departing", bizLocation={"id": port},
        quantityList=quantities(lots),
        bizTransactionList=[
            {"type": "urn:oretrail:btt:declaration", "bizTransaction": f"urn:oretrail:declaration:{declaration_no}"}
        ],
    )  # fmt: skip


def document(*events: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return {
        "@context": OT_CONTEXT if context is None else context,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-06-03T12:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


def encode(doc: Any) -> bytes:
    return orjson.dumps(doc)
