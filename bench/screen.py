"""Screening benchmark: quality on the labelled pairs, and speed of 100,000 counterparties x 50,000 entities.

Quality is measured on the labelled pairs of `tests/screening/pairs.py` (real companies and persons, names
as they vary across scripts and documents, and hard negatives): F1, precision and recall overall, for
organisations, by script and by kind of variation, the unambiguous pairs missed, and F1 at thresholds
around the configured one. Never on the generated workload below, which measures the simulator's habits.

Speed: the list is synthetic but shaped like the real problem: Chinese companies listed under their Chinese name
(half with an English rendering as alias), Western companies with legal forms, and persons. Counterparties
are 10 % true variants of listed names (legal forms, abbreviations, case and punctuation, word order,
Chinese against pinyin or English, pinyin spacing, aliases, one-letter misspellings), 10 % hard negatives
(the same name with another trade name or another line of business) and 80 % unrelated names from the same
vocabulary. Prints build time, the median of 3 screening runs and throughput, and the baseline measured in
the same run: brute-force rapidfuzz (`process.extractOne`, token-sort ratio, the usual first attempt)
over the whole list for a sample of the counterparties, extrapolated to all of them.

    uv run python bench/screen.py [--entities 50000] [--counterparties 100000] [--seed 7] [--quality-only]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from oretrail.rules.config import load_config
from oretrail.screening.entities import WatchlistEntity
from oretrail.screening.evaluate import Tally, evaluate
from oretrail.screening.matcher import PARALLEL_MIN, WatchlistIndex, _workers
from oretrail.screening.names import normalise

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.screening.pairs import PAIRS, UNAMBIGUOUS

CITIES = {
    "北京": "Beijing", "上海": "Shanghai", "深圳": "Shenzhen", "广州": "Guangzhou", "天津": "Tianjin",
    "赣州": "Ganzhou", "包头": "Baotou", "长沙": "Changsha", "厦门": "Xiamen", "宁波": "Ningbo",
    "苏州": "Suzhou", "成都": "Chengdu", "昆明": "Kunming", "南昌": "Nanchang", "杭州": "Hangzhou",
    "武汉": "Wuhan", "青岛": "Qingdao", "大连": "Dalian", "合肥": "Hefei", "东莞": "Dongguan",
}  # fmt: skip
TRADE_CHARS = "华信新星金龙恒泰瑞丰博源顺达天润永盛凯远宏通鑫海东嘉德利安兴中亚鼎晟宇辰峰川森林光明"
INDUSTRIES = {
    "稀土": "Rare Earth", "科技": "Technology", "贸易": "Trading", "电子": "Electronics",
    "新材料": "New Materials", "矿业": "Mining", "金属": "Metals", "化工": "Chemical",
    "实业": "Industrial", "进出口": "Import and Export",
}  # fmt: skip
CN_FORMS = ("有限公司", "股份有限公司", "有限责任公司")
EN_FORMS = ("Co., Ltd.", "Company Limited", "Ltd", "Co Ltd", "Limited")
BUSINESS = (
    "Materials", "Metals", "Semiconductor", "Trading", "Logistics", "Communications", "Industrial",
    "Chemicals", "Precision Instruments", "Mineral Resources", "Electronics", "Advanced Technologies",
    "Magnetics", "Alloys", "Powders", "Optics", "Coatings", "Engineering", "Shipping", "Energy",
)  # fmt: skip
GENERIC_EXTRA = ("International", "Global", "Group", "Holdings", "")
WEST_FORMS = ("GmbH", "Ltd", "LLC", "Inc.", "S.A.S.", "PLC", "Pte Ltd", "AG", "Corp.", "FZE", "B.V.", "")
ABBREVIATE = {
    "International": "Intl", "Group": "Grp", "Holdings": "Hldgs", "Trading": "Trdg", "Communications": "Comm",
    "Technologies": "Tech", "Technology": "Tech", "Industrial": "Ind.", "Electronics": "Elec",
    "Manufacturing": "Mfg", "Corporation": "Corp", "Materials": "Matls", "Chemicals": "Chem",
}  # fmt: skip
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "cr", "dr", "gr", "kr",
          "pr", "st", "tr", "sk", "qu", "h", "w")  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "ae", "io", "ou", "y")
CODAS = ("", "", "n", "r", "s", "x", "l", "m", "th", "nd", "rk", "v")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "建华国明伟芳军洋勇艳杰娟涛超秀英敏静丽强磊"


@dataclass(frozen=True)
class Company:
    """The parts a listed name is built from, kept so that variants and near-misses can be derived."""

    kind: str  # cn | west | person
    trade: str  # Chinese characters, Western trade word, or person name
    city: str
    industry: str
    extra: str
    form: str


def western_word(rng: random.Random) -> str:
    syllables = 3  # long enough that two random trade names are rarely one typo apart
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(syllables)).title()


def chinese_name(c: Company) -> str:
    return f"{c.city}{c.trade}{c.industry}{c.form}"


def pinyin_of(hanzi: str) -> str:
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(hanzi)).title()


def english_name(c: Company, rng: random.Random, *, order: str = "plain", spaced: bool = False) -> str:
    if c.kind == "west":
        words = [c.trade, c.industry, c.extra]
        if order == "shuffle":
            rng.shuffle(words)
        return " ".join(w for w in [*words, c.form] if w)
    if c.kind == "person":
        surname, given = pinyin_of(c.trade[0]), pinyin_of(c.trade[1:])
        return f"{given} {surname}" if order == "shuffle" else f"{surname} {given}"
    trade = " ".join(pinyin_of(ch) for ch in c.trade) if spaced else pinyin_of(c.trade)
    city = CITIES[c.city]
    industry = INDUSTRIES[c.industry]
    form = rng.choice(EN_FORMS)
    if order == "shuffle":
        return f"{trade} {industry} ({city}) {form}"
    if order == "pinyin":
        return f"{city} {trade} {pinyin_of(c.industry)} Youxian Gongsi"
    return f"{city} {trade} {industry} {form}"


def listed_names(c: Company, rng: random.Random) -> tuple[str, ...]:
    if c.kind == "cn":
        return (chinese_name(c), english_name(c, rng)) if rng.random() < 0.5 else (chinese_name(c),)
    if c.kind == "person":
        return (c.trade,)
    return (english_name(c, rng),)


def make_company(rng: random.Random, used: set[str], fresh: bool) -> Company:
    """A company whose identifying key (trade name, place, business) is not in `used`; `fresh` ones also
    avoid trade names a listed company has, so they are unrelated to the whole list."""
    while True:
        roll = rng.random()
        if roll < 0.4:
            c = Company("cn", "".join(rng.sample(TRADE_CHARS, 2)), rng.choice(list(CITIES)),
                        rng.choice(list(INDUSTRIES)), "", rng.choice(CN_FORMS))  # fmt: skip
            keys = (f"cn:{pinyin_of(c.trade)}:{c.city}:{c.industry}", f"trade:{pinyin_of(c.trade)}")
        elif roll < 0.9:
            c = Company("west", western_word(rng), "", rng.choice(BUSINESS), rng.choice(GENERIC_EXTRA),
                        rng.choice(WEST_FORMS))  # fmt: skip
            keys = (f"west:{c.trade}:{c.industry}", f"trade:{c.trade}")
        else:
            c = Company("person", rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2)), "", "", "", "")
            keys = (f"person:{pinyin_of(c.trade)}", f"trade:{pinyin_of(c.trade)}")
        if keys[0] in used or (fresh and keys[1] in used):
            continue
        if not fresh:
            used.update(keys)
        return c


def variant(c: Company, names: tuple[str, ...], rng: random.Random) -> str:
    """A name of the same company as trade documents write it."""
    if c.kind == "person":
        return rng.choice([english_name(c, rng), english_name(c, rng, order="shuffle"), c.trade])
    if c.kind == "cn":
        choice = rng.randrange(5)
        if choice == 0 and len(names) > 1:
            return names[1].upper().replace(",", "").replace(".", "")
        if choice == 1:
            return english_name(c, rng, order="shuffle")
        if choice == 2:
            return english_name(c, rng, spaced=True)
        if choice == 3:
            return english_name(c, rng, order="pinyin")
        return f"{c.city}{c.trade}{c.industry}{rng.choice(CN_FORMS)}"
    name = names[0]
    choice = rng.randrange(6)
    if choice == 0:
        for full, short in ABBREVIATE.items():
            name = name.replace(full, short)
        return name
    if choice == 1:
        return english_name(c, rng, order="shuffle")
    if choice == 2:
        return name.upper().replace(" ", "-", 1).replace(".", "")
    if choice == 3:
        return " ".join(w for w in (c.trade, c.industry, c.extra, rng.choice(WEST_FORMS)) if w)
    if choice == 4:
        trade = c.trade
        i = rng.randrange(1, len(trade))
        return name.replace(trade, trade[:i] + trade[i] + trade[i:], 1)  # doubled letter
    return name.lower()


def near_miss(c: Company, rng: random.Random, used: set[str]) -> str | None:
    """Another company that shares everything but what identifies it: trade name or line of business."""
    if c.kind == "cn":
        trade = c.trade.replace(rng.choice(c.trade), rng.choice(TRADE_CHARS), 1)
        if f"trade:{pinyin_of(trade)}" in used or pinyin_of(trade) == pinyin_of(c.trade):
            return None
        other = Company("cn", trade, c.city, c.industry, "", c.form)
        return chinese_name(other) if rng.random() < 0.5 else english_name(other, rng)
    if c.kind == "person":
        trade = c.trade[0] + "".join(rng.sample(GIVEN, 2))
        return (
            None if f"trade:{pinyin_of(trade)}" in used else english_name(Company("person", trade, "", "", "", ""), rng)
        )
    if rng.random() < 0.5:
        industry = rng.choice([b for b in BUSINESS if b != c.industry])
        if f"west:{c.trade}:{industry}" in used:
            return None
        return english_name(Company("west", c.trade, "", industry, c.extra, c.form), rng)
    trade = western_word(rng)[:3] + c.trade[3:]
    if f"trade:{trade}" in used or OSA.distance(trade.lower(), c.trade.lower()) <= 1:
        return None  # one typo away is a misspelling, labelled a variant, not a near-miss
    return english_name(Company("west", trade, "", c.industry, c.extra, c.form), rng)


def build(entities: int, counterparties: int, seed: int) -> tuple[list[WatchlistEntity], list[tuple[str, str | None]]]:
    rng = random.Random(seed)
    used: set[str] = set()
    companies = [make_company(rng, used, fresh=False) for _ in range(entities)]
    listed = []
    for number, c in enumerate(companies):
        names = listed_names(c, rng)
        schema = "Person" if c.kind == "person" else "Company"
        listed.append(WatchlistEntity(f"e{number}", schema, names[0], names, (), (), {}))
    queries: list[tuple[str, str | None]] = []
    n_variants = n_near = counterparties // 10
    while len(queries) < n_variants:
        number = rng.randrange(entities)
        queries.append((variant(companies[number], listed[number].names, rng), f"e{number}"))
    while len(queries) < n_variants + n_near:
        miss = near_miss(companies[rng.randrange(entities)], rng, used)
        if miss is not None:
            queries.append((miss, None))
    while len(queries) < counterparties:
        c = make_company(rng, used, fresh=True)
        queries.append((listed_names(c, rng)[-1], None))
    rng.shuffle(queries)
    return listed, queries


def _line(label: str, t: Tally) -> str:
    return (
        f"{label:24} {t.pairs:4d} pairs  F1 {t.f1:.3f}  precision {t.precision:.3f}  recall {t.recall:.3f}"
        f"  (tp {t.tp}, fp {t.fp}, fn {t.fn})"
    )


def quality(threshold: float) -> None:
    """F1 on the labelled pairs, overall and by group, at the configured threshold and around it."""
    result = evaluate(PAIRS)
    same = sum(p.match for p in PAIRS)
    print(f"labelled pairs: {len(PAIRS)} ({same} same, {len(PAIRS) - same} different)")
    print(f"threshold {threshold} (rules/defaults.toml [screening])")
    print(_line("all", result.tally(threshold)))
    print(_line("organisations", result.tally(threshold, lambda p: p.schema != "Person")))
    print(_line("persons", result.tally(threshold, lambda p: p.schema == "Person")))
    print("by script:")
    for script, t in result.by(threshold, lambda p: p.script).items():
        print(_line(f"  {script}", t))
    print("by kind of variation (positives: recall; negatives: false hits):")
    for kind, t in result.by(threshold, lambda p: p.kind).items():
        print(_line(f"  {kind}", t))
    missed = [(p, s) for p, s in result.misses(threshold) if p.match and p.kind in UNAMBIGUOUS]
    print(f"unambiguous pairs missed: {len(missed)}")
    for pair, score in missed:
        print(f"  {score:.3f}  {pair.query!r} ~ {pair.listed!r}")
    print("organisations' F1 by threshold:")
    for t in (0.70, 0.75, 0.80, 0.84, 0.88, 0.92, 0.95):
        print(_line(f"  at {t:.2f}", result.tally(t, lambda p: p.schema != "Person")))


def brute_force_seconds(listed: list[WatchlistEntity], names: list[str], sample: int) -> float:
    """Seconds brute-force rapidfuzz would take for all `names`, from a timed sample (same process, same run)."""
    choices = [n for e in listed for n in e.names]
    picked = names[:sample]
    started = time.perf_counter()
    for name in picked:
        process.extractOne(name, choices, scorer=fuzz.token_sort_ratio, processor=str.casefold)
    return (time.perf_counter() - started) * len(names) / len(picked)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the forked screening workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=50_000)
    parser.add_argument("--counterparties", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-sample", type=int, default=300)
    parser.add_argument("--quality-only", action="store_true", help="Only the labelled pairs, no timing.")
    parser.add_argument("--one-core", action="store_true", help="Screen in this process only (no forked workers).")
    args = parser.parse_args()

    threshold = load_config().screening_threshold
    quality(threshold)
    if args.quality_only:
        return
    print()
    listed, queries = build(args.entities, args.counterparties, args.seed)
    names = [q for q, _ in queries]
    builds, screens, cpu = [], [], []  # cpu: CPU seconds of this process and its workers, less disturbed by load
    hits = []
    for _ in range(args.runs):
        normalise.cache_clear()  # every run pays for normalising the names, as a fresh process would
        started, cpu_started = time.perf_counter(), _cpu()
        index = WatchlistIndex(listed, threshold=threshold)
        built = time.perf_counter()
        hits = index.screen_all(names, parallel_min=10**12 if args.one_core else PARALLEL_MIN)
        done = time.perf_counter()
        builds.append(built - started)
        screens.append(done - built)
        cpu.append(_cpu() - cpu_started)

    expected = {q: e for q, e in queries}
    variants = sum(1 for _, e in queries if e is not None)
    found = {(h.query, h.entity_id) for h in hits}
    true_hits = sum(1 for q, e in expected.items() if e is not None and (q, e) in found)
    false_hits = sum(1 for q, e in found if expected.get(q) != e)
    recall = true_hits / sum(1 for e in expected.values() if e is not None)
    precision = true_hits / max(1, true_hits + false_hits)
    build_s, screen_s = statistics.median(builds), statistics.median(screens)
    baseline = brute_force_seconds(listed, names, args.baseline_sample)
    print(f"list: {len(listed)} entities; counterparties: {len(queries)} ({variants} true variants)")
    print(f"index build  median {build_s:7.2f} s  (runs: {', '.join(f'{b:.2f}' for b in builds)})")
    print(f"screening    median {screen_s:7.2f} s  (runs: {', '.join(f'{s:.2f}' for s in screens)})")
    print(f"total        median {statistics.median(b + s for b, s in zip(builds, screens, strict=True)):7.2f} s")
    cores = 1 if args.one_core else _workers(len(set(names)), PARALLEL_MIN)
    print(f"CPU time     median {statistics.median(cpu):7.2f} s  (build and screening, on {cores} core(s))")
    print(f"throughput   {len(names) / screen_s:,.0f} counterparties/s")
    total = statistics.median(b + s for b, s in zip(builds, screens, strict=True))
    print(
        f"baseline     {baseline:7.1f} s  brute-force rapidfuzz token-sort over the whole list "
        f"(timed on {args.baseline_sample} names, extrapolated); index/baseline ratio {total / baseline:.4f}"
    )
    print(
        f"generated workload: recall {recall:.4f}  precision {precision:.4f}  ({true_hits} true hits, "
        f"{false_hits} false hits) -- the generator's own variants, a check that nothing broke, not quality"
    )


if __name__ == "__main__":
    main()
