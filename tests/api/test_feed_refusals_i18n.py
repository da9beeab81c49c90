"""The refusals of the line-oriented feeds, of the alert workflow and of bulletins, over HTTP in 简体中文 and
English; and the 422s of our own operations documented as they are answered (problem+json).

Each refusal is asked for in Chinese and by default: both name the same record (line) and field with the same
`code`; the Chinese detail is Chinese throughout, the parameters (the value at fault) aside.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import orjson
import pytest

from oretrail.api.app import PROBLEM_SCHEMAS
from tests.api.conftest import CONC_1, E1, REGISTRY, Api, World
from tests.api.test_i18n_problems import HAN, ZH, _both
from tests.cli.test_lang import ENGLISH, _words_only


def _lines(*records: Any) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


_GOOD_ENTERPRISE = REGISTRY.splitlines()[0]
_USCC = orjson.loads(_GOOD_ENTERPRISE)["uscc"]
_BAD_USCC = _USCC[:-1] + ("0" if _USCC[-1] != "0" else "1")  # the check digit wrong
_DECLARATION = {"declaration_no": "530120250000000001", "date": "2025-06-03", "exporter": E1,
                "hs_code": "8112929010", "net_kg": 50.0, "value_usd": 30000.0, "destination": "ZZ",
                "consignee": "Example GmbH", "port": "CNSZX"}  # fmt: skip
_MIRROR_HEADER = b"reporterISO,partnerISO,flowCode,cmdCode,period,netWgt,primaryValue\n"

# feed -> (body, line, field, code, what the value at fault reads as in both languages)
REFUSALS: dict[str, tuple[bytes, int, str, str, str]] = {
    "registry": (
        _GOOD_ENTERPRISE + b"\n" + _lines({**orjson.loads(_GOOD_ENTERPRISE), "uscc": _BAD_USCC}),
        2, "uscc", "intake.uscc.check_digit", _BAD_USCC,
    ),
    "licences": (_lines({"licence_no": "EL2025JX000009"}), 1, "exporter", "intake.trade.required", ""),
    "declarations": (b"\n" + _lines(_DECLARATION), 2, "destination", "intake.trade.country", "'ZZ'"),
    "mirror": (_MIRROR_HEADER + b"DEU,CHN,M,811292,202513,100,1000\n", 2, "period", "intake.mirror.not_month",
               "'202513'"),
    "watchlist": (_lines({"id": "x-1", "schema": "Spaceship"}), 1, "schema", "intake.watchlist.unknown_schema",
                  "'Spaceship'"),
    "reports": (_lines({"enterprise": E1, "period": "2025-13", "lines": []}), 1, "period", "intake.reports.period",
                ""),
    "supervision": (_lines({"kind": "visit"}), 1, "kind", "intake.supervision.one_of", "inspection"),
}  # fmt: skip


def _no_english_sentence(text: str) -> None:
    assert ENGLISH.findall(_words_only(text)) == [], text


@pytest.mark.parametrize("feed", sorted(REFUSALS))
def test_a_feeds_refusal_names_line_and_field_in_both_languages(api: Api, feed: str) -> None:
    body, line, field, code, value = REFUSALS[feed]
    name = {"X-Document-Name": f"{feed}.sample"}
    zh, en = _both(lambda h: api.post("central", f"/capture/{feed}", content=body, headers={**h, **name}))
    assert zh["status"] == en["status"] == 422
    for key in ("document", "index", "field", "code"):
        assert zh[key] == en[key], key
    assert (zh["index"], zh["field"], zh["code"]) == (line, field, code)
    assert f"{feed}.sample 第 {line} 行 字段 {field}：" in zh["detail"], zh["detail"]
    assert f"{feed}.sample line {line} field {field}: " in en["detail"], en["detail"]
    assert value in zh["detail"] and value in en["detail"]
    assert HAN.search(zh["reason"]) and not HAN.search(en["reason"] + en["detail"])
    _no_english_sentence(zh["detail"])


def test_workflow_attachment_and_bulletin_refusals_read_in_both_languages(world: World) -> None:
    api = world.api
    alert = next(a for a, f in world.alerts.items() if f["rule"] == "mirror.gap")
    zh, en = _both(lambda h: api.post("central", f"/alerts/{alert}/actions", json={"action": "dismiss"}, headers=h))
    assert zh["status"] == 422 and "排除" in zh["detail"] and "dismiss needs a note" in en["detail"]
    _no_english_sentence(zh["detail"])
    zh, en = _both(lambda h: api.post("central", f"/alerts/{alert}/attachments", content=b"", headers=h))
    assert zh["status"] == 422 and "附件不能为空" in zh["detail"] and "cannot be empty" in en["detail"]
    bulletin = {"severity": "high", "title": "x", "body": "y", "valid_until": "2999-01-01", "departments": ["tax"],
                "hs_codes": ["81"]}  # fmt: skip
    zh, en = _both(lambda h: api.post("commerce", "/bulletins", json=bulletin, headers=h))
    assert zh["status"] == 422 and zh["field"] == en["field"] == "hs_codes[0]"
    assert zh["code"] == "bulletin.field.hs_code" and "'81'" in zh["detail"]
    _no_english_sentence(zh["detail"])
    zh, en = _both(lambda h: api.post("central", "/screen", json={"names": ["ACME", "«»"]}, headers=h))
    assert zh["status"] == 422 and "names[1]" in zh["detail"] and "不含可筛查" in zh["detail"]
    assert "has no letter or digit" in en["detail"]
    zh, en = _both(lambda h: api.post("central", "/screen", json={"names": ["ACME"]}, headers=h))
    assert zh["status"] == 409 and "尚未载入关注名单" in zh["detail"] and "no watch list" in en["detail"]


def test_every_422_of_our_own_is_documented_as_the_problem_it_is(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    documented = {
        (method, path): op["responses"]["422"]
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "422" in op.get("responses", {})
    }
    assert len(documented) > 30 and ("post", "/capture/registry") in documented
    assert all(list(r["content"]) == ["application/problem+json"] for r in documented.values())
    assert not any(path.startswith(("/events", "/queries", "/capture/{")) for _, path in documented)
    assert "HTTPValidationError" not in orjson.dumps(spec).decode()
    # What is answered conforms to what is documented: a validation error and a refusal, in either language.
    schema = {**PROBLEM_SCHEMAS["Problem"], "$defs": PROBLEM_SCHEMAS}
    schema = orjson.loads(orjson.dumps(schema).replace(b"#/components/schemas/", b"#/$defs/"))
    answers = [
        api.client.post("/auth/token", data={}, headers=ZH),
        api.post("central", "/capture/licences", content=REFUSALS["licences"][0]),
        api.post("central", "/capture/mirror", content=REFUSALS["mirror"][0], headers=ZH),
    ]
    for answer in answers:
        assert answer.status_code == 422 and answer.headers["content-type"] == "application/problem+json"
        jsonschema_rs.validate(schema, answer.json())


def test_a_trace_past_its_bound_reads_why_in_both_languages(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from oretrail.chain.trace import Tracer

    monkeypatch.setattr(Tracer.__init__, "__defaults__", (1,))  # one lot at most: the concentrate's ore is past it
    zh, en = _both(lambda h: world.api.get("central", f"/lots/{CONC_1}/trace", headers=h))
    assert zh["status"] == 422 and "请缩小范围" in zh["detail"] and "exceeds 1 lots" in en["detail"]
    _no_english_sentence(zh["detail"])
