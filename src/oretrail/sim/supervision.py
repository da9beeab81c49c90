"""The supervision feeds of the simulated economy: monthly reports, and the inspectorates' records
(inspections with facility statuses and corrective actions, closures, reviews, trainings), with planted and
labelled violations of the four supervision rules.

Reports are what each enterprise's books say: the simulator follows every event it sends (`see`), counts
the flows at each enterprise's registered facilities per Beijing month and material exactly as the
platform's ledger will (rules/monthly_flows.py), undoes an event when its errorDeclaration is sent, and files
the month by the due day. Planted, at the violation rate per owed month: a month never filed, filed late,
or filed with one figure off (labelled `supervision.late_report` or `supervision.report_mismatch`, subject
the enterprise). Inspections: every facility-owning enterprise is inspected about once a year; a yellow
facility is re-inspected green before its three months run out; corrective actions are closed in time, except
the planted ones (`supervision.overdue_action`). A few busy facilities are suspended (red) some weeks before
the period ends, and every lot mined at, produced at or shipped from them afterwards is labelled
`supervision.suspended_facility`. Everything is drawn from a generator of its own, so the other feeds are
byte-identical with or without it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson

from oretrail.rules.monthly_flows import FLOWS, due_date
from oretrail.sim.world import Facility, World

SUPERVISION_RULES = (
    "supervision.overdue_action",
    "supervision.late_report",
    "supervision.report_mismatch",
    "supervision.suspended_facility",
)
CST = timedelta(hours=8)
_UNITS = {"KGM": 1000, "TNE": 1_000_000, "GRM": 1}
DUE_DAY = 10  # rules/defaults.toml [supervision] report_due_day
ACTION_DAYS = 90  # [supervision] action_days


class Labeller(Protocol):
    def __call__(self, rule: str, kind: str, ident: str, note: str) -> None: ...


def _grams(q: dict[str, Any]) -> int:
    return round(float(q["quantity"]) * _UNITS[q["uom"]])


def _local(stamp: str) -> datetime:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return (moment - moment.utcoffset()).replace(tzinfo=None) + CST  # type: ignore[operator]


class Supervision:
    def __init__(self, rng: random.Random, world: World, start: datetime, end: datetime, rate: float) -> None:
        self.rng, self.world, self.start, self.end, self.rate = rng, world, start, end, rate
        self.owner = {f.id: f.owner.party for f in world.facilities}
        self.owners = set(self.owner.values())
        self.material: dict[str, str] = {}
        self.flows: dict[tuple[str, str], dict[str, dict[str, int]]] = defaultdict(
            lambda: defaultdict(lambda: dict.fromkeys(FLOWS, 0))
        )
        # Suspended facilities: a few busy mines and plants, red from a day in the last two months.
        candidates = [f for f in world.facilities if f.type in ("mine", "smelter", "refinery", "processor")]
        rng.shuffle(candidates)
        count = max(1, round(len(candidates) * 0.03)) if rate > 0 else 0
        span = max(1, min(60, (end - start).days // 3))
        self.suspended: dict[str, date] = {
            f.id: (end - timedelta(days=rng.randint(10, span))).date() for f in candidates[:count]
        }
        self.suspended_lots: dict[str, tuple[str, str]] = {}  # lot -> (facility, how)

    # --- following the events as they are sent ----------------------------------------------------------
    def see(self, ev: dict[str, Any]) -> None:
        sign = -1 if "errorDeclaration" in ev else 1
        when = _local(ev["eventTime"])
        period = f"{when:%Y%m}"
        place = (ev.get("bizLocation") or {}).get("id")
        ilmd = ev.get("ilmd") or {}
        if ev["type"] == "TransformationEvent":
            for q in ev.get("outputQuantityList", []):
                if sign > 0 and ilmd.get("ot:material"):
                    self.material[q["epcClass"]] = ilmd["ot:material"]
                self._add(place, period, q, "produced", sign)
                self._suspended(place, when, q["epcClass"], "produced at", sign)
            for q in ev.get("inputQuantityList", []):
                self._add(place, period, q, "consumed", sign)
            return
        step = ev.get("bizStep")
        for q in ev.get("quantityList", []):
            if step == "commissioning" and ev.get("action") == "ADD":
                if sign > 0 and ilmd.get("ot:material"):
                    self.material[q["epcClass"]] = ilmd["ot:material"]
                self._add(place, period, q, "produced", sign)
                self._suspended(place, when, q["epcClass"], "mined at", sign)
            elif step == "shipping":
                self._add(place, period, q, "shipped", sign)
                self._suspended(place, when, q["epcClass"], "shipped from", sign)
            elif step == "receiving":
                self._add(place, period, q, "received", sign)
            elif step == "departing":
                owner = next((s["source"] for s in ev.get("sourceList", []) if s["type"] == "owning_party"), None)
                if owner in self.owners:
                    self._count(owner, period, q, "exported", sign)

    def _add(self, place: str | None, period: str, q: dict[str, Any], flow: str, sign: int) -> None:
        owner = self.owner.get(place or "")
        if owner is not None:
            self._count(owner, period, q, flow, sign)

    def _count(self, owner: str, period: str, q: dict[str, Any], flow: str, sign: int) -> None:
        material = self.material.get(q["epcClass"])
        if material is not None:
            self.flows[(owner, period)][material][flow] += sign * _grams(q)

    def _suspended(self, place: str | None, when: datetime, lot: str, how: str, sign: int) -> None:
        since = self.suspended.get(place or "")
        if since is not None and sign > 0 and when.date() >= since and lot not in self.suspended_lots:
            self.suspended_lots[lot] = (place or "", how)

    # --- writing the two feeds ------------------------------------------------------------------------
    def write(self, outdir: Path, label: Labeller) -> dict[str, int]:
        counts = {"reports": 0, "supervision": 0}
        with (outdir / "reports.jsonl").open("wb") as fh:
            counts["reports"] = self._reports(fh, label)
        with (outdir / "supervision.jsonl").open("wb") as fh:
            counts["supervision"] = self._records(fh, label)
        return counts

    def _reports(self, fh: Any, label: Labeller) -> int:
        rng, written = self.rng, 0
        last_due = (self.end - timedelta(days=5)).date()
        for (party, period), materials in sorted(self.flows.items()):
            if not any(v for figures in materials.values() for v in figures.values()):
                continue  # every event of the month was retracted: nothing is owed
            due = due_date(period, DUE_DAY)
            filed = datetime.combine(due - timedelta(days=rng.randint(0, 8)), datetime.min.time()) + timedelta(
                hours=rng.randint(8, 18)
            )
            lines: list[dict[str, Any]] = [{"material": m, **{f"{f}_kg": round(g[f] / 1000, 3) for f in FLOWS}}
                     for m, g in sorted(materials.items())]  # fmt: skip
            plant = rng.random() < self.rate and due < last_due
            kind = rng.choice(("missing", "late", "mismatch")) if plant else None
            if kind == "missing":
                label("supervision.late_report", "enterprise", party, f"{period} never filed (due {due})")
                continue
            if kind == "late":
                filed = datetime.combine(due + timedelta(days=rng.randint(3, 20)), datetime.min.time()) + timedelta(
                    hours=10
                )
                label("supervision.late_report", "enterprise", party, f"{period} filed {filed.date()} (due {due})")
            if kind == "mismatch":
                line = max(lines, key=lambda ln: max(ln[f"{f}_kg"] for f in FLOWS))
                flow = max(FLOWS, key=lambda f: line[f"{f}_kg"])
                line[f"{flow}_kg"] = round(line[f"{flow}_kg"] * rng.uniform(0.5, 0.8), 3)
                label("supervision.report_mismatch", "enterprise", party, f"{period}: {line['material']} {flow} "
                      "under-reported")  # fmt: skip
            fh.write(orjson.dumps({"enterprise": party, "period": f"{period[:4]}-{period[4:]}",
                                   "filed_at": (filed.isoformat() + "+08:00"), "lines": lines}) + b"\n")  # fmt: skip
            written += 1
        return written

    def _records(self, fh: Any, label: Labeller) -> int:
        rng, n = self.rng, 0
        end = self.end.date()

        def put(obj: dict[str, Any]) -> None:
            nonlocal n
            fh.write(orjson.dumps(obj) + b"\n")
            n += 1

        by_owner: dict[str, list[Facility]] = defaultdict(list)
        for f in self.world.facilities:
            if f.type != "port":
                by_owner[f.owner.party].append(f)
        planted_any = False
        for i, (party, facs) in enumerate(sorted(by_owner.items())):
            fac = rng.choice(facs)
            province = fac.province
            day = self.start.date() + timedelta(days=rng.randint(10, max(11, (end - self.start.date()).days - 120)))
            status = "yellow" if rng.random() < 0.15 else "green"
            ins_id = f"INS-{day:%Y}-{i:05d}"
            actions = []
            if status == "yellow" or rng.random() < 0.3:
                due = day + timedelta(days=ACTION_DAYS)
                actions.append({"id": f"CA-{ins_id[4:]}-1", "item": "facility.scales",
                                "text": "Have the scales verified and sealed; reconcile weighing records.",
                                "due": due.isoformat()})  # fmt: skip
            put({"kind": "inspection", "id": ins_id, "enterprise": party, "facility": fac.id, "province": province,
                 "inspector": f"{province} inspectorate", "date": day.isoformat(), "basis": "risk",
                 "items": [{"item": "facility.scales", "result": "minor" if actions else "pass"},
                           {"item": "icp.training", "result": "pass"}],
                 "alerts": [], "facility_status": status, "actions": actions})  # fmt: skip
            if status == "yellow":  # re-inspected and cleared before the three months run out
                again = day + timedelta(days=rng.randint(30, 80))
                put({"kind": "inspection", "id": f"{ins_id}-F", "enterprise": party, "facility": fac.id,
                     "province": province, "inspector": f"{province} inspectorate", "date": again.isoformat(),
                     "basis": "follow_up", "items": [{"item": "facility.scales", "result": "pass"}],
                     "alerts": [], "facility_status": "green"})  # fmt: skip
            for a in actions:
                due = date.fromisoformat(a["due"])
                eligible = self.rate > 0 and due < end - timedelta(days=5)
                if eligible and (not planted_any or rng.random() < self.rate * 3):
                    planted_any = True
                    label("supervision.overdue_action", "enterprise", party, f"{a['id']} due {due}, never closed")
                    continue
                closed = min(due, day + timedelta(days=rng.randint(20, ACTION_DAYS)))
                evidence = [f"doc:{a['id']}:calibration-certificate"]
                by = f"{province} inspectorate"
                put({"kind": "closure", "action": a["id"], "date": closed.isoformat(), "by": by, "evidence": evidence})
            if rng.random() < 0.5:
                levels = {e: rng.randint(1, 4) for e in ("policy", "organisation", "risk", "review", "emergency",
                                                          "training", "audit", "records", "manual")}  # fmt: skip
                put({"kind": "review", "id": f"REV-{day:%Y}-{i:05d}", "enterprise": party,
                     "reviewer": f"{province} commerce department", "date": (day - timedelta(days=7)).isoformat(),
                     "elements": {e: {"level": lv, "findings": "", "evidence": []}
                                  for e, lv in levels.items()}})  # fmt: skip
        for fid, since in sorted(self.suspended.items()):
            fac = next(f for f in self.world.facilities if f.id == fid)
            put({"kind": "inspection", "id": f"INS-RED-{fid.rsplit(':', 2)[-2][-6:]}-{fid.rsplit(':', 1)[-1]}",
                 "enterprise": fac.owner.party, "facility": fid, "province": fac.province,
                 "inspector": f"{fac.province} inspectorate", "date": since.isoformat(), "basis": "complaint",
                 "items": [{"item": "facility.inputs", "result": "major", "note": "inputs of unknown origin"}],
                 "alerts": [], "facility_status": "red"})  # fmt: skip
        for lot, (fid, how) in sorted(self.suspended_lots.items()):
            label("supervision.suspended_facility", "lot", lot, f"{how} {fid}, suspended since {self.suspended[fid]}")
        provinces = sorted({f.province for fs in by_owner.values() for f in fs})
        for j, province in enumerate(provinces):
            attendees = sorted({p for p, fs in by_owner.items() if fs[0].province == province})
            chosen = [p for p in attendees if rng.random() < 0.6] or attendees[:1]
            put({"kind": "training", "id": f"TRN-{province}-{j:03d}", "province": province, "topic": "icp",
                 "date": (self.start + timedelta(days=rng.randint(20, 120))).date().isoformat(),
                 "title": {"zh": "两用物项出口管制内部合规培训", "en": "Internal compliance for dual-use exports"},
                 "guidance": ["G-ICP-SCREEN", "G-ICP-TRAINING"],
                 "attendance": [{"enterprise": p, "attendees": rng.randint(1, 5)} for p in chosen]})  # fmt: skip
        return n
