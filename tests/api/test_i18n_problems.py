"""Problem details of the API in 简体中文 and English.

Each kind of problem is asked for twice, with `Accept-Language: zh-CN` and with no header: the Chinese answer's
title and detail are Chinese, the default's English, and what programs read (`type`, status, codes, fields,
pointers) is the same in both.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from tests.api.conftest import MINE_2, REGISTRY, Api
from tests.intake import builders as b

HAN = re.compile(r"[\u4e00-\u9fff]")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def _both(ask: Callable[[dict[str, str]], Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The same request in Chinese and by default; the answers must differ only in their words."""
    zh, en = ask(ZH), ask({})
    assert zh.status_code == en.status_code and zh.status_code >= 400, (zh.status_code, zh.text)
    assert zh.headers["content-type"].startswith("application/problem+json")
    zh_body, en_body = zh.json(), en.json()
    assert zh_body["type"] == en_body["type"]
    for body, chinese in ((zh_body, True), (en_body, False)):
        for member in ("title", "detail"):
            assert bool(HAN.search(body[member])) is chinese, (member, body)
    return zh_body, en_body


def _bad_event_document() -> bytes:
    doc = b.document(b.mining([(b.lot("ore-x"), 10.0)], "w.ore", 0.005))
    doc["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "LBR"
    return b.encode(doc)


def test_every_kind_of_problem_reads_in_both_languages(api: Api) -> None:
    c = api.client
    # 401: no identity
    zh, _ = _both(lambda h: c.get("/alerts", headers=h))
    assert zh["type"].endswith("/unauthenticated")
    # 403 from the permission table (an enterprise never reads an alert), with the caller's scope
    zh, en = _both(lambda h: api.get("ent-1", "/alerts", headers=h))
    assert "ent-1" in zh["detail"] and "角色" in zh["detail"] and "role enterprise" in en["detail"]
    # 403 on one object out of sight, and 404 of one that does not exist, for a caller who sees them all
    _both(lambda h: api.get("jx-commerce", "/lots/urn:x:lot/trace", headers=h))
    zh, en = _both(lambda h: api.get("central", "/alerts/nosuchalert", headers=h))
    assert zh["status"] == 404 and "nosuchalert" in zh["detail"]
    # 404 of a path that is no resource at all
    _both(lambda h: api.get("central", "/no/such/page", headers=h))
    # 422: a request FastAPI refuses (a form field missing), each error keeping its stable type and field
    zh, en = _both(lambda h: c.post("/auth/token", data={}, headers=h))
    assert [(e["field"], e["type"]) for e in zh["errors"]] == [(e["field"], e["type"]) for e in en["errors"]]
    assert zh["errors"][0]["type"] == "missing" and HAN.search(zh["errors"][0]["reason"])
    # 413: a body over the document limit, refused before it is read
    big = {"Content-Length": str(64 * 2**20)}
    _both(lambda h: api.post("central", "/capture/events", content=b"{}", headers={**h, **big}))
    # 422: intake refusing a document, naming document, event and field, with a stable code
    zh, en = _both(lambda h: api.post("central", "/capture/events", content=_bad_event_document(), headers=h))
    for key in ("document", "index", "field", "code"):
        assert zh[key] == en[key]
    assert zh["code"] == "intake.epcis.unknown_unit" and zh["field"] == "quantityList[0].uom"
    assert "LBR" in zh["detail"] and "事件 0" in zh["detail"] and "event 0" in en["detail"]


def test_epcis_problems_keep_their_types_and_read_in_both_languages(api: Api) -> None:
    c = api.client
    zh, _ = _both(lambda h: api.get("central", "/events/urn:uuid:none", headers=h))
    assert zh["type"] == "epcisException:NoSuchNameException"
    zh, _ = _both(lambda h: api.get("central", "/events?nonsense=1", headers=h))
    assert zh["type"] == "epcisException:QueryParameterException"
    zh, _ = _both(lambda h: c.get("/events", headers=h))  # no identity: the binding's 401
    assert zh["type"] == "epcisException:SecurityException"
    json = {"Content-Type": "application/json"}
    zh, _ = _both(lambda h: api.post("central", "/capture", content=b"[1", headers={**h, **json}))
    assert zh["type"] == "epcisException:ValidationException"


def test_a_capture_jobs_errors_read_in_the_language_of_whoever_asks(api: Api) -> None:
    r = api.post("central", "/capture", content=_bad_event_document(), headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    job = "/" + r.headers["Location"].lstrip("/")
    for _ in range(200):
        state = api.get("central", job).json()
        if not state["running"]:
            break
        time.sleep(0.05)
    zh, en = api.get("central", job, headers=ZH).json(), api.get("central", job).json()
    assert not en["success"] and len(en["errors"]) == len(zh["errors"]) == 1
    e_zh, e_en = zh["errors"][0], en["errors"][0]
    for key in ("type", "status", "eventIndex", "field", "code", "pointer"):
        assert e_zh[key] == e_en[key]
    assert e_zh["type"] == "epcisException:ValidationException" and e_zh["code"] == "intake.epcis.unknown_unit"
    assert HAN.search(e_zh["title"]) and HAN.search(e_zh["detail"]) and HAN.search(e_zh["reason"])
    assert not HAN.search(e_en["title"] + e_en["detail"] + e_en["reason"])
    assert "_said" not in e_zh


def test_an_enterprise_refused_at_another_enterprises_mine_reads_why_in_chinese(api: Api) -> None:
    assert api.post("central", "/capture/registry", content=REGISTRY).status_code == 200
    doc = b.encode(b.document(b.mining([(b.lot("ore-9"), 10.0)], "w.ore", 0.005, location=MINE_2)))
    zh, en = _both(lambda h: api.post("ent-1", "/capture/events", content=doc, headers=h))
    assert MINE_2 in zh["detail"] and "属于" in zh["detail"] and "belongs to" in en["detail"]
