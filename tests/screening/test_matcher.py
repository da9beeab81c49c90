from __future__ import annotations

import pytest

from oretrail.screening.entities import WatchlistEntity
from oretrail.screening.matcher import DEFAULT_THRESHOLD, WatchlistIndex, blocking_keys

from .labelled import LISTED, NEGATIVE, POSITIVE


def _entity(entity_id: str, names: tuple[str, ...], weak: tuple[str, ...] = ()) -> WatchlistEntity:
    return WatchlistEntity(entity_id, "Company", names[0], names, weak, (), {})


@pytest.fixture(scope="module")
def index() -> WatchlistIndex:
    entities = [_entity(i, names) for i, names in LISTED.items() if i != "e-sinoquart"]
    # The short "SQ Elec Trading" is published as a weak alias, as OpenSanctions does for such names.
    entities.append(_entity("e-sinoquart", LISTED["e-sinoquart"][:1], LISTED["e-sinoquart"][1:]))
    return WatchlistIndex(entities)


def _hit_ids(index: WatchlistIndex, query: str) -> set[str]:
    return {hit.entity_id for hit in index.screen(query)}


@pytest.mark.parametrize(("query", "entity_id"), POSITIVE)
def test_variant_matches(index: WatchlistIndex, query: str, entity_id: str) -> None:
    assert entity_id in _hit_ids(index, query)


@pytest.mark.parametrize(("query", "entity_id"), NEGATIVE)
def test_near_miss_does_not_match(index: WatchlistIndex, query: str, entity_id: str) -> None:
    assert entity_id not in _hit_ids(index, query)


def test_recall_and_precision_on_labelled_set(index: WatchlistIndex) -> None:
    assert len(POSITIVE) >= 40 and len(NEGATIVE) >= 40
    true_hits = false_hits = 0
    for query, entity_id in POSITIVE:
        ids = _hit_ids(index, query)
        true_hits += entity_id in ids
        false_hits += len(ids - {entity_id})
    for query, _ in NEGATIVE:
        false_hits += len(_hit_ids(index, query))
    recall = true_hits / len(POSITIVE)
    precision = true_hits / (true_hits + false_hits)
    print(f"labelled set: recall {recall:.3f}, precision {precision:.3f} at threshold {DEFAULT_THRESHOLD}")
    assert recall >= 0.95
    assert precision >= 0.95


def test_hit_carries_score_and_matched_name(index: WatchlistIndex) -> None:
    (hit,) = index.screen("Xinxing Rare Earth (Beijing) Co., Ltd.")
    assert hit.entity_id == "e-xinxing"
    assert hit.query == "Xinxing Rare Earth (Beijing) Co., Ltd."
    assert hit.matched_name in LISTED["e-xinxing"]
    assert 0.0 <= hit.score <= 1.0


def test_threshold_is_configurable() -> None:
    entities = [_entity("e-kastrix", LISTED["e-kastrix"])]
    lenient, strict = WatchlistIndex(entities, threshold=0.5), WatchlistIndex(entities, threshold=0.99)
    query = "Kastrix Semiconductor Trading"
    assert lenient.screen(query) and not strict.screen(query)


def test_shared_generic_words_weigh_little_however_common_in_list() -> None:
    # A list full of distinct "... International Trading" houses must not hit an unrelated one.
    names = [f"{trade} International Trading LLC" for trade in ("Velmora", "Solvera", "Brisk", "Dunmore")]
    index = WatchlistIndex(_entity(str(i), (n,)) for i, n in enumerate(names))
    assert index.screen("Harrowgate International Trading LLC") == []


def test_pinyin_spacing_meets_in_blocking_keys() -> None:
    assert blocking_keys(("zhongguo",)) & blocking_keys(("zhong", "guo"))


def test_screen_all_screens_each_distinct_name_once(index: WatchlistIndex) -> None:
    hits = index.screen_all(["Apex Materials", "Apex Materials", "Unrelated Plumbing Supplies"])
    assert [hit.entity_id for hit in hits] == ["e-apex"]


def test_spelled_out_russian_legal_forms_fold_like_their_abbreviations() -> None:
    from oretrail.screening.names import normalise

    short = {f.tokens for f in normalise("Minsk Optoelektron OJSC")}
    for long in ("Minsk Optoelektron Open Joint-Stock Company", "Minsk Optoelektron Public Joint Stock Company"):
        assert {f.tokens for f in normalise(long)} == short


PARALLEL_CHECK = """
import os, sys
from oretrail.screening.entities import WatchlistEntity
from oretrail.screening.matcher import WatchlistIndex, _workers

listed = [WatchlistEntity(f"e{i}", "Company", n, (n,), (), (), {}) for i, n in enumerate(
    ["Apex Materials Trading Co., Ltd.", "Zarkon Heavy Industries", "Nordlicht Metall GmbH",
     "Ganzhou Xinhua Tungsten Co., Ltd.", "ООО «Тяжхимметалл»"])]
index = WatchlistIndex(listed)
names = ["APEX MATERIALS TRADING CO LTD", "Zarkon Heavy Industry", "Nordlicht Metal GmbH", "Tyazhkhimmetall LLC",
         "Unrelated Plumbing Supplies", "赣州新华钨业有限公司"] * 7 + [f"Other Company {i}" for i in range(50)]
assert _workers(len(set(names)), 1) > 1, "no second core, or a thread already running"
serial = index.screen_all(names, parallel_min=10**9)
forked = index.screen_all(names, parallel_min=1)
assert forked == serial and len(serial) >= 4, (forked, serial)
print(len(serial))
"""


def test_a_large_batch_split_over_the_cores_gives_the_same_hits_in_the_same_order() -> None:
    """Run in a fresh single-threaded interpreter: the test runner may hold threads, which keep screening in
    one process (forking a threaded process can inherit a held lock)."""
    import os
    import subprocess
    import sys

    if len(os.sched_getaffinity(0)) < 2:
        pytest.fail("this machine has one core: the parallel path cannot be exercised")
    done = subprocess.run([sys.executable, "-c", PARALLEL_CHECK], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 4
