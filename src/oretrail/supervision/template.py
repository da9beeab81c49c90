"""The review template and the guidance documents, read from their data files and checked once.

The template is data (icp_template.toml): nine MOFCOM elements, each mapped to the EU's seven and BIS's
eight, with the questions a reviewer asks and the improvement a weak element calls for. Keeping it as data
lets the inspectorate publish a new version without a code change; a review names the version it used.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

LEVELS = (0, 1, 2, 3, 4)
WEAK_BELOW = 3  # a level under "implemented" calls for guidance


@dataclass(frozen=True)
class Element:
    id: str
    mofcom: int
    en: str
    zh: str
    eu: tuple[int, ...]
    bis: tuple[int, ...]
    weight: float
    guidance: tuple[str, ...]
    questions: tuple[dict[str, str], ...]
    improve: dict[str, str]

    def name(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Template:
    version: str
    published: str
    levels: dict[int, dict[str, str]]
    eu: dict[int, dict[str, str]]
    bis: dict[int, dict[str, str]]
    elements: tuple[Element, ...]
    facility_checks: dict[str, dict[str, str]]

    def element(self, element_id: str) -> Element | None:
        return next((e for e in self.elements if e.id == element_id), None)

    @property
    def items(self) -> tuple[str, ...]:
        """Every checklist item an inspection may record: an ICP element or a facility check."""
        return tuple(f"icp.{e.id}" for e in self.elements) + tuple(f"facility.{c}" for c in self.facility_checks)

    def record(self, lang: str = "en") -> dict[str, Any]:
        def pick(d: dict[str, str]) -> str:
            return d["zh"] if lang == "zh" else d["en"]

        return {
            "version": self.version,
            "published": self.published,
            "levels": {str(k): pick(v) for k, v in self.levels.items()},
            "elements": [
                {
                    "id": e.id,
                    "mofcom": e.mofcom,
                    "name": e.name(lang),
                    "weight": e.weight,
                    "eu": [{"element": n, "name": pick(self.eu[n])} for n in e.eu],
                    "bis": [{"element": n, "name": pick(self.bis[n])} for n in e.bis],
                    "questions": [pick(q) for q in e.questions],
                    "improve": pick(e.improve),
                    "guidance": list(e.guidance),
                }
                for e in self.elements
            ],
            "facility_checks": [{"id": k, "name": pick(v)} for k, v in self.facility_checks.items()],
        }


def _both(d: Any, where: str) -> dict[str, str]:
    if not isinstance(d, dict) or not d.get("en") or not d.get("zh"):
        raise ValueError(f"{where}: needs en and zh")
    return {"en": str(d["en"]), "zh": str(d["zh"])}


@cache
def template() -> Template:
    raw = tomllib.loads(files("oretrail.supervision").joinpath("icp_template.toml").read_text(encoding="utf-8"))
    eu = {int(k): _both(v, f"eu.{k}") for k, v in raw["eu"].items()}
    bis = {int(k): _both(v, f"bis.{k}") for k, v in raw["bis"].items()}
    elements = []
    for i, e in enumerate(raw["element"]):
        where = f"element[{i}] ({e.get('id')})"
        if set(e["eu"]) - set(eu) or set(e["bis"]) - set(bis):
            raise ValueError(f"{where}: maps to an EU or BIS element the template does not list")
        elements.append(
            Element(
                e["id"],
                int(e["mofcom"]),
                e["en"],
                e["zh"],
                tuple(e["eu"]),
                tuple(e["bis"]),
                float(e["weight"]),
                tuple(e["guidance"]),
                tuple(_both(q, where) for q in e["questions"]),
                _both(e["improve"], where),
            )
        )
    t = Template(
        version=str(raw["version"]),
        published=str(raw["published"]),
        levels={int(k): _both(v, f"levels.{k}") for k, v in raw["levels"].items()},
        eu=eu,
        bis=bis,
        elements=tuple(elements),
        facility_checks={c["id"]: _both(c, f"facility_check {c['id']}") for c in raw["facility_check"]},
    )
    known = {d.id for d in guidance()}
    for e in t.elements:
        if set(e.guidance) - known:
            raise ValueError(f"element {e.id}: guidance {sorted(set(e.guidance) - known)} not in guidance.toml")
    return t


@dataclass(frozen=True)
class Guidance:
    id: str
    topic: str
    text: dict[str, dict[str, str]]  # lang -> {title, body, basis}

    def record(self, lang: str = "en") -> dict[str, str]:
        chosen = self.text["zh" if lang == "zh" else "en"]
        return {"id": self.id, "topic": self.topic, "title": chosen["title"], "body": chosen["body"],
                "basis": chosen["basis"]}  # fmt: skip


@cache
def guidance() -> tuple[Guidance, ...]:
    raw = tomllib.loads(files("oretrail.supervision").joinpath("guidance.toml").read_text(encoding="utf-8"))
    out = []
    for d in raw["document"]:
        text = {lang: {k: d[lang][k] for k in ("title", "body", "basis")} for lang in ("en", "zh")}
        out.append(Guidance(d["id"], d["topic"], text))
    return tuple(out)


def guidance_doc(doc_id: str) -> Guidance | None:
    return next((g for g in guidance() if g.id == doc_id), None)
