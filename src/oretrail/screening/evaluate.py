"""Measuring the matcher on labelled name pairs: precision, recall and F1, overall and by group.

A pair is (counterparty name, listed name, same company or not), labelled with the script of its non-Latin
side and the kind of variation, as name-matching benchmarks of sanctions screening are. Each listed name
becomes one entity of a watch list, and a pair is predicted a match when screening the counterparty name
against that whole list returns the pair's entity: so blocking, rarity weights and the threshold are all
measured, not the scorer alone. Scores are kept, so thresholds can be compared on the same run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from oretrail.screening.entities import WatchlistEntity
from oretrail.screening.matcher import WatchlistIndex


@dataclass(frozen=True, slots=True)
class LabelledPair:
    query: str
    listed: str
    match: bool
    script: str
    kind: str
    schema: str = "Company"


@dataclass(frozen=True, slots=True)
class Tally:
    """Confusion counts of a group of pairs."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def pairs(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


@dataclass(frozen=True, slots=True)
class Evaluation:
    """Every pair with the score screening gave its listed entity (0.0 when it was not a candidate)."""

    scored: tuple[tuple[LabelledPair, float], ...]

    def tally(self, threshold: float, keep: Callable[[LabelledPair], bool] = lambda _: True) -> Tally:
        tp = fp = fn = tn = 0
        for pair, score in self.scored:
            if not keep(pair):
                continue
            hit = score >= threshold
            tp += hit and pair.match
            fp += hit and not pair.match
            fn += not hit and pair.match
            tn += not hit and not pair.match
        return Tally(tp, fp, fn, tn)

    def by(self, threshold: float, key: Callable[[LabelledPair], str]) -> dict[str, Tally]:
        groups = sorted({key(pair) for pair, _ in self.scored})
        return {g: self.tally(threshold, lambda p, g=g: key(p) == g) for g in groups}  # type: ignore[misc]

    def misses(self, threshold: float) -> list[tuple[LabelledPair, float]]:
        """Pairs screening got wrong at `threshold`: missed variants and hits on other companies."""
        return [(p, s) for p, s in self.scored if (s >= threshold) != p.match]


def evaluate(pairs: Iterable[LabelledPair]) -> Evaluation:
    """Screen each pair's counterparty against a list made of every listed name of the set."""
    pairs = list(pairs)
    ids: dict[str, str] = {}
    entities: list[WatchlistEntity] = []
    for pair in pairs:
        if pair.listed not in ids:
            ids[pair.listed] = f"listed-{len(ids)}"
            entities.append(WatchlistEntity(ids[pair.listed], pair.schema, pair.listed, (pair.listed,), (), (), {}))
    index = WatchlistIndex(entities, threshold=0.0)
    scored = []
    for pair in pairs:
        scores = {hit.entity_id: hit.score for hit in index.screen(pair.query)}
        scored.append((pair, scores.get(ids[pair.listed], 0.0)))
    return Evaluation(tuple(scored))
