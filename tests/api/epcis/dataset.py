"""A small EPCIS dataset with known answers: seven events of every type, and a correction of one of them.

Each event differs from the others in the fields the query parameters read, so a test can say exactly
which events a parameter must return."""

from __future__ import annotations

from typing import Any

CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld", {"ex": "https://example.org/ns/"}]
RP1, RP2 = "urn:epc:id:sgln:0614141.00777.1", "urn:epc:id:sgln:0614141.00777.2"
L1, L2 = "urn:epc:id:sgln:0614141.00888.0", "urn:epc:id:sgln:0614141.00999.0"
SGTIN = "urn:epc:id:sgtin:0614141.107346."
LOT_A, LOT_B, LOT_X = (
    "urn:epc:class:lgtin:0614141.107346.LA",
    "urn:epc:class:lgtin:0614141.107350.LB",
    "urn:epc:class:lgtin:4012345.011111.LX",
)
PALLET = "urn:epc:id:sscc:0614141.1234567890"
E = {n: f"urn:uuid:00000000-0000-4000-8000-00000000000{n}" for n in range(1, 8)}


def _base(n: int, kind: str, day: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "eventID": E[n], "eventTime": f"2025-01-0{day}T10:00:00Z", "eventTimeZoneOffset": "+00:00",
            **fields}  # fmt: skip


def events() -> list[dict[str, Any]]:
    return [
        _base(1, "ObjectEvent", 1, action="ADD", bizStep="commissioning", disposition="active",
              readPoint={"id": RP1}, bizLocation={"id": L1}, epcList=[SGTIN + "1", SGTIN + "2"],
              quantityList=[{"epcClass": LOT_A, "quantity": 100, "uom": "KGM"}],
              persistentDisposition={"set": ["completeness_verified"]},
              bizTransactionList=[{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:P1"}],
              sourceList=[{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00001"}],
              destinationList=[{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.00002"}],
              sensorElementList=[{
                  "sensorMetadata": {"time": "2025-01-01T09:00:00Z", "deviceID": "urn:epc:id:giai:4000001.111",
                                     "startTime": "2025-01-01T08:00:00Z", "endTime": "2025-01-01T09:30:00Z",
                                     "bizRules": "https://example.org/rules/1"},
                  "sensorReport": [{"type": "Temperature", "value": 21.5, "uom": "CEL"},
                                   {"type": "gs1:Humidity", "value": 40, "uom": "A93",
                                    "stringValue": "dry", "booleanValue": True}],
              }]),
        _base(2, "ObjectEvent", 2, action="OBSERVE", bizStep="shipping", disposition="in_transit",
              readPoint={"id": RP1}, bizLocation={"id": L2}, epcList=[SGTIN + "2"]),
        _base(3, "AggregationEvent", 3, action="ADD", bizStep="urn:epcglobal:cbv:bizstep:packing",
              parentID=PALLET, childEPCs=[SGTIN + "3"],
              childQuantityList=[{"epcClass": LOT_B, "quantity": 5, "uom": "KGM"}]),
        _base(4, "TransformationEvent", 4, transformationID="urn:uuid:11111111-2222-4333-8444-555555555555",
              bizStep="https://ref.gs1.org/cbv/BizStep-commissioning",
              inputEPCList=[SGTIN + "1"], outputEPCList=["urn:epc:id:sgtin:4012345.011111.9"],
              inputQuantityList=[{"epcClass": LOT_A, "quantity": 50, "uom": "KGM"}],
              outputQuantityList=[{"epcClass": LOT_X, "quantity": 20, "uom": "KGM"}]),
        _base(5, "TransactionEvent", 5, action="ADD", bizStep="receiving", disposition="in_progress",
              readPoint={"id": RP2}, epcList=[SGTIN + "4"],
              bizTransactionList=[{"type": "inv", "bizTransaction": "urn:epcglobal:cbv:bt:0614141073467:I1"}]),
        _base(6, "AssociationEvent", 6, action="ADD", bizStep="assembling",
              parentID="urn:epc:id:grai:4012345.55555.1", childEPCs=["urn:epc:id:giai:4000001.222"]),
        _base(7, "ObjectEvent", 7, action="DELETE", bizStep="decommissioning", epcList=[SGTIN + "2"],
              readPoint={"id": RP2}),
    ]  # fmt: skip


def correction() -> dict[str, Any]:
    """Event 2 declared in error, with event 7 as its corrective event."""
    return {**events()[1], "errorDeclaration": {"declarationTime": "2025-02-01T00:00:00Z", "reason": "incorrect_data",
                                               "correctiveEventIDs": [E[7]]}}  # fmt: skip


def document(evs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2025-03-01T00:00:00Z", "epcisBody": {"eventList": evs}}  # fmt: skip
