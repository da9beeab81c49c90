"""A compliance review's score, the guidance it calls for, and the progress between two reviews.

Method (docs/supervision.md): each of the nine elements gets a maturity level 0-4 (icp_template.toml
[levels]); the score is the weighted mean level as a share of the top level, 0-100, with the template's
weights (screening and risk assessment count double). An element below level 3 ("implemented") is weak and
gets its improvement and guidance documents. A later review of the same enterprise shows, element by
element, the level before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from oretrail.supervision.template import WEAK_BELOW, guidance_doc, template

TOP = max(template().levels)


@dataclass(frozen=True)
class ReviewScore:
    score: float  # 0-100
    weak: tuple[str, ...]  # element ids below level WEAK_BELOW


def score_review(elements: dict[str, dict[str, Any]]) -> ReviewScore:
    t = template()
    total = sum(e.weight for e in t.elements)
    got = sum(e.weight * int(elements[e.id]["level"]) for e in t.elements)
    weak = tuple(e.id for e in t.elements if int(elements[e.id]["level"]) < WEAK_BELOW)
    return ReviewScore(round(100 * got / (total * TOP), 1), weak)


def explained(review: dict[str, Any], previous: dict[str, Any] | None, lang: str = "en") -> dict[str, Any]:
    """A stored review (row as a mapping, `elements` decoded) in the reader's language: per element its
    level with the level's meaning, findings, evidence, its EU and BIS counterparts; the score and how it
    was computed; guidance for each weak element; and the progress since `previous`."""
    t = template()
    scored = score_review(review["elements"])
    levels = {k: (v["zh"] if lang == "zh" else v["en"]) for k, v in t.levels.items()}
    rows = []
    for e in t.elements:
        got = review["elements"][e.id]
        before = previous["elements"].get(e.id, {}).get("level") if previous else None
        rows.append({
            "element": e.id,
            "name": e.name(lang),
            "mofcom": e.mofcom,
            "eu": list(e.eu),
            "bis": list(e.bis),
            "weight": e.weight,
            "level": got["level"],
            "meaning": levels[int(got["level"])],
            "findings": got.get("findings", ""),
            "evidence": got.get("evidence", []),
            "previous_level": before,
            "change": None if before is None else int(got["level"]) - int(before),
        })  # fmt: skip
    guidance = []
    for element_id in scored.weak:
        weak = t.element(element_id)
        assert weak is not None
        docs = [d.record(lang) for d in (guidance_doc(g) for g in weak.guidance) if d is not None]
        guidance.append({"element": weak.id, "name": weak.name(lang), "level": review["elements"][weak.id]["level"],
                         "improve": weak.improve["zh" if lang == "zh" else "en"], "documents": docs})  # fmt: skip
    return {
        "id": review["id"],
        "enterprise": review["enterprise"],
        "reviewer": review["reviewer"],
        "date": str(review["date"]),
        "template": review["template_version"],
        "score": scored.score,
        "method": METHOD["zh" if lang == "zh" else "en"],
        "elements": rows,
        "guidance": guidance,
        "previous": None
        if previous is None
        else {"id": previous["id"], "date": str(previous["date"]), "score": previous["score"]},
        "score_change": None if previous is None else round(scored.score - float(previous["score"]), 1),
    }


METHOD = {
    "en": "score = 100 × Σ(weight × level) ÷ (4 × Σ weight) over the nine elements; review procedures and risk "
    "assessment weigh 2, the others 1; an element below level 3 (implemented) is weak and gets guidance",
    "zh": "得分 = 100 × Σ(权重 × 等级) ÷ (4 × Σ权重)，覆盖九项要素；审查程序和风险评估权重为2，其余为1；"
    "低于3级（实施）的要素为薄弱项，附整改指导",
}
