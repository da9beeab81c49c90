"""The registered economy: enterprises and facilities of every chain, as provincial commerce departments file them.

The registry is small (hundreds of records even at scale 1) and is built before any event, so batches can
pick their mines, plants, traders and buyers from it; it grows slowly with scale because a bigger economy has
more firms, not only bigger ones.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from oretrail.ids import LOCATION_PREFIX, PARTY_PREFIX, PORT_PREFIX, STAGES
from oretrail.registry.uscc import make_uscc
from oretrail.sim.chains import BULK, CHAINS, CITIES, MANUFACTURER_PROVINCES, PORTS, TRADER_PROVINCES, Chain
from oretrail.sim.names import BRANDS, STAGE_SECTORS, domestic_name


@dataclass
class Enterprise:
    uscc: str
    name: str
    province: str
    region: str
    stages: set[str]
    registered: date
    zulu: bool  # its system stamps events in UTC rather than Beijing time
    gs1_prefix: str | None  # GS1 China company prefix: its lots are LGTINs
    lots: int = 0

    @property
    def party(self) -> str:
        return PARTY_PREFIX + self.uscc

    def record(self) -> dict[str, object]:
        return {
            "kind": "enterprise",
            "id": self.party,
            "uscc": self.uscc,
            "name": self.name,
            "province": self.province,
            "stages": [s for s in STAGES if s in self.stages],
            "registered": self.registered.isoformat(),
        }


@dataclass
class Facility:
    id: str
    owner: Enterprise
    type: str
    province: str
    capacity_kg: float

    def record(self) -> dict[str, object]:
        return {
            "kind": "facility",
            "id": self.id,
            "owner": self.owner.party,
            "type": self.type,
            "province": self.province,
            "capacity_kg_per_year": self.capacity_kg,
        }


@dataclass
class ChainActors:
    mines: list[Facility] = field(default_factory=list)
    plants: list[list[Facility]] = field(default_factory=list)  # per step
    traders: list[Enterprise] = field(default_factory=list)
    factories: list[Facility] = field(default_factory=list)
    bulk_exporters: list[Enterprise] = field(default_factory=list)


class World:
    def __init__(self, rng: random.Random, scale: float) -> None:
        self.rng = rng
        self.enterprises: list[Enterprise] = []
        self.facilities: list[Facility] = []
        self.usccs: set[str] = set()
        self.brands = list(BRANDS)
        rng.shuffle(self.brands)
        self.ports: dict[str, Facility] = {}
        # A bigger economy has more firms, sub-linearly: scale 0.01 gives 3 per role, scale 1 gives 10.
        self.per_role = max(3, round(2 + 8 * math.sqrt(scale)))
        self.actors: dict[str, ChainActors] = {c.element: self._chain(c) for c in CHAINS}
        for locode, port in PORTS.items():
            op = self._enterprise(port.province, {"transportation"}, name=port.operator, region=port.region)
            self.ports[locode] = self._facility(op, "port", port.province, 5e9, ident=PORT_PREFIX + locode)

    def uscc(self, region: str) -> str:
        while True:
            code = make_uscc(self.rng, region)
            if code not in self.usccs:
                self.usccs.add(code)
                return code

    def _city(self, province: str) -> tuple[str, str]:
        return self.rng.choice(CITIES[province])

    def _enterprise(
        self, province: str, stages: set[str], sector: str = "", name: str = "", region: str = ""
    ) -> Enterprise:
        rng = self.rng
        if not name:
            city, region = self._city(province)
            brand = self.brands[len(self.enterprises) % len(self.brands)]
            name = domestic_name(rng, city, brand, sector)
        ent = Enterprise(
            uscc=self.uscc(region),
            name=name,
            province=province,
            region=region,
            stages=set(stages),
            registered=date(1998, 1, 1) + timedelta(days=rng.randrange(9100)),
            zulu=rng.random() < 0.35,
            gs1_prefix=f"69{rng.randrange(10**5):05d}" if rng.random() < 0.2 else None,
        )
        self.enterprises.append(ent)
        return ent

    def _facility(self, owner: Enterprise, kind: str, province: str, capacity_kg: float, ident: str = "") -> Facility:
        n = 1 + sum(1 for f in self.facilities if f.owner is owner and f.type == kind)
        fac = Facility(
            ident or f"{LOCATION_PREFIX}{owner.uscc}:{kind}-{n}", owner, kind, province, round(capacity_kg, -3)
        )
        self.facilities.append(fac)
        return fac

    def _chain(self, chain: Chain) -> ChainActors:
        rng, n = self.rng, self.per_role
        actors = ChainActors()
        miners = []
        for i in range(n):
            province = chain.mine_provinces[i % len(chain.mine_provinces)]
            ent = self._enterprise(province, {"mining", "sales"}, f"{chain.sector} Mining")
            miners.append(ent)
            for _ in range(rng.choice((1, 1, 2))):
                actors.mines.append(self._facility(ent, "mine", province, rng.uniform(*chain.mine_capacity_t) * 1e3))
        for s, step in enumerate(chain.steps):
            plants = []
            for i in range(n):
                province = step.provinces[i % len(step.provinces)]
                local = [m for m in miners if m.province == province]
                if s == 0 and local and rng.random() < 0.3:
                    ent = rng.choice(local)  # an integrated miner-processor
                    ent.stages.add(step.stage)
                else:
                    ent = self._enterprise(province, {step.stage, "sales"}, step.sector)
                plants.append(self._facility(ent, step.facility, province, rng.uniform(*step.capacity_t) * 1e3))
            actors.plants.append(plants)
        finals = {p.owner.uscc: p.owner for plants in actors.plants for p in plants}
        for ent in finals.values():
            if rng.random() < 0.5 and any(p.owner is ent for p in actors.plants[-1]):
                ent.stages.add("export")
        for i in range(max(2, n // 2)):
            province = TRADER_PROVINCES[(i + len(self.enterprises)) % len(TRADER_PROVINCES)]
            ent = self._enterprise(province, {"sales", "export"}, rng.choice(STAGE_SECTORS["trader"]))
            self._facility(ent, "warehouse", province, rng.uniform(5e6, 5e7))
            actors.traders.append(ent)
        for i in range(max(2, n // 2)):
            province = MANUFACTURER_PROVINCES[(i + len(self.enterprises)) % len(MANUFACTURER_PROVINCES)]
            ent = self._enterprise(province, {"manufacturing", "sales"}, rng.choice(STAGE_SECTORS["manufacturer"]))
            actors.factories.append(self._facility(ent, "factory", province, rng.uniform(1e5, 5e6)))
        for bulk in BULK:
            if bulk.chain == chain.element:
                makers = (
                    [p.owner for p in actors.plants[0]]
                    if bulk.made_by == "plant"
                    else [f.owner for f in actors.factories]
                )
                actors.bulk_exporters = makers[:2]
        for ent in actors.bulk_exporters:
            ent.stages.add("export")
        return actors
