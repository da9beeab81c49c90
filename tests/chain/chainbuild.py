"""Hand-made chain readings for projection tests: a whole antimony chain, mine to port, in a few lines."""

from __future__ import annotations

from datetime import datetime, timedelta

from oretrail.ids import BTT_BOL, BTT_DECLARATION, BTT_INVOICE
from oretrail.model import ChainEvent, ErrorDeclaration, LotQty

USCC_A = "91360700MA35F0AX28"
MINER = f"urn:oretrail:party:uscc:{USCC_A}"
MINE = f"urn:oretrail:loc:{USCC_A}:mine-1"
SMELTER = f"urn:oretrail:loc:{USCC_A}:smelter-1"
BUYER = "urn:oretrail:party:uscc:91430100MA4L0XXXX0"
PORT = "urn:oretrail:port:CNSHA"
T0 = datetime(2025, 3, 1, 8, 0)
ELEMENTS = {"sb.ore": "Sb", "sb.concentrate": "Sb", "sb.metal": "Sb"}


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def mine(eid: str, lot: str, kg: float, grade: float = 0.02, days: float = 0, place: str = MINE) -> ChainEvent:
    return ChainEvent(
        event_id=eid,
        event_type="ObjectEvent",
        event_time=at(days),
        action="ADD",
        biz_step="commissioning",
        stage="mining",
        biz_location=place,
        quantities=(LotQty(lot, round(kg * 1000)),),
        material="sb.ore",
        grade=grade,
    )


def ship(eid: str, lots: dict[str, float], waybill: str, origin: str, dest: str, days: float) -> ChainEvent:
    return ChainEvent(
        event_id=eid,
        event_type="ObjectEvent",
        event_time=at(days),
        action="OBSERVE",
        biz_step="shipping",
        stage="transportation",
        biz_location=origin,
        quantities=tuple(LotQty(k, round(v * 1000)) for k, v in lots.items()),
        destinations={"location": dest, "possessing_party": MINER},
        biz_transactions=((BTT_BOL, waybill),),
    )


def receive(eid: str, lots: dict[str, float], waybill: str, place: str, days: float) -> ChainEvent:
    return ChainEvent(
        event_id=eid,
        event_type="ObjectEvent",
        event_time=at(days),
        action="OBSERVE",
        biz_step="receiving",
        stage="transportation",
        biz_location=place,
        quantities=tuple(LotQty(k, round(v * 1000)) for k, v in lots.items()),
        biz_transactions=((BTT_BOL, waybill),),
    )


def transform(
    eid: str,
    inputs: dict[str, float],
    outputs: dict[str, float],
    material: str,
    grade: float,
    days: float,
    place: str = SMELTER,
    stage: str = "smelting",
) -> ChainEvent:
    return ChainEvent(
        event_id=eid,
        event_type="TransformationEvent",
        event_time=at(days),
        biz_step="commissioning",
        stage=stage,
        biz_location=place,
        inputs=tuple(LotQty(k, round(v * 1000)) for k, v in inputs.items()),
        outputs=tuple(LotQty(k, round(v * 1000)) for k, v in outputs.items()),
        material=material,
        grade=grade,
    )


def sell(
    eid: str, lots: dict[str, float], seller: str, buyer: str, days: float, place: str | None = None
) -> ChainEvent:
    return ChainEvent(
        event_id=eid,
        event_type="TransactionEvent",
        event_time=at(days),
        action="ADD",
        biz_step="selling",
        stage="sales",
        biz_location=place,
        quantities=tuple(LotQty(k, round(v * 1000)) for k, v in lots.items()),
        sources={"owning_party": seller},
        destinations={"owning_party": buyer},
        biz_transactions=((BTT_INVOICE, "urn:inv:1"),),
    )


def export(eid: str, lots: dict[str, float], declaration: str, days: float, port: str = PORT) -> ChainEvent:
    return ChainEvent(
        event_id=eid,
        event_type="ObjectEvent",
        event_time=at(days),
        action="OBSERVE",
        biz_step="departing",
        stage="export",
        biz_location=port,
        quantities=tuple(LotQty(k, round(v * 1000)) for k, v in lots.items()),
        biz_transactions=((BTT_DECLARATION, f"urn:oretrail:declaration:{declaration}"),),
    )


def retraction(original: ChainEvent, days: float, corrective: tuple[str, ...] = ()) -> ChainEvent:
    return original._replace(error_declaration=ErrorDeclaration(at(days), "incorrect_data", corrective))


def full_chain() -> list[ChainEvent]:
    wb1, wb2 = "urn:oretrail:waybill:W1", "urn:oretrail:waybill:W2"
    return [
        mine("e1", "L-ore-1", 10_000, 0.03, 0),
        mine("e2", "L-ore-2", 5_000, 0.02, 1),
        ship("e3", {"L-ore-1": 10_000, "L-ore-2": 5_000}, wb1, MINE, SMELTER, 2),
        receive("e4", {"L-ore-1": 10_000, "L-ore-2": 5_000}, wb1, SMELTER, 4),
        transform("e5", {"L-ore-1": 10_000, "L-ore-2": 5_000}, {"L-met-1": 300, "L-met-2": 60}, "sb.metal", 0.99, 6),
        sell("e6", {"L-met-1": 300}, MINER, BUYER, 7, place=SMELTER),
        ship("e7", {"L-met-1": 300}, wb2, SMELTER, PORT, 8),
        receive("e8", {"L-met-1": 300}, wb2, PORT, 9),
        export("e9", {"L-met-1": 300}, "530120250000000001", 10),
    ]
