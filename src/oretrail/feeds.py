"""The six feeds of SPEC.md §1, each behind one shape: read a source, record it, project it, judge what it
touched, and report.

The CLI's `load` commands, the HTTP capture routes, `load_dataset`, rebuild and the simulator all loop over
`FEEDS`: a new feed, or a change in how one is judged, is made here once. Every load validates its whole
source before it writes (a refused file leaves nothing), then judges in the same way as every other entry
point (`alerts/judge.py`): the licences and declarations a file changed, the rules that read a whole-list
feed (registry, partner statistics, watch list) over everything, and for events what each group of
documents touched.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from oretrail.alerts.judge import Judged
from oretrail.rules.config import Settings


@dataclass
class FeedReport:
    """What one load did: the feed's own counts, what judging it did, and per-item notes (per-event outcomes,
    skipped rows) when the feed keeps them."""

    feed: str
    source: str
    counts: dict[str, Any] = field(default_factory=dict)
    alerts_new: int = 0
    withdrawn: int = 0
    settled: int = 0
    notes: list[dict[str, Any]] = field(default_factory=list)

    def judged(self, judged: Judged) -> FeedReport:
        self.alerts_new += len(judged.new)
        self.withdrawn += judged.withdrawn
        self.settled += judged.settled
        return self


Progress = Callable[[int, int, dict[str, Any]], None]  # (done, total, running counts)


@dataclass(frozen=True)
class Feed:
    name: str  # `oretrail load NAME`, `POST /feeds/NAME`
    source: str  # its file (or folder) in a dataset folder, as `oretrail simulate` writes it
    summary: str  # one line for help texts
    # `settings` None records and projects without judging (benchmarks of capture alone, rebuild-like loads).
    load: Callable[[Engine, Sequence[Path], Settings | None, Progress | None], FeedReport]
    read_bytes: Callable[[Engine, bytes, str, Settings | None], FeedReport]  # one document or file over HTTP


def _counts(result: Any) -> dict[str, Any]:
    if is_dataclass(result) and not isinstance(result, type):
        return {k: v for k, v in asdict(result).items() if k != "keys"}
    return dict(result)


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _single(paths: Sequence[Path], feed: str) -> Path:
    if len(paths) != 1:
        raise ValueError(f"the {feed} feed reads one file, got {len(paths)}")
    return paths[0]


# --- events -------------------------------------------------------------------------------------------
def _events(engine: Engine, paths: Sequence[Path], settings: Settings | None, progress: Progress | None) -> FeedReport:
    from oretrail.pipeline import Capture, CaptureReport, document_paths

    files = document_paths(paths)
    capture = Capture(engine, settings)
    total = CaptureReport()
    report = FeedReport("events", ", ".join(map(str, paths)))
    for done, one in enumerate(capture.documents(files), 1):
        total.add(one)
        report.notes.extend({"document": str(e.document), "error": str(e)} for e in one.errors)
        if progress is not None:
            progress(done, len(files), _counts(total))
    report.counts = {k: v for k, v in _counts(total).items() if k not in ("errors", "alerts_new")}
    report.counts["refused_documents"] = len(total.errors)
    return report.judged(capture.judged)


def _events_bytes(engine: Engine, data: bytes, name: str, settings: Settings | None) -> FeedReport:
    from oretrail.pipeline import Capture

    capture = Capture(engine, settings)
    one = capture.document(data, name)
    counts = {k: v for k, v in _counts(one).items() if k not in ("errors", "alerts_new")}
    return FeedReport("events", name, counts).judged(capture.judged)


# --- registry, licences, declarations, mirror, watch list ---------------------------------------------
def _whole_list(name: str, loader: Callable[[Engine, list[bytes], str], Any]) -> tuple[Any, Any]:
    """A feed whose load is followed by judging the rules that read it, over everything."""

    def from_bytes(engine: Engine, data: bytes, source: str, settings: Settings | None) -> FeedReport:
        from oretrail.pipeline import rejudge

        report = FeedReport(name, source, _counts(loader(engine, data.splitlines(), source)))
        return report if settings is None else report.judged(rejudge(engine, name, settings))

    def from_paths(engine: Engine, paths: Sequence[Path], settings: Settings | None, _: Progress | None) -> FeedReport:
        path = _single(paths, name)
        return from_bytes(engine, path.read_bytes(), str(path), settings)

    return from_paths, from_bytes


def _trade(kind: str) -> tuple[Any, Any]:
    """Licences or declarations: the numbers a file changed are judged in its own transaction."""

    def from_bytes(engine: Engine, data: bytes, source: str, settings: Settings | None) -> FeedReport:
        from oretrail.pipeline import load_trade

        counts = load_trade(engine, kind, data.splitlines(), source, settings)
        judged = {k: counts.pop(k) for k in ("alerts_new", "withdrawn", "settled")}
        return FeedReport(kind, source, counts, **judged)

    def from_paths(engine: Engine, paths: Sequence[Path], settings: Settings | None, _: Progress | None) -> FeedReport:
        path = _single(paths, kind)
        return from_bytes(engine, path.read_bytes(), str(path), settings)

    return from_paths, from_bytes


def _registry_loader(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.registry.store import load_registry

    return load_registry(engine, lines, name)


def _mirror_loader(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.mirror.store import load_mirror

    return load_mirror(engine, [ln.decode("utf-8", errors="replace") for ln in lines], name)


def _watchlist_loader(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.screening.store import load_watchlist

    return load_watchlist(engine, lines, name)


FEEDS: tuple[Feed, ...] = (
    Feed("registry", "registry.jsonl", "Enterprises and facilities, JSON Lines (provincial commerce departments).",
         *_whole_list("registry", _registry_loader)),
    Feed("events", "events", "EPCIS 2.0 JSON/JSON-LD documents, or folders of them (every enterprise).",
         _events, _events_bytes),
    Feed("licences", "licences.jsonl", "Export licences, JSON Lines (Ministry of Commerce).", *_trade("licences")),
    Feed("declarations", "declarations.jsonl", "Customs export declarations, JSON Lines (customs).",
         *_trade("declarations")),
    Feed("mirror", "mirror.csv", "Partners' imports from China, UN Comtrade CSV (as published).",
         *_whole_list("mirror", _mirror_loader)),
    Feed("watchlist", "watchlist.jsonl", "FollowTheMoney entities, JSON Lines (as OpenSanctions publishes).",
         *_whole_list("watchlist", _watchlist_loader)),
)  # fmt: skip
BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}
