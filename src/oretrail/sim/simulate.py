"""The national simulator: a year of mining, refining, trade and export, with planted and labelled violations.

Work is organised in *batches*: ore mined on one day at one mine and followed through every plant to its
end, an export or a domestic buyer. Batches start day by day with seasonal intensity and are written out as
soon as they are made, so memory holds one batch, one EPCIS document and a few small tables (open licences,
monthly trade totals), whatever the scale. Everything is drawn from one seeded `random.Random` and a fixed
clock, so a (scale, seed, rate) triple always gives the same bytes.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from oretrail.catalogue import Material, load_catalogue
from oretrail.feeds import BY_NAME
from oretrail.ids import LOCATION_PREFIX, PARTY_PREFIX, PORT_PREFIX
from oretrail.sim import epcis
from oretrail.sim.chains import (
    BULK,
    BULK_SHARE,
    CHAINS,
    CIF_FACTOR,
    CITIES,
    NON_REPORTERS,
    PORTS,
    SEASONALITY,
    TRANSIT_DAYS,
    Chain,
    Step,
)
from oretrail.sim.epcis import Qty
from oretrail.sim.names import LISTED, VARIANT_KINDS, foreign_names, variant, watchlist_entry
from oretrail.sim.supervision import SUPERVISION_RULES, Supervision
from oretrail.sim.world import Enterprise, Facility, World

LABELS = "labels.jsonl"  # the planted violations, one a line: the answer key bench/detect.py scores against

CHAIN_RULES = (
    "licence.missing", "licence.overdrawn", "licence.mismatch", "licence.invalid", "declaration.misclassified",
    "declaration.unit_value", "trace.no_provenance", "balance.transformation", "balance.lot",
    "transit.not_received", "transit.diverted", "party.unregistered", "screening.watchlist", "mirror.gap",
)  # fmt: skip
RULES = CHAIN_RULES + SUPERVISION_RULES  # every rule the simulator plants and labels
_EXPORT_ONLY = {
    "licence.missing", "licence.overdrawn", "licence.mismatch", "licence.invalid", "declaration.misclassified",
    "declaration.unit_value", "trace.no_provenance", "screening.watchlist",
}  # fmt: skip
EVENTS_AT_SCALE_1 = 100_000
CORRECTION_RATE = 0.03  # batches in which a sender corrects one of its events
FOREIGN_PER_COUNTRY = 4


@dataclass
class SimSummary:
    """What was written: counts per feed, and planted violations per SPEC.md §4 rule."""

    outdir: Path
    enterprises: int = 0
    facilities: int = 0
    events: int = 0
    documents: int = 0
    resends: int = 0
    corrections: int = 0
    batches: int = 0
    licences: int = 0
    declarations: int = 0
    mirror_rows: int = 0
    watchlist: int = 0
    reports: int = 0
    supervision_records: int = 0
    labels: int = 0
    violations: dict[str, int] = field(default_factory=dict)


@dataclass
class _Contract:
    """An approved licence being drawn down by one exporter's shipments to one consignee."""

    licence_no: str
    exporter: str
    material: str
    hs_code: str
    destination: str
    consignee: str
    quantity_g: int
    valid_from: date
    valid_to: date
    drawn_g: int = 0


@dataclass
class _Held:
    """Lots a batch currently carries, with the grade each was created at."""

    qty: Qty
    grade: float  # ilmd grade; 0 for a lot that was never created on record

    @property
    def element_g(self) -> float:
        return self.qty.grams * self.grade


class _Planner:
    """Which rule the next batch plants: every rule in turn, at `rate`; a plant a batch could not carry waits."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng, self.rate = rng, rate
        self.cycle: list[str] = []
        self.waiting: list[str] = []

    def next(self) -> str | None:
        if self.waiting:
            return self.waiting.pop(0)
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return None
        if not self.cycle:
            self.cycle = list(CHAIN_RULES)
            self.rng.shuffle(self.cycle)
        return self.cycle.pop()

    def defer(self, rule: str) -> None:
        self.waiting.append(rule)


def simulate(
    outdir: Path, scale: float, seed: int, violation_rate: float = 0.02, start: date = date(2025, 1, 1), days: int = 365
) -> SimSummary:
    """Write the six feeds of SPEC.md §1 and `labels.jsonl` under `outdir`."""
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    with _Simulation(outdir, scale, seed, violation_rate, start, days) as sim:
        sim.run()
    return sim.summary


class _Simulation:
    def __init__(self, outdir: Path, scale: float, seed: int, rate: float, start: date, days: int) -> None:
        self.rng = random.Random(seed)
        self.cat = load_catalogue()
        self.start = datetime(start.year, start.month, start.day)
        self.end = self.start + timedelta(days=days)  # local (Beijing) time throughout; UTC only when written
        self.days = days
        self.target = scale * EVENTS_AT_SCALE_1
        self.summary = SimSummary(outdir=outdir, violations=dict.fromkeys(RULES, 0))
        self.planner = _Planner(random.Random(self.rng.getrandbits(64)), rate)
        self.world = World(random.Random(self.rng.getrandbits(64)), scale)
        # Each feed goes where the dataset loader looks for it (`Feed.source`); the labels are the answer key.
        self.writer = epcis.DocumentWriter(outdir / BY_NAME["events"].source, random.Random(self.rng.getrandbits(64)))
        self.files: Mapping[str, IO[bytes]] = {
            name: (outdir / BY_NAME[name].source).open("wb")
            for name in ("registry", "licences", "declarations", "watchlist")
        } | {"labels": (outdir / LABELS).open("wb")}
        self.outdir = outdir
        self.consignees = {c: foreign_names(self.rng, c, FOREIGN_PER_COUNTRY) for c in _countries()}
        self.contracts: dict[tuple[str, str], list[_Contract]] = {}
        self.licence_seq: dict[str, int] = {}
        self.fake_licences: set[str] = set()
        self.issued: set[str] = set()
        self.declaration_seq = {p.customs: self.rng.randrange(10**5, 10**6) for p in PORTS.values()}
        self.counters = {"waybill": self.rng.randrange(10**8), "invoice": self.rng.randrange(10**5)}
        # Trade with each partner, per (partner, HS6, YYYYMM): as declared (by month of departure) and as
        # the partner will report it (by month of arrival, CIF).
        self.declared: dict[tuple[str, str, str], float] = {}
        self.reported: dict[tuple[str, str, str], list[float]] = {}
        self.gaps_wanted = 0
        self.price_phase = {m: self.rng.random() for m in self.cat.materials}
        # A generator of its own (from the seed, not from `self.rng`), so the other feeds stay byte-identical.
        self.supervision = Supervision(random.Random(seed * 1_000_003 + 14), self.world, self.start, self.end, rate)

    def __enter__(self) -> _Simulation:
        return self

    def __exit__(self, *exc: object) -> None:
        for fh in self.files.values():
            fh.close()

    # --- output -------------------------------------------------------------------------------------------
    def _line(self, feed: str, obj: dict[str, Any]) -> None:
        self.files[feed].write(orjson.dumps(obj) + b"\n")

    def _label(self, rule: str, kind: str, ident: str, note: str) -> None:
        self._line("labels", {"rule": rule, "subject": {"kind": kind, "id": ident}, "note": note})
        self.summary.violations[rule] += 1
        self.summary.labels += 1

    def _emit(self, event: epcis.Event, when: datetime, resendable: bool = True, sent: datetime | None = None) -> None:
        self.writer.add(event, when - epcis.CST, resendable, None if sent is None else sent - epcis.CST)
        self.supervision.see(event)

    # --- the year -----------------------------------------------------------------------------------------
    def run(self) -> None:
        world = self.world
        for ent in world.enterprises:
            self._line("registry", ent.record())
        for fac in world.facilities:
            self._line("registry", fac.record())
        self.summary.enterprises, self.summary.facilities = len(world.enterprises), len(world.facilities)
        for entity in LISTED:
            self._line("watchlist", watchlist_entry(entity, (self.start - timedelta(days=400)).date().isoformat()))
        self.summary.watchlist = len(LISTED)

        weights = [SEASONALITY[(self.start + timedelta(days=d)).month - 1] for d in range(self.days)]
        rest = sum(weights)
        for d in range(self.days):
            per_batch = self.writer.generated / self.summary.batches if self.summary.batches else 12.0
            lam = max(0.0, self.target - self.writer.generated) / per_batch * weights[d] / rest
            rest -= weights[d]
            for _ in range(_poisson(self.rng, lam)):
                self._batch(self.start + timedelta(days=d))
            # Batches of later days start at 07:00 Beijing time at the earliest, which is later than this
            # day's start in UTC: whatever was sent on earlier UTC days is final.
            self.writer.release(self.start + timedelta(days=d) - epcis.CST)
        self.writer.close()
        self._write_mirror()
        written = self.supervision.write(self.outdir, self._label)
        s = self.summary
        s.reports, s.supervision_records = written["reports"], written["supervision"]
        s.events, s.documents, s.resends = self.writer.events, self.writer.documents, self.writer.resends

    # --- catalogue helpers --------------------------------------------------------------------------------
    def _m(self, code: str) -> Material:
        return self.cat.material(code)

    def _grade(self, code: str) -> float:
        m = self._m(code)
        width = m.grade_max - m.grade_min
        grade = float(f"{self.rng.uniform(m.grade_min + 0.1 * width, m.grade_max - 0.1 * width):.6g}")
        return min(max(grade, m.grade_min), m.grade_max)

    def _recovery(self, span: tuple[float, float], output: str) -> float:
        """A plant's real recovery, never closer than 10 % to the catalogue's physical bound."""
        return min(self.rng.uniform(*span), 0.9 * self._m(output).max_recovery)

    def _price(self, code: str, when: datetime) -> float:
        """USD/kg FOB: a market cycle over the year plus deal-to-deal spread, inside the catalogue's range."""
        m = self._m(code)
        phase = self.price_phase[code]
        frac = 0.5 + 0.25 * math.sin(2 * math.pi * (when.month / 12 + phase)) + self.rng.uniform(-0.1, 0.1)
        return m.unit_value_min + min(0.9, max(0.1, frac)) * (m.unit_value_max - m.unit_value_min)

    # --- identifiers --------------------------------------------------------------------------------------
    def _lot(self, owner: Enterprise, material: str, when: datetime) -> str:
        owner.lots += 1
        code = f"{material.split('.')[1][:3].upper()}{when:%y%m%d}{owner.lots:05d}"
        if owner.gs1_prefix:
            item = sorted(self.cat.materials).index(material)
            return f"urn:epc:class:lgtin:{owner.gs1_prefix}.0{item:05d}.{code}"
        return f"urn:oretrail:lot:{owner.uscc}:{material.split('.')[0].upper()}-{code}"

    def _waybill(self, grams: int) -> str:
        self.counters["waybill"] += self.rng.randint(1, 30)
        carrier = "CR" if grams > 200_000_000 else self.rng.choice(("SF", "DB", "ZT", "YD"))
        return f"urn:oretrail:waybill:{carrier}{self.counters['waybill']:012d}"

    def _invoice(self, seller: Enterprise, when: datetime) -> str:
        self.counters["invoice"] += self.rng.randint(1, 20)
        return f"urn:oretrail:inv:{seller.uscc}:{when.year}{self.counters['invoice']:08d}"

    def _licence_no(self, exporter: Enterprise, year: int) -> str:
        key = f"{year}{exporter.province[3:]}"
        while True:
            self.licence_seq[key] = self.licence_seq.get(key, self.rng.randrange(100, 900)) + self.rng.randint(1, 9)
            number = f"EL{key}{self.licence_seq[key]:06d}"
            if number not in self.fake_licences:
                self.issued.add(number)
                return number

    def _declaration_no(self, port: str, year: int) -> str:
        customs = PORTS[port].customs
        self.declaration_seq[customs] += self.rng.randint(1, 40)
        return f"{customs}{year}{self.declaration_seq[customs]:010d}"

    def _uom(self, grams: int, element: str) -> str:
        r = self.rng.random()
        if grams >= 50_000_000 and r < 0.6:
            return "TNE"
        if grams < 1_000_000 and element in ("Ga", "Ge", "Tb") and r < 0.2:
            return "GRM"
        return "KGM"

    def _qty(self, lot: str, grams: int, element: str) -> Qty:
        return Qty(lot, grams, self._uom(grams, element))

    # --- one batch ----------------------------------------------------------------------------------------
    def _batch(self, day: datetime) -> None:
        rng = self.rng
        chain = rng.choices(CHAINS, weights=[c.share for c in CHAINS])[0]
        rule = self.planner.next()
        if rule == "mirror.gap":
            self.gaps_wanted += 1
            rule = None
        done = rng.choices([n for n, _ in chain.finals], weights=[w for _, w in chain.finals])[0]
        if rule in _EXPORT_ONLY or rule == "party.unregistered":
            done = len(chain.steps)  # a finished, controlled product
        final = chain.steps[done - 1].output
        exportable = self._m(final).licence_required and self._m(final).hs10
        if rule in _EXPORT_ONLY:
            exported = bool(exportable)
        elif rule == "party.unregistered":
            exported = False
        else:
            exported = bool(exportable) and rng.random() < chain.export_share
        self.summary.batches += 1
        planted = _Batch(self, chain, day, done, exported, rule).run()
        if rule and not planted:
            self.planner.defer(rule)

    # --- customs and licences -----------------------------------------------------------------------------
    def declare(
        self, exporter: Enterprise, material: str, held: _Held, when: datetime, port: str, rule: str | None
    ) -> tuple[str, bool]:
        """Write the declaration (and any licence it needs) for an export; returns its number and whether
        `rule` was planted in it."""
        rng, m = self.rng, self._m(material)
        grams = held.qty.grams
        day = when.date()
        number = self._declaration_no(port, day.year)
        hs = m.hs10[0]
        description = _description(material, held.grade)
        price = self._price(material, when)
        licence_no: str | None = None
        planted = rule in {
            "licence.missing",
            "licence.overdrawn",
            "licence.mismatch",
            "licence.invalid",
            "declaration.misclassified",
            "declaration.unit_value",
            "screening.watchlist",
        }
        note = ""
        destination, consignee = self._market(material)
        if rule == "licence.missing":
            if rng.random() < 0.5:
                licence_no = f"EL{day.year}{exporter.province[3:]}{rng.randrange(10**5, 10**6):06d}"
                while licence_no in self.issued:
                    licence_no = f"EL{day.year}{exporter.province[3:]}{rng.randrange(10**5, 10**6):06d}"
                self.fake_licences.add(licence_no)
                note = f"cites licence {licence_no}, which was never issued"
            else:
                note = "controlled export declared without any licence"
        elif rule == "declaration.misclassified":
            hs, description = next(
                (c, d) for c, d in _chain_of(material).cover_codes if not self.cat.is_controlled_hs(c)
            )
            note = f"{material} exported under non-controlled {hs} ({description}), no licence"
        elif rule == "licence.overdrawn":
            c = self._contract(
                exporter, material, destination, consignee, day, quota=grams * rng.uniform(0.55, 0.85), up=False
            )
            c.drawn_g = grams
            self._write_licence(c, "approved")
            licence_no = c.licence_no
            note = f"declares {grams / 1000:.1f} kg against a licence of {c.quantity_g / 1000:.1f} kg"
        elif rule == "licence.mismatch":
            licence_no, destination, consignee, note = self._mismatch(exporter, material, grams, day)
        elif rule == "licence.invalid":
            licence_no, note = self._invalid(exporter, material, destination, consignee, grams, day)
        elif rule == "screening.watchlist":
            entity = rng.choice(LISTED)
            kinds = [k for k in VARIANT_KINDS if k != "pinyin" or entity.chinese]
            consignee, how = variant(rng, entity, rng.choice(kinds))
            destination = entity.country.upper()
            c = self._contract(exporter, material, destination, consignee, day, quota=grams * rng.uniform(1.0, 1.5))
            c.drawn_g = c.quantity_g  # used once, by this declaration
            self._write_licence(c, "approved")
            licence_no = c.licence_no
            self._label(
                rule,
                "licence",
                c.licence_no,
                f"consignee and end user {consignee!r}: {how} variant of watch-listed {entity.name!r} ({entity.ident})",
            )
            note = f"consignee {consignee!r} is a {how} variant of watch-listed {entity.name!r} ({entity.ident})"
        else:
            c = self._open_contract(exporter, material, grams, day)
            licence_no = c.licence_no
            destination, consignee = c.destination, c.consignee
        if rule == "declaration.unit_value":
            low = rng.random() < 0.5
            price = m.unit_value_min * rng.uniform(0.05, 0.15) if low else m.unit_value_max * rng.uniform(6, 12)
            note = (
                f"declared at {price:.2f} USD/kg against a reference range of {m.unit_value_min:g}-{m.unit_value_max:g}"
            )
        value = round(grams / 1000 * price, 2)
        record: dict[str, Any] = {
            "declaration_no": number,
            "date": day.isoformat(),
            "exporter": exporter.party,
            "hs_code": hs,
            "description": description,
            "net_kg": round(grams / 1000, 3),
            "value_usd": value,
            "destination": destination,
            "consignee": consignee,
            "port": port,
        }
        if licence_no is not None or rng.random() < 0.5:
            record["licence_no"] = licence_no
        self._line("declarations", record)
        self.summary.declarations += 1
        self._mirror(destination, hs[:6], when, grams, value)
        if planted and rule == "licence.overdrawn":  # SPEC.md §4: the licence is what was overdrawn
            self._label(rule, "licence", licence_no, f"{note} (declaration {number})")  # type: ignore[arg-type]
        elif planted:
            self._label(rule, "declaration", number, note)  # type: ignore[arg-type]
        return number, planted

    def _market(self, material: str) -> tuple[str, str]:
        chain = _chain_of(material)
        country = self.rng.choices([c for c, _ in chain.markets], weights=[w for _, w in chain.markets])[0]
        return country, self.rng.choice(self.consignees[country])

    def _contract(
        self,
        exporter: Enterprise,
        material: str,
        destination: str,
        consignee: str,
        day: date,
        quota: float,
        up: bool = True,
    ) -> _Contract:
        rng = self.rng
        valid_from = day - timedelta(days=rng.randint(3, 45))
        valid_to = max(valid_from + timedelta(days=rng.randint(150, 365)), day + timedelta(days=30))
        c = _Contract(
            self._licence_no(exporter, valid_from.year),
            exporter.party,
            material,
            self._m(material).hs10[0],
            destination,
            consignee,
            _nice(quota, up),
            valid_from,
            valid_to,
        )
        self.contracts.setdefault((exporter.party, material), []).append(c)
        return c

    def _open_contract(self, exporter: Enterprise, material: str, grams: int, day: date) -> _Contract:
        """A licence of this exporter that still covers the shipment, or a new one sized for several."""
        live = [
            c
            for c in self.contracts.get((exporter.party, material), [])
            if c.valid_from <= day <= c.valid_to and c.drawn_g + grams <= c.quantity_g
        ]
        self.contracts[(exporter.party, material)] = [
            c
            for c in self.contracts.get((exporter.party, material), [])
            if c.valid_to >= day and c.drawn_g < c.quantity_g
        ]
        if live:
            c = live[0]
        else:
            destination, consignee = self._market(material)
            c = self._contract(exporter, material, destination, consignee, day, grams * self.rng.uniform(1.2, 4.0))
            self._write_licence(c, "approved")
            if self.rng.random() < 0.05:  # an application for another buyer that MOFCOM refused, never used
                d2, c2 = self._market(material)
                refused = self._contract(exporter, material, d2, c2, day, grams * self.rng.uniform(1, 3))
                refused.drawn_g = refused.quantity_g
                self._write_licence(refused, "refused")
        c.drawn_g += grams
        return c

    def _write_licence(self, c: _Contract, status: str, end_user: str = "") -> None:
        chain = _chain_of(c.material)
        self._line(
            "licences",
            {
                "licence_no": c.licence_no,
                "exporter": c.exporter,
                "material": c.material,
                "hs_code": c.hs_code,
                "quantity_kg": c.quantity_g / 1000,
                "destination": c.destination,
                "consignee": c.consignee,
                "end_user": end_user or c.consignee,
                "end_use": self.rng.choice(chain.end_uses),
                "valid_from": c.valid_from.isoformat(),
                "valid_to": c.valid_to.isoformat(),
                "status": status,
            },
        )
        self.summary.licences += 1

    def _mismatch(self, exporter: Enterprise, material: str, grams: int, day: date) -> tuple[str, str, str, str]:
        rng = self.rng
        destination, consignee = self._market(material)
        how = rng.choice(("consignee", "destination", "exporter", "hs_code"))
        chain = _chain_of(material)
        others = [t for t in self.world.actors[chain.element].traders if t is not exporter]
        siblings = sorted(
            code
            for code, m in self.cat.materials.items()
            if m.element == self._m(material).element
            and m.licence_required
            and m.hs10
            and m.hs10[0] != self._m(material).hs10[0]
        )
        if how == "exporter" and not others:
            how = "consignee"
        if how == "hs_code" and not siblings:
            how = "consignee"
        holder, licensed_material = exporter, material
        if how == "exporter":
            holder = rng.choice(others)
        elif how == "hs_code":
            own = [s for s in siblings if any(st.output == s for st in chain.steps)]
            licensed_material = rng.choice(own or siblings)
        c = self._contract(holder, licensed_material, destination, consignee, day, grams * rng.uniform(1.1, 2.0))
        c.drawn_g = c.quantity_g  # used once, by this declaration
        self._write_licence(c, "approved")
        if how == "consignee":
            consignee = rng.choice([n for n in self.consignees[destination] if n != c.consignee])
            note = f"declared consignee {consignee!r}, licence names {c.consignee!r}"
        elif how == "destination":
            destination = rng.choice([k for k in self.consignees if k != c.destination and k in dict(chain.markets)])
            note = f"declared destination {destination}, licence names {c.destination}"
        elif how == "exporter":
            note = f"exporter {exporter.party} cites a licence issued to {holder.party}"
        else:
            note = (
                f"declares {material} ({self._m(material).hs10[0]}), licence is for {licensed_material} ({c.hs_code})"
            )
        return c.licence_no, destination, consignee, note

    def _invalid(
        self, exporter: Enterprise, material: str, destination: str, consignee: str, grams: int, day: date
    ) -> tuple[str, str]:
        rng = self.rng
        how = rng.choice(("revoked", "refused", "expired", "not_yet_valid"))
        c = self._contract(exporter, material, destination, consignee, day, grams * rng.uniform(1.1, 2.0))
        c.drawn_g = c.quantity_g
        if how == "expired":
            c.valid_to = day - timedelta(days=rng.randint(3, 60))
            c.valid_from = c.valid_to - timedelta(days=rng.randint(150, 300))
        elif how == "not_yet_valid":
            c.valid_from = day + timedelta(days=rng.randint(3, 30))
            c.valid_to = c.valid_from + timedelta(days=rng.randint(150, 300))
        self._write_licence(c, how if how in ("revoked", "refused") else "approved")
        if how in ("revoked", "refused"):
            return c.licence_no, f"cites licence {c.licence_no}, status {how}"
        return c.licence_no, f"declared on {day} outside the licence's validity {c.valid_from}..{c.valid_to}"

    def bulk(self, chain: Chain, when: datetime) -> None:
        """A genuinely non-controlled export (alumina, ferro-tungsten, magnets): declared and mirrored only."""
        rng = self.rng
        for b in BULK:
            exporters = self.world.actors[chain.element].bulk_exporters
            if b.chain != chain.element or not exporters or self.cat.is_controlled_hs(b.hs_code):
                continue
            exporter = rng.choice(exporters)
            port = rng.choice(b.ports)
            destination = rng.choices([c for c, _ in b.markets], weights=[w for _, w in b.markets])[0]
            grams = int(rng.uniform(*b.lot_t) * 1000) * 1000
            value = round(grams / 1000 * rng.uniform(*b.unit_value), 2)
            self._line(
                "declarations",
                {
                    "declaration_no": self._declaration_no(port, when.year),
                    "date": when.date().isoformat(),
                    "exporter": exporter.party,
                    "hs_code": b.hs_code,
                    "description": b.description,
                    "net_kg": grams / 1000,
                    "value_usd": value,
                    "destination": destination,
                    "consignee": rng.choice(self.consignees[destination]),
                    "port": port,
                    "licence_no": None,
                },
            )
            self.summary.declarations += 1
            self._mirror(destination, b.hs_code[:6], when, grams, value)

    # --- mirror statistics --------------------------------------------------------------------------------
    def _mirror(self, partner: str, hs6: str, when: datetime, grams: int, value: float) -> None:
        rng = self.rng
        month = f"{when:%Y%m}"
        self.declared[(partner, hs6, month)] = self.declared.get((partner, hs6, month), 0.0) + grams / 1000
        if partner in NON_REPORTERS:
            return
        far = partner not in ("JP", "KR", "VN", "TH", "MY", "SG", "ID", "HK")
        arrival = when + timedelta(days=rng.randint(12, 35) if far else rng.randint(2, 12))
        arrival = min(arrival, datetime(when.year + when.month // 12, when.month % 12 + 1, 28))  # lag ≤ 1 month
        row = self.reported.setdefault((partner, hs6, f"{arrival:%Y%m}"), [0.0, 0.0])
        row[0] += grams / 1000 * rng.uniform(0.985, 1.01)
        row[1] += value * rng.uniform(*CIF_FACTOR)

    def _write_mirror(self) -> None:
        rng = self.rng
        controlled = self.cat.controlled_hs6()
        flows = sorted(k for k in self.reported if k[1] in controlled)
        chosen: list[tuple[str, str, str]] = []
        for _ in range(self.gaps_wanted):
            if flows and rng.random() < 0.7:
                key = rng.choice(flows)
            else:
                chain = rng.choice(CHAINS)
                final = chain.steps[-1].output
                partner = rng.choice([c for c, _ in chain.markets if c not in NON_REPORTERS])
                month = self.start + timedelta(days=rng.randrange(self.days))
                key = (partner, self._m(final).hs10[0][:6], f"{month:%Y%m}")
            if key in chosen:
                continue
            chosen.append(key)
            partner, hs6, period = key
            window = sum(self.declared.get((partner, hs6, p), 0.0) for p in _months_around(period))
            row = self.reported.setdefault(key, [0.0, 0.0])
            target = max(1.5 * window, window + rng.uniform(600, 2000)) * rng.uniform(1.0, 1.3)
            extra = target - row[0]
            per_kg = row[1] / row[0] if row[0] else self._mid_price(hs6) * 1.06
            row[0] += extra
            row[1] += extra * per_kg
            self._label(
                "mirror.gap",
                "trade-flow",
                f"{partner}:{hs6}:{period}",
                f"{partner} reports {row[0]:.0f} kg of {hs6} from CN in {period}; CN declared "
                f"{window:.0f} kg to it in the three months around",
            )
        with (self.outdir / BY_NAME["mirror"].source).open("w", newline="") as fh:
            out = csv.writer(fh, lineterminator="\n")
            out.writerow(["reporterISO", "partnerISO", "flowCode", "cmdCode", "period", "netWgt", "primaryValue"])
            for (partner, hs6, period), (kg, usd) in sorted(self.reported.items()):
                out.writerow([partner, "CN", "M", hs6, period, f"{kg:.1f}", f"{usd:.0f}"])
                self.summary.mirror_rows += 1

    def _mid_price(self, hs6: str) -> float:
        ms = [m for m in self.cat.materials.values() if m.licence_required and any(h[:6] == hs6 for h in m.hs10)]
        return sum((m.unit_value_min + m.unit_value_max) / 2 for m in ms) / len(ms)


class _Batch:
    """One lot's way from the mine to its end, writing events as it goes; `run` says if `rule` was planted."""

    def __init__(
        self, sim: _Simulation, chain: Chain, day: datetime, done: int, exported: bool, rule: str | None
    ) -> None:
        self.sim, self.rng, self.chain = sim, sim.rng, chain
        self.actors = sim.world.actors[chain.element]
        self.t = day + timedelta(hours=self.rng.uniform(7, 17))
        self.done, self.exported, self.rule = done, exported, rule
        self.planted = False
        self.corrected = self.rng.random() < CORRECTION_RATE  # one leg of this batch will be corrected
        self.bad_step = self.rng.randrange(done) if rule == "balance.transformation" else -1
        self.hidden_grade = 0.0  # true grade of a phantom lot: what the plant really got out of it

    def _later(self, span: tuple[float, float]) -> datetime:
        self.t += timedelta(days=self.rng.uniform(*span))
        return self.t

    def run(self) -> bool:
        rng, sim, chain = self.rng, self.sim, self.chain
        mine = rng.choice(self.actors.mines)
        owner, place, province = mine.owner, mine.id, mine.province
        ore = chain.ore
        held: list[_Held] = []
        if self.rule != "trace.no_provenance":
            grade = sim._grade(ore)
            lots = [
                _Held(
                    sim._qty(
                        sim._lot(owner, ore, self.t), int(rng.uniform(*chain.ore_lot_t) * 100) * 10_000, chain.element
                    ),
                    grade,
                )
                for _ in range(rng.randint(*chain.lots_per_mining))
            ]
            sim._emit(
                epcis.mining(rng, self.t - epcis.CST, owner.zulu, mine.id, [h.qty for h in lots], ore, grade), self.t
            )
            held = lots
        for i, step in enumerate(chain.steps[: self.done]):
            plant = self._plant(step, province)
            if i == 0 and self.rule == "trace.no_provenance":
                owner, place = plant.owner, plant.id
                held = [self._phantom(ore, plant)]
                self._later((2, 20))
            else:
                if plant.owner is not owner:
                    self._sell(held, place, owner, plant.owner)
                    owner = plant.owner
                moved = self._move(held, place, plant.id, owner, "local" if plant.province == province else "domestic")
                if moved is None:
                    return self.planted
                held = moved
            if self._later(step.days) > sim.end:
                return self.planted
            held = [self._transform(step, plant, held, i)]
            place, province = plant.id, plant.province
        final = chain.steps[self.done - 1].output
        if self.exported:
            return self._export(final, held[0], owner, place)
        return self._domestic(final, held, owner, place, province)

    def _phantom(self, ore: str, plant: Facility) -> _Held:
        """Material of unrecorded origin: a lot id no event ever created, fed into a plant. Drawing it where
        nothing was ever put is balance.lot by physical implication, so `_transform` labels that too."""
        sim, rng = self.sim, self.rng
        grams = int(rng.uniform(*self.chain.ore_lot_t) * 100) * 10_000
        self.hidden_grade = sim._grade(ore)
        lot = sim._lot(plant.owner, ore, self.t - timedelta(days=20))
        return _Held(sim._qty(lot, grams, self.chain.element), 0.0)

    def _plant(self, step: Step, province: str) -> Facility:
        plants = self.actors.plants[self.chain.steps.index(step)]
        local = [p for p in plants if p.province == province]
        return self.rng.choice(local if local and self.rng.random() < 0.75 else plants)

    def _sell(self, held: list[_Held], place: str, seller: Enterprise, buyer: Enterprise | str) -> None:
        rng, sim = self.rng, self.sim
        self._later((0.5, 4))
        buyer_party = buyer if isinstance(buyer, str) else buyer.party
        sim._emit(
            epcis.sale(
                rng,
                self.t - epcis.CST,
                seller.zulu,
                place,
                seller.party,
                buyer_party,
                [h.qty for h in held],
                sim._invoice(seller, self.t),
            ),
            self.t,
        )

    def _move(
        self, held: list[_Held], origin: str, dest_id: str, owner: Enterprise | str, leg: str
    ) -> list[_Held] | None:
        """Ship and receive; None when the batch ends here (year over, or a transit violation planted)."""
        rng, sim = self.rng, self.sim
        party = owner if isinstance(owner, str) else owner.party
        zulu = owner.zulu if isinstance(owner, Enterprise) else False
        dispatch = self.t + timedelta(days=rng.uniform(0.5, 5))
        arrival = dispatch + timedelta(days=rng.randint(*TRANSIT_DAYS[leg]), hours=rng.uniform(-6, 6))
        if arrival > sim.end:
            return None
        self.t = dispatch
        waybill = sim._waybill(sum(h.qty.grams for h in held))
        shipped = list(held)
        rule = None if self.planted else self.rule
        if rule == "balance.lot":
            h = shipped[0]
            extra = rng.uniform(1.15, 1.5)
            shipped[0] = _Held(sim._qty(h.qty.lot, int(h.qty.grams * extra), self.chain.element), h.grade)
            sim._label(
                rule,
                "lot",
                h.qty.lot,
                f"shipped {shipped[0].qty.grams / 1000:.1f} kg from {origin} where "
                f"{h.qty.grams / 1000:.1f} kg were held (waybill {waybill})",
            )
            self.planted = True
        qtys = [h.qty for h in shipped]
        correct_ship = self.corrected and rule is None and rng.random() < 0.5
        ship_event = epcis.shipping(rng, dispatch - epcis.CST, zulu, origin, dest_id, party, qtys, waybill)
        if correct_ship:  # the sender's clerk slipped a decimal point; the next day's check catches it
            wrong = [Qty(q.lot, q.grams * 10, q.uom) for q in qtys]
            bad = epcis.shipping(rng, dispatch - epcis.CST, zulu, origin, dest_id, party, wrong, waybill)
            sim._emit(bad, dispatch, resendable=False)
            self._correct(bad, ship_event, dispatch)
        else:
            sim._emit(ship_event, dispatch)
        if rule == "transit.not_received" and dispatch - epcis.CST + timedelta(days=16) < sim.writer.newest:
            sim._label(
                rule, "shipment", waybill, f"dispatched {dispatch:%Y-%m-%d} from {origin} to {dest_id}, never received"
            )
            self.planted = True
            return None
        place = dest_id
        if rule == "transit.diverted":
            others = [f for f in sim.world.facilities if f.id != dest_id and f.type in ("warehouse", "factory")]
            place = rng.choice(others).id
            sim._label(rule, "shipment", waybill, f"declared for {dest_id}, received at {place}")
            self.planted = True
        self.t = arrival
        receipt = epcis.receiving(rng, arrival - epcis.CST, zulu, place, party, qtys, waybill)
        if self.corrected and rule is None and not correct_ship:  # received at a sister site by mistake
            self.corrected = False
            sisters = [f for f in sim.world.facilities if f.id != place and f.type in ("warehouse", "factory")]
            bad = epcis.receiving(rng, arrival - epcis.CST, zulu, rng.choice(sisters).id, party, qtys, waybill)
            sim._emit(bad, arrival, resendable=False)
            self._correct(bad, receipt, arrival)
        else:
            if correct_ship:
                self.corrected = False
            sim._emit(receipt, arrival)
        return None if place != dest_id else shipped

    def _correct(self, bad: epcis.Event, good: epcis.Event, when: datetime) -> None:
        """Retract `bad` with an EPCIS error declaration naming `good`, then send `good`."""
        sim = self.sim
        declared = when + timedelta(hours=self.rng.uniform(4, 30))
        good["eventID"] = epcis.new_event_id(self.rng)
        zulu = bad["eventTime"].endswith("Z")
        sim._emit(epcis.error_declaration(bad, declared - epcis.CST, zulu, good["eventID"]), declared, False)
        sim._emit(good, when, sent=declared)  # the corrective event travels with the declaration
        sim.summary.corrections += 1

    def _transform(self, step: Step, plant: Facility, held: list[_Held], index: int) -> _Held:
        rng, sim = self.rng, self.sim
        in_grades = [h.grade or self.hidden_grade for h in held]
        element_in = sum(h.qty.grams * g for h, g in zip(held, in_grades, strict=True))
        grade = sim._grade(step.output)
        if index == self.bad_step:
            # over the bound whichever material's recovery a rule reads, the output's or the input's
            source = self.chain.steps[index - 1].output if index > 0 else self.chain.ore
            bound = max(sim._m(step.output).max_recovery, sim._m(source).max_recovery)
            element_out = element_in * bound * rng.uniform(1.15, 1.6)
        else:
            element_out = element_in * sim._recovery(step.recovery, step.output)
        grams = _round_down(element_out / grade)
        out = _Held(sim._qty(sim._lot(plant.owner, step.output, self.t), grams, self.chain.element), grade)
        ev = epcis.transformation(
            rng,
            self.t - epcis.CST,
            plant.owner.zulu,
            step.stage,
            plant.id,
            [h.qty for h in held],
            [out.qty],
            step.output,
            grade,
        )
        sim._emit(ev, self.t)
        for h in held:
            if not h.grade:
                sim._label(
                    "balance.lot",
                    "lot",
                    h.qty.lot,
                    f"{h.qty.grams / 1e6:.1f} t of {self.chain.ore} of no recorded origin consumed at {plant.id} "
                    "(implied by a trace.no_provenance plant)",
                )
        if index == self.bad_step:
            sim._label(
                "balance.transformation",
                "event",
                ev["eventID"],
                f"{step.output} output holds {element_out / element_in:.0%} of the input element at {plant.id}",
            )
            self.planted = True
        return out

    def _export(self, material: str, held: _Held, owner: Enterprise, place: str) -> bool:
        rng, sim = self.rng, self.sim
        exporter = owner if "export" in owner.stages and rng.random() < 0.6 else rng.choice(self.actors.traders)
        if exporter is not owner:
            self._sell([held], place, owner, exporter)
        port = rng.choices([p for p, _ in self.chain.ports], weights=[w for _, w in self.chain.ports])[0]
        moved = self._move([held], place, sim.world.ports[port].id, exporter, "port")
        if moved is None:
            return self.planted
        held = moved[0]
        departure = self._later((1, 6))
        if departure > sim.end:
            return self.planted
        number, planted = sim.declare(exporter, material, held, departure, port, None if self.planted else self.rule)
        sim._emit(
            epcis.export(
                rng,
                departure - epcis.CST,
                exporter.zulu,
                PORT_PREFIX + port,
                exporter.party,
                [held.qty],
                number,
            ),
            departure,
        )
        if self.rule == "trace.no_provenance":
            sim._label(
                "trace.no_provenance",
                "lot",
                held.qty.lot,
                f"exported under {number}; its ancestry starts at a lot no mining event created",
            )
            self.planted = True
        if rng.random() < BULK_SHARE:
            sim.bulk(self.chain, departure)
        return self.planted or planted

    def _domestic(self, material: str, held: list[_Held], owner: Enterprise, place: str, province: str) -> bool:
        rng, sim = self.rng, self.sim
        if self.rule == "party.unregistered":
            _, region = rng.choice(CITIES[rng.choice(("CN-JS", "CN-ZJ", "CN-GD"))])
            shell = PARTY_PREFIX + sim.world.uscc(region)
            self._sell(held, place, owner, shell)
            sim._label(
                "party.unregistered",
                "enterprise",
                shell,
                f"bought {material} ({held[0].qty.grams / 1000:.1f} kg) and took delivery; absent from the registry",
            )
            self.planted = True
            shell_site = f"{LOCATION_PREFIX}{shell.rsplit(':', 1)[1]}:warehouse-1"
            self._move(held, place, shell_site, shell, "domestic")
            return True
        factory = rng.choice(self.actors.factories)
        self._sell(held, place, owner, factory.owner)
        moved = self._move(
            held, place, factory.id, factory.owner, "local" if factory.province == province else "domestic"
        )
        if moved is None:
            return self.planted
        manufacture = self.chain.manufacture
        if manufacture and manufacture[0] == material and self._later((2, 15)) <= sim.end:
            step = Step(manufacture[1], "manufacturing", "factory", "", manufacture[2], (), (0, 0))
            self._transform(step, factory, moved, -2)
        return self.planted


def _chain_of(material: str) -> Chain:
    """The chain of a material code: codes share the prefix of their chain's ore (`ga.`, `graphite.`)."""
    return next(c for c in CHAINS if c.ore.split(".")[0] == material.split(".")[0])


def _countries() -> list[str]:
    return sorted({c for ch in CHAINS for c, _ in ch.markets} | {c for b in BULK for c, _ in b.markets})


def _description(material: str, grade: float) -> str:
    template = _chain_of(material).descriptions.get(material, material)
    return template.format(purity=f"{grade * 100:.4g}%")


def _round_down(grams: float) -> int:
    """Weighed as a plant would: to the kilogram above 10 t, to 100 g above 100 kg, to the gram below."""
    unit = 1000 if grams > 10_000_000 else 100 if grams > 100_000 else 1
    return max(unit, int(grams // unit) * unit)


def _nice(grams: float, up: bool) -> int:
    """Licences grant round quantities: two significant figures of kilograms."""
    kg = max(1.0, grams / 1000)
    step = 10 ** max(0, math.floor(math.log10(kg)) - 1)
    return int((math.ceil if up else math.floor)(kg / step) * step) * 1000


def _months_around(period: str) -> Iterator[str]:
    year, month = int(period[:4]), int(period[4:])
    for delta in (-1, 0, 1):
        m = month + delta
        yield f"{year + (m - 1) // 12}{(m - 1) % 12 + 1:02d}"


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 50:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k
