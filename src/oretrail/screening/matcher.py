"""Screening counterparties against the watch list: a blocking index and a rarity-weighted token scorer.

Score (0-1) of a counterparty name against a listed name, both normalised (`names.normalise`):

* tokens are aligned exactly, then a token of one side is split by tokens of the other ("beijingxinxing"
  against "Xinxing ... (Beijing)", "zhongguo" against "Zhong Guo"), then remaining words of five letters
  or more are paired when one typo apart (rapidfuzz optimal string alignment distance 1:
  "Velmorra"/"Velmora"), as written or as romanisation skeletons ("Tyazhkhimmetall" / "Tyazhhimmetall" /
  "Tiazhkhimmetal", `names.skeleton`); two edits already separate real trade names ("Kroumraeth" /
  "Kroumraesto"), and two pinyin words are never paired ("Xinhua"/"Xinhuo" are two companies);
* each token weighs its rarity in the list (IDF), capped for generic business, place and structure words,
  so "International Trading" shared by two names contributes little and the trade name decides;
* score = matched weight / (total weight + CONFLICT x min(unmatched on each side)). A word that only one
  side has ("Group", "Beijing") costs its capped weight; words on each side that the other lacks
  ("Technology" against "Textile", "Dalian" against "Kunming") say it is another business, and cost
  CONFLICT times their uncapped rarity weight.

The index blocks on tokens and on pinyin syllable bigrams (which make "Zhong Guo", "Zhongguo" and 中国
meet), scans the rarest keys first within a posting budget, and fully scores only the best candidates.
"""

from __future__ import annotations

import heapq
import math
import multiprocessing
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz.distance import OSA

from oretrail.screening.entities import WatchlistEntity
from oretrail.screening.names import (
    GENERIC_WORDS,
    STRUCTURE_WORDS,
    NameForm,
    is_pinyin,
    normalise,
    pinyin_split,
    skeleton,
)

DEFAULT_THRESHOLD = 0.88
CONFLICT = 2.0
GENERIC_CAP = 1.5
STRUCTURE_CAP = 0.5
TYPO_CREDIT = 0.95  # share of a word's weight a one-typo pair counts as matched
CANDIDATES = 12  # entities whose tallied name variants are fully scored, per query name
POSTING_BUDGET = 1500  # postings scanned per query name before the commoner keys are left out
PARALLEL_MIN = 5000  # names in one batch from which screening is split over the cores (about 5 s of one core)
# IDF is computed as if the list had at least this many entities: a short list is no evidence that its
# words are common, and without the floor a trade name in a 20-entity list weighs barely more than "Group".
MIN_LIST_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Hit:
    """A counterparty name matching a listed entity; `matched_name` is the listed name as written."""

    query: str
    entity_id: str
    matched_name: str
    score: float
    caption: str
    schema: str


@dataclass(frozen=True, slots=True)
class _Variant:
    entity: int
    name: str
    tokens: tuple[str, ...]
    weak: bool


def blocking_keys(tokens: tuple[str, ...]) -> set[str]:
    """Keys under which a name is indexed and looked up.

    The tokens; for words that may be misspelt, the first and last four letters of their `skeleton` (one
    typo, or another romanisation, leaves one of them intact); for pinyin, every two adjacent syllables
    joined, within a word and across words in either order. Most Chinese words are two syllables, so
    "Zhong Guo", "Zhongguo" and the run of 中国 all carry the key "zhongguo", and "Haifeng Chemical
    (Hangzhou)" meets 杭州海峰化工 under "haifeng".
    """
    keys = set(tokens)
    ends: list[tuple[str, str]] = []
    for token in tokens:
        split = pinyin_split(token)
        if split is not None:
            keys.update(a + b for a, b in pairwise(split))
            ends.append((split[0], split[-1]))
        elif len(token) >= 5 and token.isascii() and token not in _VOCABULARY:
            skel = skeleton(token)
            keys.add("<" + skel[:4])
            keys.add(skel[-4:] + ">")
    for i, (_, last) in enumerate(ends):
        keys.update(last + first for j, (first, _) in enumerate(ends) if i != j)
    return keys


_VOCABULARY = GENERIC_WORDS | STRUCTURE_WORDS


def _may_be_typo(a: str, b: str) -> bool:
    """Two words one edit apart, as written or as romanisation skeletons, unless both are pinyin of
    Chinese words: "Xinhua" and "Xinhuo" are two companies, since pinyin is a deterministic romanisation.
    An English business word that happens to spell pinyin ("mining" = mi-ning) is no Chinese word."""
    if len(a) < 5 or len(b) < 5 or abs(len(a) - len(b)) > 4 or not (a.isascii() and b.isascii()):
        return False
    if is_pinyin(a) and is_pinyin(b) and a not in _VOCABULARY and b not in _VOCABULARY:
        return False
    return OSA.distance(a, b, score_cutoff=1) <= 1 or OSA.distance(skeleton(a), skeleton(b), score_cutoff=1) <= 1


def _split(token: str, others: list[str]) -> tuple[list[str], list[str]] | None:
    """Cover `token` with tokens of the other name; returns (tokens used, uncovered pieces) or None.

    Uncovered pieces are allowed only inside pinyin ("beijing" left of "xinxing"), where they are whole
    syllables that the other name dropped; a Latin word must be covered entirely ("novatech").
    """
    pinyin = is_pinyin(token)
    candidates = sorted(
        {u for u in others if len(u) < len(token) and u in token and (len(u) >= 3 or (pinyin and len(u) >= 2))},
        key=len,
        reverse=True,
    )
    if not candidates:
        return None
    available = list(others)
    pieces: list[tuple[str, bool]] = [(token, False)]
    used: list[str] = []
    for part in candidates:
        while part in available:
            placed = False
            for index, (piece, done) in enumerate(pieces):
                if done:
                    continue
                start = piece.find(part)
                while start >= 0:
                    left, right = piece[:start], piece[start + len(part) :]
                    if not pinyin or all(not side or is_pinyin(side) for side in (left, right)):
                        replacement = [(left, False), (part, True), (right, False)]
                        pieces[index : index + 1] = [p for p in replacement if p[0]]
                        placed = True
                        break
                    start = piece.find(part, start + 1)
                if placed:
                    break
            if not placed:
                break
            available.remove(part)
            used.append(part)
    gaps = [piece for piece, done in pieces if not done]
    if not used or (gaps and not pinyin) or not _syllable_order_kept(others, [p for p, done in pieces if done]):
        return None
    return used, gaps


def _syllable_order_kept(others: list[str], covering: list[str]) -> bool:
    """Spaced-out syllables must cover in the order written: whole words may move ("Xinxing (Beijing)",
    "Jianhua Wang"), but "Heng Xin" is not 信恒 "xinheng" and "Da Yuan" is not "Yuanda"."""
    follows = set(pairwise(covering))
    for a, b in pairwise(others):
        single = len(pinyin_split(a) or ()) == 1 and len(pinyin_split(b) or ()) == 1
        if single and a in covering and b in covering and (a, b) not in follows:
            return False
    return True


class WatchlistIndex:
    """An in-memory screening index over a watch list; build once per list version, query many times."""

    def __init__(self, entities: Iterable[WatchlistEntity], threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self.entities: list[WatchlistEntity] = list(entities)
        self._variants: list[_Variant] = []
        document_frequency: dict[str, int] = {}
        for number, entity in enumerate(self.entities):
            seen: set[str] = set()
            for name in entity.all_names:
                weak = name not in entity.names
                for form in normalise(name):
                    self._variants.append(_Variant(number, name, form.tokens, weak))
                    seen.update(form.tokens)
            for token in seen:
                document_frequency[token] = document_frequency.get(token, 0) + 1
        size = max(len(self.entities), MIN_LIST_SIZE) + 1
        self._unseen_weight = 1.0 + math.log(size)
        self._raw = {t: 1.0 + math.log(size / (df + 1)) for t, df in document_frequency.items()}
        self._weights = {t: self._cap(t, w) for t, w in self._raw.items()}
        postings: dict[str, list[int]] = {}
        for number, variant in enumerate(self._variants):
            for key in blocking_keys(variant.tokens):
                postings.setdefault(key, []).append(number)
        self._postings = postings
        total = len(self._variants) + 1
        self._key_weights = {k: math.log(total / len(v)) + 0.1 for k, v in postings.items()}

    @staticmethod
    def _cap(token: str, weight: float) -> float:
        if token in STRUCTURE_WORDS:
            return min(weight, STRUCTURE_CAP)
        if token in GENERIC_WORDS:
            return min(weight, GENERIC_CAP)
        return weight

    def weight(self, token: str) -> float:
        """Rarity of a token in the list; a token the list never uses is as rare as can be."""
        known = self._weights.get(token)
        return known if known is not None else self._cap(token, self._unseen_weight)

    def _conflict_weight(self, token: str) -> float:
        """Rarity uncapped but for structure words: "Group" against "Holdings" is no contradiction."""
        if token in STRUCTURE_WORDS:
            return STRUCTURE_CAP
        return self._raw.get(token, self._unseen_weight)

    def score(self, query: tuple[str, ...], listed: tuple[str, ...]) -> float:
        """Similarity of two normalised token tuples, 0-1 (see the module docstring)."""
        weight = self.weight
        q_open = list(query)
        e_open: list[str] = []
        matched = 0.0
        for token in listed:
            if token in q_open:
                q_open.remove(token)
                matched += 2 * weight(token)
            else:
                e_open.append(token)
        for side, other in ((q_open, e_open), (e_open, q_open)):
            for token in list(side):
                if len(token) < 4 or not other:
                    continue
                split = _split(token, other)
                if split is None:
                    continue
                used, gaps = split
                side.remove(token)
                side.extend(gaps)
                for part in used:
                    other.remove(part)
                    matched += 2 * weight(part)
        residual = 0.0
        for token in list(q_open):
            if len(token) < 5:
                continue
            for candidate in e_open:
                if _may_be_typo(token, candidate):
                    q_open.remove(token)
                    e_open.remove(candidate)
                    similarity = TYPO_CREDIT
                    pair = weight(token) + weight(candidate)
                    matched += similarity * pair
                    residual += (1 - similarity) * pair
                    break
        q_rest = sum(weight(t) for t in q_open)
        e_rest = sum(weight(t) for t in e_open)
        conflict = 0.0
        if q_open and e_open:
            conflict = min(sum(self._conflict_weight(t) for t in q_open), sum(self._conflict_weight(t) for t in e_open))
        denominator = matched + residual + q_rest + e_rest + CONFLICT * conflict
        return matched / denominator if denominator else 0.0

    def _candidates(self, form: NameForm) -> list[int]:
        keys = sorted(
            (k for k in blocking_keys(form.tokens) if k in self._postings),
            key=lambda k: len(self._postings[k]),
        )
        tally: dict[int, float] = {}
        get = tally.get  # the hot loop of screening: a local name saves a lookup per posting
        scanned = 0
        for position, key in enumerate(keys):
            postings = self._postings[key]
            if position >= 2 and scanned + len(postings) > POSTING_BUDGET:
                break
            scanned += len(postings)
            key_weight = self._key_weights[key]
            for number in postings:
                tally[number] = get(number, 0.0) + key_weight
        ranked = heapq.nlargest(4 * CANDIDATES, tally, key=tally.__getitem__)
        chosen: list[int] = []
        entities: set[int] = set()
        for number in ranked:
            entity = self._variants[number].entity
            if entity not in entities:
                if len(entities) == CANDIDATES:
                    break
                entities.add(entity)
            chosen.append(number)
            if len(chosen) == 2 * CANDIDATES:
                break
        return chosen

    def screen(self, name: str) -> list[Hit]:
        """Listed entities matching a counterparty name at or above the threshold, best first."""
        best: dict[int, tuple[float, str]] = {}
        for form in normalise(name):
            for number in self._candidates(form):
                variant = self._variants[number]
                if variant.weak:
                    if sorted(variant.tokens) != sorted(form.tokens):
                        continue
                    similarity = 1.0
                else:
                    similarity = self.score(form.tokens, variant.tokens)
                if similarity >= self.threshold and similarity > best.get(variant.entity, (0.0, ""))[0]:
                    best[variant.entity] = (similarity, variant.name)
        hits = [
            Hit(
                query=name,
                entity_id=self.entities[number].id,
                matched_name=matched_name,
                score=round(similarity, 4),
                caption=self.entities[number].caption,
                schema=self.entities[number].schema,
            )
            for number, (similarity, matched_name) in best.items()
        ]
        return sorted(hits, key=lambda hit: (-hit.score, hit.entity_id))

    def screen_all(self, names: Iterable[str], parallel_min: int = PARALLEL_MIN) -> list[Hit]:
        """Hits of every name in order, each distinct name screened once (counterparty lists repeat
        themselves). A batch of `parallel_min` names or more is split over the machine's cores when the
        process has no other thread (the CLI, a scan, a benchmark): forked workers share this index
        copy-on-write, so nothing is rebuilt or pickled but the names and the hits. A threaded server
        screens in its own thread, since forking a threaded process can inherit a held lock."""
        distinct = list(dict.fromkeys(names))
        workers = _workers(len(distinct), parallel_min)
        if workers <= 1:
            return [hit for name in distinct for hit in self.screen(name)]
        global _FORKED
        _FORKED = self
        try:
            size = -(-len(distinct) // (4 * workers))  # a few chunks per worker, so a slow one does not hold all
            chunks = [distinct[i : i + size] for i in range(0, len(distinct), size)]
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_screen_chunk, chunks)
        finally:
            _FORKED = None
        return [hit for part in parts for hit in part]


_FORKED: WatchlistIndex | None = None  # the index forked workers screen with (set only around a pool)


def _screen_chunk(names: list[str]) -> list[Hit]:
    assert _FORKED is not None
    return [hit for name in names for hit in _FORKED.screen(name)]


def _workers(batch: int, parallel_min: int) -> int:
    if batch < parallel_min or threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(len(os.sched_getaffinity(0)), -(-batch // max(parallel_min, 1)), 8)
