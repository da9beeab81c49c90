"""The six feeds of SPEC.md §1 and the two of supervision (monthly reports, supervision records), each behind
one shape: read a source, record it, project it, judge what it touched, report, and replay its ledger
records on rebuild.

The CLI's `load` commands, the HTTP capture routes, `load_dataset`, `rebuild` and the simulator all loop over
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

from sqlalchemy import Connection, Engine, delete

from oretrail.alerts.judge import Judged, judge
from oretrail.chain.projector import Projector, clear_projections
from oretrail.errors import IntakeError
from oretrail.i18n.message import Message
from oretrail.intake.epcis import CapturedEvent
from oretrail.ledger.store import Record, records
from oretrail.pipeline import (
    EVENT,
    Capture,
    CaptureReport,
    document_paths,
    element_map,
    event_from_record,
    load_trade,
    rejudge,
)
from oretrail.rules.config import Settings
from oretrail.storage.schema import declarations, enterprises, facilities, licences


@dataclass
class FeedReport:
    """What one load did: the feed's own counts, what judging it did, and what a reader must see besides."""

    feed: str
    source: str
    counts: dict[str, Any] = field(default_factory=dict)
    alerts_new: int = 0
    withdrawn: int = 0
    settled: int = 0
    # Per item, what became of it, for feeds that report per item (events: one row per event); a machine
    # format writes these instead of the one summary record.
    rows: list[dict[str, Any]] | None = None
    refused: list[IntakeError] = field(default_factory=list)  # documents refused while the others landed
    remarks: list[str] = field(default_factory=list)  # lines a person should read (rows skipped, and why)

    def judged(self, judged: Judged) -> FeedReport:
        self.alerts_new += len(judged.new)
        self.withdrawn += judged.withdrawn
        self.settled += judged.settled
        return self

    def record(self) -> dict[str, Any]:
        return {
            "file": self.source,
            **self.counts,
            "alerts_new": self.alerts_new,
            "withdrawn": self.withdrawn,
            "settled": self.settled,
        }

    def words(self, lang: str = "en") -> str:
        """What a load did, for the person who ran it: the counts, the alerts, and the remarks."""
        counts = [
            COUNT.render(lang, n=f"{v:,}", name=COUNTS[k].render(lang) if k in COUNTS else k.replace("_", " "))
            for k, v in self.counts.items()
            if isinstance(v, int)
        ]
        head = LOADED.render(lang, feed=self.feed, counts=counts, new=f"{self.alerts_new:,}",
                             withdrawn=f"{self.withdrawn:,}", settled=f"{self.settled:,}")  # fmt: skip
        return "\n".join([head, *(f"{self.feed}: {line}" for line in self.remarks)])


LOADED = Message("load.summary", "{feed}: {counts:list}; alerts: {new} new, {withdrawn} withdrawn, {settled} settled")
COUNT = Message("load.count", "{n} {name}")
# The names of the counts a load reports (a count not named here is shown by its key).
COUNTS = {
    key: Message(f"load.count.{key}", key.replace("_", " "))
    for key in (
        "documents", "events", "new", "unchanged", "corrections", "refused_documents", "enterprises", "facilities",
        "licences", "declarations", "rows", "entities", "records", "reports", "skipped", "added", "updated",
        "removed", "inspections", "trainings", "closures", "lines", "changed", "periods_replaced",
    )
}  # fmt: skip
Progress = Callable[[int, int, dict[str, Any]], None]  # (done, total, running counts)
RecordProjector = Callable[[Connection, list[Record]], None]


@dataclass(frozen=True)
class Replay:
    """How rebuild restores a feed's tables from the ledger: which record kinds it wrote, the projector that
    reads them back (built once per rebuild), and what to clear first."""

    kinds: tuple[str, ...]
    projector: Callable[[], RecordProjector]
    clear: Callable[[Connection], None]


@dataclass(frozen=True)
class Feed:
    name: str  # `oretrail load NAME`, `POST /capture/NAME`
    source: str  # its file (or folder) in a dataset folder, as `oretrail simulate` writes it
    summary: str  # one line for help texts
    many: bool  # whether one load takes several files and folders (EPCIS documents) or exactly one file
    # `settings` None records and projects without judging (benchmarks of capture alone).
    load: Callable[[Engine, Sequence[Path], Settings | None, Progress | None], FeedReport]
    read_bytes: Callable[[Engine, bytes, str, Settings | None], FeedReport]  # one document or file over HTTP
    # None for the reference lists (partner statistics, the watch list): each load replaces a version
    # outright and is not a ledger record, so there is nothing to replay.
    replay: Replay | None


def _counts(result: Any) -> dict[str, Any]:
    if is_dataclass(result) and not isinstance(result, type):
        return {k: v for k, v in asdict(result).items() if k not in ("keys", "skipped")}
    return dict(result)


UNREADABLE = Message("intake.unreadable", "the file cannot be read: {error}")
ONE_FILE = Message("intake.one_file", "this feed reads exactly one file")


def read_file(path: Path) -> bytes:
    """A feed file's bytes; a file that cannot be read is refused like any other input, naming the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IntakeError(str(path), None, None, UNREADABLE(error=exc.strerror or str(exc)), unit="line") from None


def _one_file(read: Callable[[Engine, bytes, str, Settings | None], FeedReport]) -> Any:
    def load(engine: Engine, paths: Sequence[Path], settings: Settings | None, _: Progress | None) -> FeedReport:
        if len(paths) != 1:
            raise IntakeError(", ".join(map(str, paths)) or "(none)", None, None, ONE_FILE())
        return read(engine, read_file(paths[0]), str(paths[0]), settings)

    return load


# --- events -------------------------------------------------------------------------------------------
_EVENT_COUNTS = ("documents", "events", "new", "unchanged", "corrections")


def _capture_report(name: str, capture: Capture, total: CaptureReport) -> FeedReport:
    report = FeedReport("events", name, {k: getattr(total, k) for k in _EVENT_COUNTS})
    report.counts["refused_documents"] = len(total.errors)
    report.rows = [o.row() for o in total.outcomes]
    report.refused = list(total.errors)
    return report.judged(capture.judged)


def _events(engine: Engine, paths: Sequence[Path], settings: Settings | None, progress: Progress | None) -> FeedReport:
    files = document_paths(paths)
    capture = Capture(engine, settings)
    total = CaptureReport()
    for done, one in enumerate(capture.documents(files), 1):
        total.add(one)
        if progress is not None:
            progress(done, len(files), {"new": total.new, "alerts_new": total.alerts_new})
    return _capture_report(", ".join(map(str, paths)), capture, total)


def _events_bytes(engine: Engine, data: bytes, name: str, settings: Settings | None) -> FeedReport:
    """One document; refused whole with IntakeError (an HTTP client gets the refusal as its answer)."""
    capture = Capture(engine, settings)
    return _capture_report(name, capture, capture.document(data, name))


def read_events(engine: Engine, captured: list[CapturedEvent], name: str, settings: Settings | None) -> FeedReport:
    """The events of one document already read (`intake.epcis.read_document`), stored and judged as
    `read_bytes` would; raises IntakeError when one is stored with other content, and nothing is stored."""
    capture = Capture(engine, settings)
    return _capture_report(name, capture, capture.read(captured, name))


def _event_projector() -> RecordProjector:
    elements = element_map()

    def project(conn: Connection, recs: list[Record]) -> None:
        Projector(conn, elements).apply((r.seq, event_from_record(r.body, f"ledger record {r.seq}")) for r in recs)

    return project


# --- registry, licences, declarations, mirror, watch list ---------------------------------------------
def _whole_list(name: str, loader: Callable[[Engine, list[bytes], str], Any]) -> Any:
    """A feed whose load is followed by judging the rules that read it, over everything."""

    def read(engine: Engine, data: bytes, source: str, settings: Settings | None) -> FeedReport:
        loaded = loader(engine, data.splitlines(), source)
        report = FeedReport(name, source, _counts(loaded))
        if hasattr(loaded, "skip_report"):  # partner statistics: rows the mirror rules do not read, and why
            report.counts["skipped"] = sum(loaded.skipped.values())
            report.remarks = loaded.skip_report()
        return report if settings is None else report.judged(rejudge(engine, name, settings))

    return read


def _trade(kind: str) -> Any:
    """Licences or declarations: the numbers a file changed are judged in its own transaction."""

    def read(engine: Engine, data: bytes, source: str, settings: Settings | None) -> FeedReport:
        counts = load_trade(engine, kind, data.splitlines(), source, settings)
        return FeedReport(
            kind,
            source,
            counts,
            alerts_new=counts.pop("alerts_new"),
            withdrawn=counts.pop("withdrawn"),
            settled=counts.pop("settled"),
        )

    return read


def _registry(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.registry.store import load_registry

    return load_registry(engine, lines, name)


def _mirror(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.mirror.store import load_mirror

    return load_mirror(engine, [ln.decode("utf-8", errors="replace") for ln in lines], name)


def _watchlist(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.screening.store import load_watchlist

    return load_watchlist(engine, lines, name)


def _supervision(engine: Engine, lines: list[bytes], name: str, settings: Settings | None = None) -> Any:
    from oretrail.supervision.store import load_supervision

    return load_supervision(engine, lines, name, settings.config.action_days if settings else 90)


def _reports(engine: Engine, lines: list[bytes], name: str) -> Any:
    from oretrail.supervision.store import load_reports

    return load_reports(engine, lines, name)


def _supervision_read(engine: Engine, data: bytes, source: str, settings: Settings | None) -> FeedReport:
    """Supervision records: the default deadline of corrective actions comes from the settings."""
    report = FeedReport("supervision", source, _counts(_supervision(engine, data.splitlines(), source, settings)))
    return report if settings is None else report.judged(rejudge(engine, "supervision", settings))


def _supervision_projector() -> RecordProjector:
    from oretrail.supervision.store import project_supervision

    return project_supervision


def _reports_projector() -> RecordProjector:
    from oretrail.supervision.store import project_reports

    return project_reports


def _clear_supervision(conn: Connection) -> None:
    from oretrail.supervision.store import clear_supervision

    clear_supervision(conn)


def _clear_reports(conn: Connection) -> None:
    from oretrail.supervision.store import clear_reports

    clear_reports(conn)


def _registry_projector() -> RecordProjector:
    from oretrail.registry.store import project_registry

    return project_registry


def _trade_projector() -> RecordProjector:
    from oretrail.trade.store import project_trade

    return project_trade


def _clear(*tables: Any) -> Callable[[Connection], None]:
    def clear(conn: Connection) -> None:
        for table in tables:
            conn.execute(delete(table))

    return clear


def _feed(name: str, source: str, summary: str, read: Any, replay: Replay | None) -> Feed:
    return Feed(name, source, summary, False, _one_file(read), read, replay)


FEEDS: tuple[Feed, ...] = (
    _feed("registry", "registry.jsonl", "Enterprises and facilities, JSON Lines (provincial commerce departments).",
          _whole_list("registry", _registry),
          Replay(("enterprise", "facility"), _registry_projector, _clear(enterprises, facilities))),
    Feed("events", "events", "EPCIS 2.0 JSON/JSON-LD documents, or folders of them (every enterprise).", True,
         _events, _events_bytes, Replay((EVENT,), _event_projector, clear_projections)),
    _feed("licences", "licences.jsonl", "Export licences, JSON Lines (Ministry of Commerce).", _trade("licences"),
          Replay(("licence",), _trade_projector, _clear(licences))),
    _feed("declarations", "declarations.jsonl", "Customs export declarations, JSON Lines (customs).",
          _trade("declarations"), Replay(("declaration",), _trade_projector, _clear(declarations))),
    _feed("mirror", "mirror.csv", "Partners' imports from China, UN Comtrade CSV (as published).",
          _whole_list("mirror", _mirror), None),
    _feed("watchlist", "watchlist.jsonl", "FollowTheMoney entities, JSON Lines (as OpenSanctions publishes).",
          _whole_list("watchlist", _watchlist), None),
    _feed("reports", "reports.jsonl", "Monthly reports of controlled flows, JSON Lines (enterprises, by the 10th).",
          _whole_list("reports", _reports),
          Replay(("report",), _reports_projector, _clear_reports)),
    _feed("supervision", "supervision.jsonl",
          "Reviews, inspections, closures of corrective actions, trainings, JSON Lines (inspectorates).",
          _supervision_read, Replay(("review", "inspection", "closure", "training"), _supervision_projector,
                                    _clear_supervision)),
)  # fmt: skip
BY_NAME: dict[str, Feed] = {f.name: f for f in FEEDS}
OPTIONAL = ("reports", "supervision")  # datasets written before supervision existed have neither file


def load_dataset(
    engine: Engine, root: Path, settings: Settings | None, *, on_document: Progress | None = None
) -> dict[str, FeedReport]:
    """Every feed of a dataset folder (the layout `oretrail simulate` writes), in the order a national load
    runs: registry, events, licences, declarations, partner statistics, watch list, monthly reports,
    supervision records (a dataset without the last two, written before they existed, loads without them).
    `settings` None loads
    without judging. `on_document(done, total, running counts)` reports progress after each EPCIS document."""
    return {
        feed.name: feed.load(engine, [root / feed.source], settings, on_document)
        for feed in FEEDS
        if feed.name not in OPTIONAL or (root / feed.source).exists()
    }


def rebuild_all(engine: Engine, settings: Settings | None = None, batch: int = 2000) -> dict[str, int]:
    """Clear every feed's projections and replay the whole ledger in sequence order, in one transaction;
    with `settings`, then judge everything on the rebuilt state in the same transaction (alerts are not a
    projection: their workflow log stays, and what no longer holds is withdrawn)."""
    replays = [f.replay for f in FEEDS if f.replay is not None]
    projectors: dict[str, RecordProjector] = {}
    for replay in replays:
        projector = replay.projector()
        projectors.update(dict.fromkeys(replay.kinds, projector))
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        for replay in replays:
            replay.clear(conn)
        chunk: list[Record] = []

        def flush() -> None:
            projectors[chunk[0].kind](conn, chunk)
            counts[chunk[0].kind] = counts.get(chunk[0].kind, 0) + len(chunk)
            chunk.clear()

        for rec in records(conn):
            if rec.kind not in projectors:
                raise ValueError(f"ledger record {rec.seq} has kind {rec.kind!r}, which no feed replays")
            if chunk and (chunk[0].kind != rec.kind or len(chunk) >= batch):
                flush()
            chunk.append(rec)
        if chunk:
            flush()
        if settings is not None:
            counts["alerts_new"] = len(judge(conn, None, settings).new)
    return counts
