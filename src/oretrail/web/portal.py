"""Page 8, the enterprise portal: upload an EPCIS document (or a feed file the role may send) and read what
became of each event; see one's own records; file the monthly report, prefilled from one's own events
(`supervision/reports.py` `prefill`) and sent through the reports feed's capture, and see which months were
filed, late or missing; one's compliance reviews with what to improve, guidance documents in the reader's
language, and the training attended.

An upload goes through exactly the capture of `POST /capture/{feed}` (api/capture.py): the permission table
decides whether the role may send the feed at all, `access/capture.py` checks every record before anything
is written (an enterprise captures only at its own facilities), and the feed (feeds.py) validates, records,
projects and judges in one transaction. Its report is kept (`web_uploads`) so the uploader can come back to
it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection, Engine, func, insert, select
from starlette.datastructures import FormData

from oretrail.access.caller import Caller
from oretrail.access.capture import FEED_KINDS, CaptureDenied, check_capture
from oretrail.access.scope import unconstrained
from oretrail.api.deps import engine, reader
from oretrail.clock import utcnow
from oretrail.errors import MAX_DOCUMENT_BYTES, IntakeError
from oretrail.feeds import BY_NAME, FEEDS
from oretrail.i18n.message import Message, Said, said_of
from oretrail.pipeline import worded
from oretrail.rules.monthly_flows import FLOWS
from oretrail.storage.schema import enterprises, facilities, web_uploads
from oretrail.supervision.dossier import review_part, training_part
from oretrail.web.errors import BadInput, Denied, out_of_sight
from oretrail.web.forms import NOT_A_CHOICE, TOO_LARGE, label, parse_month, parse_whole, permitted, posted
from oretrail.web.render import language, may, page, redirect
from oretrail.web.session import PATH, page_caller, same_site
from oretrail.web.supervision import sees, send

router = APIRouter(prefix=PATH, include_in_schema=False)
MAX_ROWS = 200  # material lines of one monthly report form
NOT_YOURS = Message("web.refused.not_yours", "{party} is not among the enterprises of {user}")
NOT_KG = Message("web.invalid.kg", "{field}: {value:q} is not a number of kilograms")
OUTCOMES_SHOWN = 500  # events listed on an upload's page; the counts cover them all


def feeds_for(who: Caller) -> list[str]:
    return [f.name for f in FEEDS if may(who, "capture", FEED_KINDS[f.name])]


def previous_month(today: date) -> str:
    first = date(today.year, today.month, 1)
    return f"{first.year - (first.month == 1)}-{(first.month - 2) % 12 + 1:02d}"


def _period(month: str | None) -> str:
    return parse_month(month, label("web.inspections.month")) if month else previous_month(utcnow().date())


def _supervision(conn: Connection, who: Caller, party: str, month: str, lang: str, settings: Any) -> dict[str, Any]:
    """The portal's supervision parts for one of the caller's enterprises, each only when the table allows."""
    from oretrail.storage.schema import reviews
    from oretrail.supervision.reports import prefill, standing
    from oretrail.supervision.review import explained
    from oretrail.supervision.score import today
    from oretrail.supervision.template import guidance

    out: dict[str, Any] = {"party": party}
    if sees(conn, who, party, "report"):
        out["prefill"] = prefill(conn, party, month)
        out["standing"] = standing(conn, party, settings.config.report_due_day, today(conn))[:12]
        out["may_file"] = may(who, "capture", "report")
        out["materials"] = sorted(settings.catalogue.materials)
        out["flows"] = FLOWS
    if sees(conn, who, party):
        found = conn.execute(
            select(reviews).where(reviews.c.enterprise == party).order_by(reviews.c.date.desc()).limit(2)
        ).all()

        def as_dict(r: Any) -> dict[str, Any]:
            return {**r._mapping, "elements": orjson.loads(r.elements)}

        if found:
            out["review"] = explained(as_dict(found[0]), as_dict(found[1]) if len(found) > 1 else None, lang)
        out["reviews"] = review_part(conn, party)[0][::-1]
        out["guidance"] = [g.record(lang) for g in guidance()]
        out["trainings"] = training_part(conn, party, lang)[0][::-1]
    return out


def _said_json(exc: CaptureDenied) -> dict[str, Any]:
    said = said_of(exc)
    assert isinstance(said, Said)  # access.capture's DENIED, naming the document and record
    return said.to_json()


def _uploads(conn: Connection, who: Caller) -> list[Any]:
    q = select(web_uploads.c.id, web_uploads.c.feed, web_uploads.c.document, web_uploads.c.at, web_uploads.c.outcome)
    if not unconstrained(who, "read", "event"):
        q = q.where(web_uploads.c.user == who.user)
    return list(conn.execute(q.order_by(web_uploads.c.at.desc()).limit(25)).all())


@router.get("/portal")
def portal(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    feeds = feeds_for(who)
    # the page answers a role that may send some feed; what this request does is read it
    audit = permitted(request, who, "capture", FEED_KINDS[feeds[0]] if feeds else "event")
    audit.action = "read"
    own = conn.execute(select(enterprises).where(enterprises.c.party_id.in_(who.parties))).all()
    counts = {
        "facilities": conn.execute(select(func.count()).where(facilities.c.owner.in_(who.parties))).scalar_one(),
    }
    month = _period(request.query_params.get("month"))
    party = request.query_params.get("party") or (who.parties[0] if who.parties else "")
    if party and party not in who.parties:
        raise Denied(NOT_YOURS(party=party, user=who.user))
    extra = _supervision(conn, who, party, month, language(request), request.app.state.settings) if party else {}
    return page(request, who, "portal.html", title="web.nav.portal", active="portal", feeds=feeds, own=own,
                counts=counts, uploads=_uploads(conn, who), month=month, max_mib=MAX_DOCUMENT_BYTES // 2**20,
                done=request.query_params.get("done"), **extra)  # fmt: skip


@router.post("/portal/report", dependencies=[Depends(same_site)])
async def file_report(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    """A record of the reports feed from the form, sent through its capture (`POST /capture/reports`)."""
    form = await posted(request, who, "capture", "report")
    party, month = form.text("enterprise"), _period(form.text("period"))
    form.audit.object = f"{party}:{month}"
    lines = []
    for n in range(parse_whole(form.text("rows") or "0", label("web.report.rows"), 0, MAX_ROWS)):
        material = form.text(f"line.{n}.material")
        if not material:
            continue
        line: dict[str, Any] = {"material": material}
        for flow in FLOWS:
            text = form.text(f"line.{n}.{flow}_kg") or "0"
            try:
                line[f"{flow}_kg"] = float(text)
            except ValueError:
                field = label("web.report.line", n=n + 1, field=label(f"web.report.flow.{flow}"))
                raise BadInput(NOT_KG(field=field, value=text)) from None
        lines.append(line)
    send(eng, who, "reports", [{"enterprise": party, "period": month, "lines": lines}], f"web-report-{party}-{month}",
         request.app.state.settings)  # fmt: skip
    return redirect(request, f"{PATH}/portal?month={month}&done=filed#report")


@router.post("/portal/upload", dependencies=[Depends(same_site)])
async def upload(
    request: Request,
    who: Annotated[Caller, Depends(page_caller)],
    eng: Annotated[Engine, Depends(engine)],
) -> Response:
    def kind(fields: FormData) -> str:
        feed = str(fields.get("feed") or "events")
        if feed not in BY_NAME:
            raise BadInput(NOT_A_CHOICE(field=label("web.portal.feed"), value=feed, choices=list(BY_NAME)))
        return FEED_KINDS[feed]

    form = await posted(request, who, "capture", kind, max_bytes=MAX_DOCUMENT_BYTES)
    feed_name = form.text("feed") or "events"
    document = form.file("document", label("web.portal.document"))
    data = await document.read()
    if len(data) > MAX_DOCUMENT_BYTES:
        raise BadInput(TOO_LARGE(mib=MAX_DOCUMENT_BYTES // 2**20))
    name = (document.filename or f"upload-{feed_name}")[:512]
    form.audit.object = name
    feed = BY_NAME[feed_name]
    report: dict[str, Any]
    try:
        with eng.connect() as conn:
            check_capture(conn, who, feed.name, data, name)
        done = feed.read_bytes(eng, data, name, request.app.state.settings)
        outcome = "stored"
        report = {"counts": done.counts, "alerts_new": done.alerts_new, "withdrawn": done.withdrawn,
                  "settled": done.settled, "outcomes": done.rows or [], "remarks": done.remarks}  # fmt: skip
    except IntakeError as exc:
        outcome = "refused"
        report = {"refusal": {"document": exc.document, "index": exc.index, "field": exc.field, "reason": exc.reason,
                              "message": str(exc), "said": exc.words().to_json(), "code": exc.code}}  # fmt: skip
    except CaptureDenied as exc:
        outcome = "denied"
        report = {"refusal": {"document": exc.document, "record": exc.record, "message": str(exc),
                              "said": _said_json(exc), "code": "capture.denied"}}  # fmt: skip
    form.audit.reason = "" if outcome == "stored" else report["refusal"]["message"]
    upload_id = secrets.token_hex(8)
    with eng.begin() as conn:
        conn.execute(
            insert(web_uploads).values(
                id=upload_id, user=who.user, feed=feed.name, document=name,
                sha256=hashlib.sha256(data).hexdigest(), size=len(data), at=utcnow(), outcome=outcome,
                report=orjson.dumps(report).decode(),
            )
        )  # fmt: skip
    return redirect(request, f"{PATH}/portal/uploads/{upload_id}")


@router.get("/portal/uploads/{upload_id}")
def upload_report(
    request: Request,
    upload_id: str,
    who: Annotated[Caller, Depends(page_caller)],
    conn: Annotated[Connection, Depends(reader)],
) -> Response:
    permitted(request, who, "read", "event", upload_id)
    row = conn.execute(select(web_uploads).where(web_uploads.c.id == upload_id)).first()
    if row is None or (row.user != who.user and not unconstrained(who, "read", "event")):
        raise out_of_sight(who, "read", "event", upload_id, thing="upload")
    report = orjson.loads(row.report)
    outcomes = worded(report.get("outcomes", []), language(request)) or []
    tally: dict[str, int] = {}
    for o in outcomes:
        tally[str(o.get("outcome"))] = tally.get(str(o.get("outcome")), 0) + 1
    more = max(0, len(outcomes) - OUTCOMES_SHOWN)
    refusal = report.get("refusal") or {}
    # a report kept before refusals were stored as messages reads in English
    said = Said.from_json(refusal["said"]) if "said" in refusal else None
    return page(request, who, "upload.html", title="web.upload.title", active="portal", row=row, report=report,
                outcomes=outcomes[:OUTCOMES_SHOWN], tally=tally, more=more, said=said)  # fmt: skip
