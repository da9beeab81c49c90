"""What the pages show and do of supervision (issue 14, docs/supervision.md): the dossier's part (risk score
and its components and history, reviews, inspections and findings, corrective actions, facility status,
training, monthly reports), and the one way a page records anything of it.

Reading goes through the supervision module's own functions (`supervision/dossier.py` parts, `score.history`,
`reports.standing`), behind the same visibility predicate as the API's routes (`supervised_visible`, kinds
`supervision` and `report`). Writing is a record of the supervision or reports feed sent through exactly the
capture of `POST /capture/{feed}`: the permission table for the feed, `access/capture.py` record by record,
then the feed's validation, ledger and projection in one transaction; so a page can record nothing the API
would refuse, and a refusal names the field as the API's does.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection, Engine, select

from oretrail.access.caller import Caller
from oretrail.access.capture import CaptureDenied, check_capture
from oretrail.access.scope import supervised_visible
from oretrail.errors import IntakeError
from oretrail.feeds import BY_NAME, FeedReport
from oretrail.i18n.message import Said, said_of
from oretrail.storage.schema import enterprises
from oretrail.supervision.score import STATUS_WORDS
from oretrail.supervision.template import template
from oretrail.web.errors import BadInput, Denied
from oretrail.web.figures import line
from oretrail.web.render import may

assert STATUS_WORDS  # the facility statuses' words (supervision.status.*), which the pages show


def sees(conn: Connection, who: Caller, party: str, kind: str = "supervision") -> bool:
    """Whether `who` may read `party`'s records of `kind` (the API's `_enterprise` check, as a yes or no)."""
    if not may(who, "read", kind):
        return False
    visible = supervised_visible(who, enterprises.c.party_id, kind=kind)
    found = conn.execute(select(enterprises.c.party_id).where(enterprises.c.party_id == party, visible)).first()
    return found is not None


def item_name(item: str, lang: str) -> str:
    """A checklist item (`icp.<element>` or `facility.<check>`) in the reader's language."""
    t = template()
    kind, _, ident = item.partition(".")
    if kind == "icp":
        e = t.element(ident)
        return e.name(lang) if e else item
    check = t.facility_checks.get(ident)
    return (check["zh"] if lang == "zh" else check["en"]) if check else item


def checklist(lang: str) -> list[tuple[str, str]]:
    return [(i, item_name(i, lang)) for i in template().items]


def level_names(lang: str) -> dict[int, str]:
    """Each maturity level's short name (before the colon of its meaning): "documented", "成文"."""
    out = {}
    for k, v in template().levels.items():
        text = v["zh"] if lang == "zh" else v["en"]
        out[k] = text.split("：" if lang == "zh" else ":")[0]
    return out


def risk_part(conn: Connection, party: str, lang: str, settings: Any, title: str) -> dict[str, Any]:
    """The latest recorded score with its components, the history as a chart, and what moved; with no
    score recorded yet, today's computed (and said so), not recorded by a reader's visit."""
    from oretrail.supervision.score import compute, history, today

    scores = history(conn, party, lang)
    out: dict[str, Any] = {"history": scores[::-1][:12]}
    if scores:
        out["latest"] = scores[-1]
        out["recorded"] = True
    else:
        s = compute(conn, party, today(conn), settings.config, settings.catalogue)
        out["latest"] = {"as_of": s.as_of.isoformat(), "score": s.score, "policy": "",
                         "components": [c.record(lang) for c in s.components], "changes": []}  # fmt: skip
        out["recorded"] = False
    if len(scores) > 1:
        out["figure"] = line([s["as_of"] for s in scores], [s["score"] for s in scores], name=title, y_title=title,
                             y_range=(0, 100))  # fmt: skip
    return out


def dossier_part(conn: Connection, who: Caller, party: str, lang: str, settings: Any) -> dict[str, Any]:
    """The dossier's supervision sections the reader may see (empty when none)."""
    from oretrail.supervision.dossier import (
        action_part,
        facility_part,
        flag_part,
        inspection_part,
        review_part,
        training_part,
    )
    from oretrail.supervision.reports import standing
    from oretrail.supervision.score import today

    out: dict[str, Any] = {}
    day = today(conn)
    if sees(conn, who, party):
        facs, _ = facility_part(conn, party, settings.config, day)
        out["fac_status"] = {f["id"]: f for f in facs}
        out["risk"] = risk_part(conn, party, lang, settings, "risk")
        out["reviews"] = review_part(conn, party)[0][::-1]
        out["inspections"] = inspection_part(conn, party)[0][::-1]
        out["actions"] = action_part(conn, party, day)[0]
        out["trainings"] = training_part(conn, party, lang)[0][::-1]
        out["flags"] = flag_part(conn, party, day, settings.catalogue, lang)
        out["levels"] = level_names(lang)
        out["elements"] = [(e.id, e.name(lang)) for e in template().elements]
        out["item_name"] = lambda item: item_name(item, lang)
        out["today"] = day
    if sees(conn, who, party, "report"):
        out["reports"] = standing(conn, party, settings.config.report_due_day, day)
    return out


def send(eng: Engine, who: Caller, feed: str, records: list[dict[str, Any]], name: str, settings: Any) -> FeedReport:
    """Record `records` (one JSON object a line) through the feed's capture, as `POST /capture/{feed}` does,
    for a handler that `posted` the form as capturing the feed's kind; a refusal becomes the page's 422
    (naming the line and field, its code the refusal's) or 403 (naming the record)."""
    data = b"\n".join(orjson.dumps(r) for r in records) + b"\n"
    try:
        with eng.connect() as conn:
            check_capture(conn, who, feed, data, name)
        return BY_NAME[feed].read_bytes(eng, data, name, settings)
    except IntakeError as exc:
        raise BadInput(exc.words(), code=exc.code) from None
    except CaptureDenied as exc:
        said = said_of(exc)
        assert isinstance(said, Said)  # access.capture's DENIED, naming the document and record
        raise Denied(said) from None
