"""Building projection state row by row, without the projector, so each rule test states exactly its facts.

Defaults describe one honest chain (a Ga refinery in Jiangxi exporting to Germany); a test overrides only the
fact it is about. Quantities are given in kilograms and stored as integer grams, as the projector does.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Table, insert

from oretrail.screening.entities import read_entities
from oretrail.screening.store import watchlist_rows
from oretrail.storage import schema as s

T0 = datetime(2025, 6, 1, 8, 0, 0)
USCC_A = "91360700MA35F0AX28"  # passes the GB 32100-2015 check digit
EXPORTER = "urn:oretrail:party:uscc:" + USCC_A
REFINERY = f"urn:oretrail:loc:{USCC_A}:refinery-1"
MINE = f"urn:oretrail:loc:{USCC_A}:mine-1"
PORT = "urn:oretrail:port:CNSZX"


def g(kg: float) -> int:
    return round(kg * 1000)


class State:
    def __init__(self, conn: Connection | None) -> None:
        """With a connection rows go in at once; without one they are kept for `write` (in any order)."""
        self.conn = conn
        self.seq = 0
        self.event_seq: dict[str, int] = {}  # event_lots rows name their event's ledger seq, as the projector's do
        self.rows: list[tuple[Table, dict[str, Any]]] = []
        self.positions: dict[tuple[str, str, str], int] = defaultdict(int)

    def _put(self, table: Table, row: dict[str, Any]) -> None:
        if self.conn is None:
            self.rows.append((table, row))
        else:
            self.conn.execute(insert(table).values(**row))

    def close(self) -> None:
        """Write `positions`, the per-owner sums of the draws and additions so far (docs/projections.md)."""
        for (lot, place, owner), grams in sorted(self.positions.items()):
            if grams:
                self._put(s.positions, {"lot_id": lot, "place": place, "owner": owner, "grams": grams})
        self.positions.clear()

    def write(self, conn: Connection, seed: int | None = None) -> None:
        """Insert the kept rows, shuffled when a seed is given: the order feeds arrived in must not matter."""
        rows = list(self.rows)
        if seed is not None:
            random.Random(seed).shuffle(rows)
        for table, row in rows:
            conn.execute(insert(table).values(**row))

    def _seq(self) -> int:
        self.seq += 1
        return self.seq

    def enterprise(
        self, party: str = EXPORTER, province: str = "CN-JX", name: str = "Ganzhou Example Co., Ltd."
    ) -> None:
        uscc = party.rsplit(":", 1)[1]
        self._put(
            s.enterprises, dict(party_id=party, uscc=uscc, name=name, province=province, stages="[]", seq=self._seq())
        )

    def facility(
        self, location: str = REFINERY, owner: str = EXPORTER, province: str = "CN-JX", type_: str = "refinery"
    ) -> None:
        self._put(s.facilities, dict(location_id=location, owner=owner, type=type_, province=province, seq=self._seq()))

    def event(
        self,
        event_id: str,
        *,
        time: datetime = T0,
        stage: str | None = None,
        event_type: str = "ObjectEvent",
        biz_step: str | None = None,
        location: str | None = REFINERY,
        retracted: bool = False,
        **extra: Any,
    ) -> None:
        self.event_seq[event_id] = self._seq()
        self._put(
            s.events,
            dict(
                event_id=event_id,
                seq=self.event_seq[event_id],
                event_type=event_type,
                stage=stage,
                biz_step=biz_step,
                event_time=time,
                biz_location=location,
                retracted=retracted,
                **extra,
            ),
        )

    def lot(
        self,
        lot_id: str,
        material: str | None,
        kg: float,
        grade: float | None,
        *,
        element: str | None = None,
        created_event: str = "urn:uuid:create",
        stage: str | None = "mining",
        location: str | None = MINE,
        time: datetime = T0,
    ) -> None:
        el = element if element is not None else (material.split(".")[0].capitalize() if material else None)
        if material and material.startswith("graphite"):
            el = "C"
        self._put(
            s.lots,
            dict(
                lot_id=lot_id,
                material=material,
                element=el,
                grade=grade,
                mass_g=g(kg),
                element_mg=round(g(kg) * 1000 * grade) if grade is not None else None,
                created_event=created_event,
                created_stage=stage,
                created_location=location,
                created_at=time,
            ),
        )

    def event_lot(
        self,
        event_id: str,
        lot_id: str,
        role: str,
        kg: float,
        time: datetime = T0,
        *,
        drawn_at: str | None = None,
        put_at: str | None = None,
        owner: str = EXPORTER,
    ) -> None:
        """What an event did to a lot, with the place it drew the lot from and the place it put it, if any."""
        if event_id not in self.event_seq:  # a draw whose event is not recorded still has a capture
            self.event_seq[event_id] = self._seq()
        row = dict(
            seq=self.event_seq[event_id],
            event_id=event_id,
            lot_id=lot_id,
            role=role,
            grams=g(kg),
            event_time=time,
            from_place=drawn_at,
            from_owner=owner if drawn_at is not None else None,
            to_place=put_at,
            to_owner=owner if put_at is not None else None,
        )
        self._put(s.event_lots, row)
        if drawn_at is not None:
            self.positions[(lot_id, drawn_at, owner)] -= g(kg)
        if put_at is not None:
            self.positions[(lot_id, put_at, owner)] += g(kg)

    def draw(self, event_id: str, lot_id: str, place: str, kg: float) -> None:
        """A lot consumed at a place by an event of which nothing else is recorded."""
        self.event_lot(event_id, lot_id, "input", kg, drawn_at=place)

    def genealogy(self, event_id: str, inputs: list[str], outputs: list[str]) -> None:
        for i in inputs:
            for o in outputs:
                self._put(s.genealogy, {"event_id": event_id, "input_lot": i, "output_lot": o})

    def mine(self, lot_id: str, material: str, kg: float, grade: float, event_id: str | None = None) -> str:
        """A mining event creating one lot at the mine."""
        eid = event_id or f"urn:uuid:mine-{lot_id.rsplit(':', 1)[-1]}"
        self.event(eid, stage="mining", biz_step="commissioning", location=MINE, action="ADD")
        self.lot(lot_id, material, kg, grade, created_event=eid, stage="mining", location=MINE)
        self.event_lot(eid, lot_id, "created", kg, put_at=MINE)
        return eid

    def transform(
        self,
        event_id: str,
        inputs: list[tuple[str, float]],
        outputs: list[tuple[str, str, float, float]],
        *,
        location: str = REFINERY,
        stage: str = "smelting",
        time: datetime = T0,
    ) -> None:
        """inputs: (lot, kg consumed); outputs: (lot, material, kg, grade)."""
        self.event(event_id, stage=stage, event_type="TransformationEvent", location=location, time=time)
        for lot, kg in inputs:
            self.event_lot(event_id, lot, "input", kg, time, drawn_at=location)
        for lot, material, kg, grade in outputs:
            self.lot(lot, material, kg, grade, created_event=event_id, stage=stage, location=location, time=time)
            self.event_lot(event_id, lot, "output", kg, time, put_at=location)
        self.genealogy(event_id, [i for i, _ in inputs], [o[0] for o in outputs])

    def export(self, event_id: str, lot_id: str, kg: float, declaration_no: str, port: str = PORT) -> None:
        self.event(event_id, stage="export", biz_step="departing", location=port, declaration_no=declaration_no)
        self.event_lot(event_id, lot_id, "exported", kg)
        self._put(
            s.exports,
            dict(
                event_id=event_id, lot_id=lot_id, declaration_no=declaration_no, port=port, grams=g(kg), event_time=T0
            ),
        )

    def shipment(
        self,
        waybill: str,
        *,
        origin: str = REFINERY,
        dest: str | None = "urn:oretrail:loc:91360700MA35F0AX28:warehouse-1",
        dest_party: str | None = None,
        dispatched: datetime = T0,
        received: datetime | None = None,
        received_at_location: str | None = None,
        kg: float = 100,
        lot: str | None = None,
    ) -> None:
        key = waybill.rsplit(":", 1)[-1]
        dispatch, receipt = f"urn:uuid:ship-{key}", f"urn:uuid:recv-{key}" if received else None
        self.event(
            dispatch,
            stage="transportation",
            biz_step="shipping",
            location=origin,
            time=dispatched,
            waybill=waybill,
            dest_location=dest,
            dest_party=dest_party,
        )
        if lot:
            self.event_lot(dispatch, lot, "shipped", kg, dispatched, drawn_at=origin, put_at=waybill)
        if received:
            self.event(
                receipt,
                stage="transportation",
                biz_step="receiving",
                location=received_at_location or dest,
                time=received,
                waybill=waybill,
            )
            if lot:
                put_at = received_at_location or dest or ""
                self.event_lot(receipt, lot, "received", kg, received, drawn_at=waybill, put_at=put_at)
        self._put(
            s.shipments,
            dict(
                waybill=waybill,
                origin=origin,
                dest_location=dest,
                dest_party=dest_party,
                dispatch_event=dispatch,
                dispatched_at=dispatched,
                grams=g(kg),
                receipt_event=receipt,
                received_at=received,
                received_location=(received_at_location or dest) if received else None,
            ),
        )

    def sale(self, event_id: str, lot_id: str, kg: float, seller: str, buyer: str, time: datetime = T0) -> None:
        self.event(
            event_id, stage="sales", event_type="TransactionEvent", time=time, source_party=seller, dest_party=buyer
        )
        self.event_lot(event_id, lot_id, "sold", kg, time)

    def licence(self, licence_no: str = "EL2025JX000123", **over: Any) -> None:
        row = {
            "licence_no": licence_no,
            "exporter": EXPORTER,
            "material": "ga.metal",
            "hs_code": "8112929010",
            "quantity_g": g(500),
            "destination": "DE",
            "consignee": "Example Semiconductor GmbH",
            "end_user": "Example Semiconductor GmbH",
            "end_use": "GaAs wafers",
            "port": None,
            "valid_from": date(2025, 3, 1),
            "valid_to": date(2025, 12, 31),
            "status": "approved",
            "seq": self._seq(),
        } | over
        self._put(s.licences, row)

    def mirror_row(self, reporter: str, cmd: str, period: str, kg: float, value_usd: float) -> None:
        """A partner's reported imports from China (SPEC.md §1 mirror feed)."""
        row = dict(reporter=reporter, partner="CN", flow="M", cmd=cmd, period=period, net_kg=kg, value_usd=value_usd)
        self._put(s.mirror, row)

    def watchlist(self, entities: list[dict[str, Any]]) -> None:
        """The stored watch list, from FollowTheMoney entities as OpenSanctions publishes them."""
        listed = list(read_entities((orjson.dumps(e) for e in entities), document="test list"))
        for row in watchlist_rows(listed):
            self._put(s.watchlist, row)

    def declaration(self, declaration_no: str = "530120250000123456", **over: Any) -> None:
        row = {
            "declaration_no": declaration_no,
            "date": date(2025, 6, 3),
            "exporter": EXPORTER,
            "hs_code": "8112929010",
            "description": "gallium, unwrought, 99.99%",
            "net_g": g(120),
            "value_usd": 84000.0,  # 700 USD/kg, inside ga.metal's reference range
            "destination": "DE",
            "consignee": "Example Semiconductor GmbH",
            "port": "CNSZX",
            "licence_no": "EL2025JX000123",
            "seq": self._seq(),
        } | over
        self._put(s.declarations, row)

    # --- supervision (issue 14): the tables the supervision feeds project into ---------------------------
    def facility_status(self, facility: str, since: date, status: str, inspection: str = "INS-1") -> None:
        self._put(s.facility_statuses, {"facility": facility, "since": since, "inspection_id": inspection,
                                        "status": status})  # fmt: skip

    def corrective_action(
        self, action: str, due: date, *, opened: date = date(2025, 3, 1), closed: date | None = None,
        party: str = EXPORTER, inspection: str = "INS-1",
    ) -> None:  # fmt: skip
        self._put(s.corrective_actions, {"id": action, "inspection_id": inspection, "enterprise": party,
                                         "facility": None, "item": "icp.training", "text": "train the staff",
                                         "opened_on": opened, "due_on": due, "seq": self._seq()})  # fmt: skip
        if closed is not None:
            self._put(s.action_closures, {"action_id": action, "closed_on": closed, "by": "inspector",
                                          "evidence": "[]", "seq": self._seq()})  # fmt: skip

    def monthly_report(self, period: str, filed: datetime, lines: list[dict[str, Any]], party: str = EXPORTER) -> None:
        """A report as projected: `lines` give kilograms per flow (`produced_kg`, ...), stored as grams."""
        stored = [{"material": ln["material"], **{f"{f}_g": g(ln.get(f"{f}_kg", 0)) for f in
                                                   ("produced", "received", "consumed", "shipped", "exported")}}
                  for ln in lines]  # fmt: skip
        self._put(s.monthly_reports, {"enterprise": party, "period": period, "filed_at": filed,
                                      "lines": orjson.dumps(stored).decode(), "seq": self._seq()})  # fmt: skip


def days(n: float) -> timedelta:
    return timedelta(days=n)


UNREGISTERED = "urn:oretrail:party:uscc:91440300MA5G000001"
OTHER_SMELTER = f"urn:oretrail:loc:{USCC_A}:smelter-9"


def national_sample(st: State) -> None:
    """One small country with one violation of every rule next to lawful business: the fixture of the scope,
    arrival-order and back-end tests."""
    st.enterprise()
    st.facility()
    st.facility(MINE, type_="mine")
    # Lawful: mined crude gallium, shipped, refined, exported under a valid licence.
    st.mine("urn:oretrail:lot:A:c", "ga.crude", 100, 0.999)
    st.shipment("urn:oretrail:waybill:1", origin=MINE, dest=REFINERY, received=T0 + days(3), lot="urn:oretrail:lot:A:c")
    st.transform("urn:uuid:r", [("urn:oretrail:lot:A:c", 100)], [("urn:oretrail:lot:A:m", "ga.metal", 95, 0.9999)])
    st.licence()
    st.declaration(net_g=95_000, value_usd=95 * 700.0)
    st.export("urn:uuid:x", "urn:oretrail:lot:A:m", 95, "530120250000123456")
    # licence.overdrawn + licence.mismatch (consignee) + licence.invalid (date) on a second licence.
    st.licence("EL2025JX000002", quantity_g=100_000)
    st.declaration("530120250000000021", licence_no="EL2025JX000002", net_g=80_000, value_usd=56_000.0)
    st.declaration(
        "530120250000000022",
        licence_no="EL2025JX000002",
        net_g=40_000,
        value_usd=28_000.0,
        consignee="Other Trading Ltd",
        date=date(2026, 2, 1),
    )
    # licence.missing + declaration.unit_value.
    st.declaration("530120250000000001", licence_no=None, value_usd=120 * 20.0)
    # declaration.misclassified + trace.no_provenance: laundered gallium under an uncontrolled code.
    st.mine("urn:oretrail:lot:A:c2", "ga.crude", 100, 0.99)
    st.transform(
        "urn:uuid:r2",
        [("urn:oretrail:lot:A:c2", 100), ("urn:oretrail:lot:X:ghost", 50)],
        [("urn:oretrail:lot:A:m2", "ga.metal", 200, 0.9999)],  # also balance.transformation: 200 kg of Ga from 149
    )
    st.declaration("530120250000000051", hs_code="8112929099", licence_no=None, net_g=200_000, value_usd=140_000.0)
    st.export("urn:uuid:exp-51", "urn:oretrail:lot:A:m2", 200, "530120250000000051")
    # balance.lot: drawn twice.
    st.draw("urn:uuid:draw-x", "urn:oretrail:lot:A:c2", MINE, 30)
    # transit: one overdue, one diverted.
    st.shipment("urn:oretrail:waybill:late", dispatched=T0 + days(1))
    st.shipment("urn:oretrail:waybill:div", received=T0 + days(2), received_at_location=OTHER_SMELTER)
    st.event("urn:uuid:clock", time=T0 + days(30))
    # intake.off_profile: a smelter recorded a commissioning as an ObjectEvent, which the profile does not foresee.
    st.event(
        "urn:uuid:off-profile",
        stage="smelting",
        biz_step="commissioning",
        action="ADD",
        off_profile=orjson.dumps(
            {"reading": "creation", "departures": [["type", "a smelting event is a TransformationEvent"]]}
        ).decode(),
    )
    # party.unregistered.
    st.mine("urn:oretrail:lot:A:s1", "sb.ore", 1000, 0.05)
    st.sale("urn:uuid:sale-2", "urn:oretrail:lot:A:s1", 200, EXPORTER, UNREGISTERED)
    outside_signals(st)
    supervision_facts(st)
    st.close()


SUSPENDED_MINE = f"urn:oretrail:loc:{USCC_A}:mine-2"


def supervision_facts(st: State) -> None:
    """The supervision rules, each raised once on facts of their own (issue 14)."""
    # supervision.suspended_facility + supervision.late_report: a mine suspended on 1 May mines a lot on
    # 5 May (Beijing), a month the exporter never reported (due 10 June; the clock is 1 July).
    st.facility(SUSPENDED_MINE, type_="mine")
    st.facility_status(SUSPENDED_MINE, date(2025, 5, 1), "red")
    mined = datetime(2025, 5, 5, 2, 0)
    st.event("urn:uuid:mine-sus", stage="mining", biz_step="commissioning", location=SUSPENDED_MINE, action="ADD",
             time=mined)  # fmt: skip
    st.lot("urn:oretrail:lot:A:sus", "ga.crude", 40, 0.99, created_event="urn:uuid:mine-sus",
           location=SUSPENDED_MINE, time=mined)  # fmt: skip
    st.event_lot("urn:uuid:mine-sus", "urn:oretrail:lot:A:sus", "created", 40, mined, put_at=SUSPENDED_MINE)
    # supervision.overdue_action: due 10 June, never closed; another closed in time raises nothing.
    st.corrective_action("CA-1", date(2025, 6, 10))
    st.corrective_action("CA-2", date(2025, 6, 10), closed=date(2025, 6, 1))
    # supervision.report_mismatch: June reported with 50 kg of crude gallium produced; the events show 300.
    st.monthly_report("202506", datetime(2025, 6, 28, 2, 0), [{"material": "ga.crude", "produced_kg": 50}])


def outside_signals(st: State) -> None:
    """The rules fed from outside the chain (watch list, partner statistics, export shares), each raised once,
    on goods and partners of their own so that they do not reach the subjects of the chain rules above."""
    # screening.watchlist: a licence for a spelling variant of a listed company.
    st.watchlist(
        [
            {
                "id": "ot-test-zarkon",
                "schema": "Company",
                "properties": {"name": ["Zarkon Heavy Industries Co., Ltd."], "country": ["ru"]},
            }
        ]
    )
    st.licence(
        "EL2025JX000010",
        destination="RU",
        consignee="ZARKON HEAVY INDUSTRY CO LTD",
        end_user="ZARKON HEAVY INDUSTRY CO LTD",
        quantity_g=g(10),
    )
    # licence.rerouted: APT refused for a US end user, then licensed to Turkey for the same end user.
    st.licence(
        "EL2025JX000020",
        material="w.apt",
        hs_code="2841801000",
        destination="US",
        status="refused",
        consignee="Apex Tungsten Materials Inc.",
        end_user="Apex Tungsten Materials Inc.",
        valid_from=date(2025, 4, 1),
    )
    st.licence(
        "EL2025JX000021",
        material="w.apt",
        hs_code="2841801000",
        destination="TR",
        consignee="Bosphorus Metal Trading",
        end_user="APEX TUNGSTEN MATERIALS",
        valid_from=date(2025, 5, 1),
    )
    # mirror.gap: Korea reports 2 t of APT from China that no declaration accounts for; Germany's report of
    # the gallium declared to it above is within tolerance.
    st.mirror_row("KR", "284180", "202506", 2000.0, 120_000.0)
    st.mirror_row("DE", "811292", "202506", 300.0, 215_000.0)
    # mirror.share_jump and mirror.no_capacity: antimony goes to Japan for three months, then half of it to
    # Kazakhstan, which has no antimony industry.
    sb = dict(material="sb.metal", hs_code="8110101000", valid_from=date(2025, 1, 1))
    st.licence(
        "EL2025JX000030",
        destination="JP",
        consignee="Kanto Antimony K.K.",
        end_user="Kanto Antimony K.K.",
        quantity_g=g(20_000),
        **sb,
    )
    st.licence(
        "EL2025JX000031",
        destination="KZ",
        consignee="Steppe Metals LLP",
        end_user="Steppe Metals LLP",
        quantity_g=g(3000),
        **sb,
    )
    for month in range(1, 5):
        st.declaration(
            f"53012025000000030{month}",
            date=date(2025, month, 10),
            hs_code="8110101000",
            description="antimony, unwrought",
            net_g=g(3000),
            value_usd=3000 * 12.0,
            destination="JP",
            consignee="Kanto Antimony K.K.",
            licence_no="EL2025JX000030",
        )
    st.declaration(
        "530120250000000310",
        date=date(2025, 4, 12),
        hs_code="8110101000",
        description="antimony, unwrought",
        net_g=g(3000),
        value_usd=3000 * 12.0,
        destination="KZ",
        consignee="Steppe Metals LLP",
        licence_no="EL2025JX000031",
    )
