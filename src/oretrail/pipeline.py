"""The data's way through the system, composed: intake → ledger → chain → rules → alerts.

Each document (or feed file) lands whole or not at all, and the alerts its evidence raises are written in
the same transaction, so an alert appears the moment its evidence lands and a crash can never leave
evidence without its alerts or the other way round. Documents captured together share a transaction per
group (`Capture.documents`); a refused one leaves nothing behind.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, select

from oretrail.alerts.judge import Judged, judge
from oretrail.catalogue import load_catalogue
from oretrail.chain.projector import Projector, Touched
from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.intake.epcis import CapturedEvent, read_document
from oretrail.ledger.canonical import canonical
from oretrail.ledger.notary import Notary
from oretrail.ledger.store import LedgerWriter, Pending
from oretrail.model import READINGS, ChainEvent
from oretrail.rules.config import Settings
from oretrail.rules.runner import RULES
from oretrail.rules.scope import Scope
from oretrail.storage.engine import SCAN_WORKERS
from oretrail.storage.schema import events, ledger

EVENT = "event"
# Events per commit when many documents are captured together (about 30 documents of the simulator's
# size). Measured at 390,000 events: 3,105 events/s with groups of 5,000, 3,341 with 20,000.
GROUP_EVENTS = 20_000
# A timestamp no stored event can be "in the future" of: replaying the ledger must never re-judge time.
_REPLAY_NOW = datetime(9999, 1, 1)


STORED = "stored"
UNCHANGED = "unchanged"
CORRECTION = "correction"
OFF_PROFILE = "off_profile"
REFUSED = "refused"


class EventOutcome(NamedTuple):
    """What became of one event of a document (OpenEPCIS capture jobs report the same, per event).

    `stored`: new, on profile; `off_profile`: new, stored and read for what it does (`read_as`), with its
    `departures` from the stage profile; `unchanged`: already on record as sent; `correction`: an errorDeclaration,
    stored; `refused`: the document was refused because of this event (`position` None: of the document as a
    whole), with the `field` and the `reason`, and none of its events was stored. Events repeated inside a
    document with identical content are reported once, as their first copy.
    """

    document: str
    position: int | None  # index in the document's eventList
    event_id: str | None
    outcome: str
    departures: tuple[tuple[str, Said], ...] = ()
    read_as: str | None = None
    field: str | None = None
    reason: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "index": self.position,
            "event_id": self.event_id,
            "outcome": self.outcome,
            "departures": [[where, why.to_json()] for where, why in self.departures] or None,
            "read_as": self.read_as,
            "field": self.field,
            "reason": self.reason,
        }


def worded(rows: list[dict[str, Any]] | None, lang: str) -> list[dict[str, Any]] | None:
    """Outcome rows as a reader sees them: each departure's reason, kept as a message with the rows (stored
    with a capture job or an upload and read later, by whoever may), put in the reader's language. A reason
    kept as text by an older version is shown as it was written."""
    if rows is None:
        return None
    return [
        {**r, "departures": [[w, Said.from_json(y).render(lang) if isinstance(y, dict) else y] for w, y in deps]}
        if (deps := r.get("departures"))
        else r
        for r in rows
    ]


@dataclass
class CaptureReport:
    documents: int = 0
    events: int = 0
    new: int = 0
    unchanged: int = 0
    corrections: int = 0
    alerts_new: int = 0  # raised by the judgement of the group this document closed (0 for the others)
    errors: list[IntakeError] = field(default_factory=list)
    landed: list[EventOutcome] = field(default_factory=list)  # events of documents that were stored

    def add(self, other: CaptureReport) -> None:
        for name in ("documents", "events", "new", "unchanged", "corrections", "alerts_new"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)
        self.landed.extend(other.landed)

    @property
    def outcomes(self) -> list[EventOutcome]:
        """Per event, what became of it: the stored documents' events, then the refusals."""
        refused = [
            EventOutcome(e.document, e.index, None, REFUSED, field=e.field, reason=e.reason) for e in self.errors
        ]
        return [*self.landed, *refused]


def element_map() -> dict[str, str]:
    return {code: m.element for code, m in load_catalogue().materials.items()}


def event_from_record(body: bytes, name: str) -> ChainEvent:
    """Re-read one stored event (for rebuild) through the same intake code that first read it."""
    obj = orjson.loads(body)
    doc = {
        "@context": obj.get("@context", []),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2000-01-01T00:00:00Z",
        "epcisBody": {"eventList": [{k: v for k, v in obj.items() if k != "@context"}]},
    }
    return read_document(orjson.dumps(doc), name, now=_REPLAY_NOW)[0].chain


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off while one document is read or stored, as `Capture.documents` does for a
    group: a document allocates hundreds of thousands of short-lived objects, and the collections they set
    off traverse the whole heap again and again (in a server, a large one). It comes back on after (only
    where this call turned it off), and its next collection sees them once."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class Capture:
    """Captures EPCIS documents into one database; reusable across many documents."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        signing_key: Ed25519PrivateKey | None = None,
        notary: Notary | None = None,
    ) -> None:
        """`settings`: judge what each document or group touched with them (early warning); None captures
        without judging (benchmarks of capture alone, rebuild). The key that seals each commit is the
        database's (`Notary.open`) unless a notary or a key is given."""
        self.engine = engine
        self.settings = settings
        if notary is None:
            notary = Notary.with_key(engine, signing_key) if signing_key else Notary.open(engine)
        self.notary = notary
        self.elements = element_map()
        self.judged = Judged()  # everything this capture's judgements did, summed

    def document(self, data: bytes, name: str, now: datetime | None = None) -> CaptureReport:
        """One document, one transaction. Raises IntakeError; nothing of a rejected document is stored."""
        return self.read(read_document(data, name, now=now), name)

    def read(self, captured: list[CapturedEvent], name: str) -> CaptureReport:
        """The events of one document as `read_document` gave them, in one transaction: a caller that has read
        the document already (an HTTP capture job checks it first) does not read it again. Raises IntakeError
        (an event stored with other content); nothing is stored then.

        The cycle collector is paused meanwhile (`collector_paused`)."""
        report = CaptureReport(documents=1, events=len(captured))
        with collector_paused(), self.engine.begin() as conn:
            touched = self._land(conn, captured, name, report)
            report.alerts_new = self._judge(conn, touched, settle=True)
            self.notary.seal(conn)
        self.notary.witness(self.engine)
        return report

    def documents(
        self, items: Iterable[Path | tuple[bytes, str]], group_events: int = GROUP_EVENTS
    ) -> Iterator[CaptureReport]:
        """Many documents (files, or bytes with a name), committed together in groups of about `group_events`
        events.

        Each commit writes every database page the transaction dirtied; on a large database most index keys
        are random, so one commit per document rewrites thousands of pages that the next document dirties
        again. A group commits them once. Each document still lands whole or not at all: everything that can
        refuse a document (validation, a rewrite of a stored event) is decided before it writes anything, and
        its report carries the refusal. A report is yielded only once its group is committed, so whatever
        the caller acknowledges is stored; an unexpected failure rolls the open group back and is raised.

        Python's cycle collector is paused while a group is captured and run once after it, over the objects
        made during the group: a document allocates hundreds of thousands of short-lived objects, and the
        automatic collections they set off traverse the whole heap again and again (measured: a fifth of
        capture time). Capture creates few reference cycles, so collecting once per group keeps memory flat;
        what outlives a group is frozen, so later collections do not traverse it again.
        """
        reports: list[CaptureReport] = []
        events = 0
        touched = Touched()
        conn: Connection | None = None
        collecting = gc.isenabled()
        gc.disable()
        gc.freeze()  # what exists already (modules, caches, the catalogue) is not traversed again
        try:
            for item in items:
                report = CaptureReport(documents=1)
                reports.append(report)
                try:
                    data, name = (read_bounded(item), str(item)) if isinstance(item, Path) else item
                    captured = read_document(data, name)
                    report.events = len(captured)
                    conn = conn or self.engine.connect()  # begins a transaction at its first statement
                    touched.update(self._land(conn, captured, name, report))
                except IntakeError as exc:
                    report.errors.append(exc)
                    continue
                events += report.events
                if events >= group_events:
                    report.alerts_new = self._judge(conn, touched, settle=False)
                    touched = Touched()
                    self.notary.seal(conn)
                    conn.commit()
                    self.notary.witness(self.engine)
                    if collecting:
                        gc.collect()
                        gc.freeze()  # what outlived the group (caches, mostly) is not traversed again
                    yield from reports
                    reports, events = [], 0
            if conn is not None:
                # The load's last judgement settles what is due: nothing settles on evidence that the same
                # load was still bringing.
                closing = reports[-1] if reports else CaptureReport()
                closing.alerts_new = self._judge(conn, touched, settle=True)
                self.notary.seal(conn)
                conn.commit()
                self.notary.witness(self.engine)
            yield from reports
        finally:
            if conn is not None:
                conn.close()  # rolls back a group left open by an exception
            gc.unfreeze()
            if collecting:
                gc.enable()

    def _land(self, conn: Connection, captured: list[CapturedEvent], name: str, report: CaptureReport) -> Touched:
        """Ledger and projections for one read document; returns what it touched. Refusals are raised before
        any write."""
        writer = LedgerWriter(conn)
        pending, chains, outcomes = self._triage(conn, writer, captured, name)
        for o in outcomes:
            if o.outcome == UNCHANGED:
                report.unchanged += 1
            elif o.outcome == CORRECTION:
                report.corrections += 1
            else:
                report.new += 1
        report.landed.extend(outcomes)
        stored = writer.append(pending)
        projector = Projector(conn, self.elements, track=self.settings is not None)
        return projector.apply(zip((r.seq for r in stored), chains, strict=True))

    def _judge(self, conn: Connection, touched: Touched, *, settle: bool) -> int:
        """Early warning for what a document or group touched, in the transaction that stores it."""
        if self.settings is None:
            return 0
        judged = judge(conn, Scope.of(touched), self.settings, settle=settle)
        self.judged.add(judged)
        return len(judged.new)

    def _triage(
        self,
        conn: Connection,
        writer: LedgerWriter,
        captured: list[CapturedEvent],
        name: str,
    ) -> tuple[list[Pending], list[ChainEvent], list[EventOutcome]]:
        """New events and corrections go on; identical re-sends are no-ops; silent rewrites are refused.

        An event whose errorDeclaration is already on record is evidence like any other: it is stored the first
        time it arrives (it may well arrive after its correction; the projections keep it retracted), and
        counted unchanged when sent again. Sent with other content than the declaration says it had, it is a
        rewrite, and refused.
        """
        pending: list[Pending] = []
        chains: list[ChainEvent] = []
        outcomes: list[EventOutcome] = []
        items = [(c, Pending.of(EVENT, c.event_id, c.body)) for c in captured]
        stored = writer.latest_digests(events.c.event_id, [c.event_id for c in captured])
        changed = [c.event_id for c, p in items if c.event_id in stored and stored[c.event_id] != p.digest]
        retracted = _retracted(conn, changed)
        for c, p in items:
            old = stored.get(c.event_id)
            if old == p.digest or (c.event_id in retracted and retracted[c.event_id].original == p.digest):
                outcomes.append(EventOutcome(name, c.position, c.event_id, UNCHANGED))
                continue
            if old is not None and c.chain.error_declaration is None:
                late = retracted.get(c.event_id)
                if late is None or late.original is not None or not _declared(late.declaration, p.body):
                    raise IntakeError(
                        document=name,
                        index=c.position,
                        field="eventID",
                        reason=ALREADY_STORED(event_id=c.event_id),
                    )
            if c.chain.error_declaration is not None:
                outcomes.append(EventOutcome(name, c.position, c.event_id, CORRECTION))
            elif c.chain.off_profile:
                read_as = READINGS[c.chain.reading]
                outcomes.append(EventOutcome(name, c.position, c.event_id, OFF_PROFILE, c.chain.off_profile, read_as))
            else:
                outcomes.append(EventOutcome(name, c.position, c.event_id, STORED))
            pending.append(p)
            chains.append(c.chain)
        return pending, chains, outcomes


ALREADY_STORED = Message(
    "intake.already_stored",
    "{event_id} is already stored with different content; "
    "to change it, send it again with an errorDeclaration and corrective events",
)


class _Withdrawn(NamedTuple):
    original: str | None  # digest of the event's own record, None while only its declaration is on record
    declaration: bytes  # canonical body of the newest record: the errorDeclaration


def _retracted(conn: Connection, ids: list[str]) -> dict[str, _Withdrawn]:
    """The retracted events among `ids` (rare: only events sent again with other content are asked about)."""
    if not ids:
        return {}
    own, newest = ledger.alias("own"), ledger.alias("newest")
    q = (
        select(events.c.event_id, own.c.digest, newest.c.body)
        .join(newest, newest.c.seq == events.c.seq)
        .outerjoin(own, own.c.seq == events.c.original_seq)
        .where(events.c.event_id.in_(ids), events.c.retracted.is_(True))
    )
    return {eid: _Withdrawn(digest, body.encode()) for eid, digest, body in conn.execute(q)}


def _declared(declaration: bytes, original: bytes) -> bool:
    """Whether an errorDeclaration record declares exactly this event erroneous (the same event plus the
    declaration, EPCIS 2.0 §7.4.1)."""
    body = orjson.loads(declaration)
    body.pop("errorDeclaration", None)
    return canonical(body) == original


NO_SUCH_PATH = Message("intake.no_such_path", "no such file or folder")
FILE_TOO_LARGE = Message(
    "intake.file_too_large", "document is {size} MiB, over the {limit} MiB limit; split it into several EPCISDocuments"
)


def document_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders walked in sorted order (a deterministic intake order), .json/.jsonld only."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix in (".json", ".jsonld"))
        elif p.is_file():
            files.append(p)
        else:
            raise IntakeError(document=str(p), index=None, field=None, reason=NO_SUCH_PATH())
    return files


def read_bounded(path: Path) -> bytes:
    """Refuse an oversized document before reading it, so a huge file can never exhaust memory."""
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise IntakeError(
            document=str(path),
            index=None,
            field=None,
            reason=FILE_TOO_LARGE(size=f"{size / 2**20:.1f}", limit=MAX_DOCUMENT_BYTES // 2**20),
        )
    return path.read_bytes()


# --- the other feeds: each file one transaction, judged for what it changed ------------------------------
def load_trade(engine: Engine, kind: str, lines: list[bytes], name: str, settings: Settings | None) -> dict[str, int]:
    """Licences or declarations; the licences/declarations the file changed are judged in its transaction
    (unless `settings` is None)."""
    from oretrail.trade import store as trade

    raised: list[Judged] = []

    def then(conn: Connection, result: trade.LoadResult) -> None:
        if settings is None:
            return
        keys = frozenset(result.keys)
        scope = Scope(licence_nos=keys) if kind == "licences" else Scope(declaration_nos=keys)
        raised.append(judge(conn, scope, settings))

    loader = {"licences": trade.load_licences, "declarations": trade.load_declarations}[kind]
    counts = loader(engine, lines, name, then).as_dict()
    judged = Judged()
    for one in raised:
        judged.add(one)
    return counts | {"alerts_new": len(judged.new), "withdrawn": judged.withdrawn, "settled": judged.settled}


def rejudge(engine: Engine, feed: str, settings: Settings) -> Judged:
    """After a whole-list feed (registry, partner statistics, a watch list): the rules that declare they read it
    (`Rule.rejudged_by`) over everything; only findings not yet alerted become new alerts."""
    chosen = [r.id for r in RULES if feed in r.rejudged_by]
    if not chosen:
        return Judged()
    with engine.begin() as conn:
        return judge(conn, None, settings, rules=chosen)


def scan(
    engine: Engine,
    settings: Settings,
    rules: list[str] | None = None,
    *,
    on: str = "store",
    export: Path | None = None,
    master: str | None = None,
    workers: int | None = None,
) -> Judged:
    """The chosen rules (default all) over everything: every alert of those rules is judged again.

    `on`: the engine that runs the rules: the store itself, or DuckDB or Spark over the columnar export at
    `export`, which must be of the store's current state; the findings are stored here all the same. On the
    store and DuckDB the rules are shared out among `workers` readers of one state (None: one per core, at
    most four)."""
    if on == "store":
        with engine.begin() as conn:
            return judge(conn, None, settings, rules=rules, workers=workers or SCAN_WORKERS)
    from oretrail.engines import find_on  # imported late: Arrow, DuckDB and Spark load only for these scans
    from oretrail.export.parquet import check_current

    if export is None:
        raise ValueError(f"the {on} engine reads a columnar export: give its directory")
    with engine.connect() as conn:
        check_current(conn, export)
    # Outside the store's transaction: the other engine may take minutes, and capture must not wait on it.
    findings = find_on(on, export, settings, rules, master, workers or SCAN_WORKERS)
    with engine.begin() as conn:
        check_current(conn, export)  # nothing was captured while the other engine ran
        return judge(conn, None, settings, rules=rules, find=lambda _: findings)
