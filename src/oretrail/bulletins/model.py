"""A bulletin as an issuer writes it, checked field by field before anything is stored.

The mission asks to "promptly issue warnings and take action": a bulletin says what (title), why and what to
do (body), how severe, whom it names (consignees, HS codes, enterprises), until when, and to whom it goes
(departments, at the centre and in chosen provinces). Title and body are free text in the issuer's words, in
简体中文, English or both; a reader gets their language when the issuer wrote it, the other one otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from oretrail.alerts.routing import DEPARTMENTS_ALL, NATIONAL
from oretrail.alerts.severity import LEVELS
from oretrail.errors import IntakeError
from oretrail.i18n.message import Message, Said
from oretrail.ids import PARTY_PREFIX
from oretrail.registry.provinces import is_cn_province

_HS = re.compile(r"^\d{6}(\d{2}){0,2}$")
_PARTY = re.compile(rf"^{re.escape(PARTY_PREFIX)}[0-9A-Z]{{18}}$")


@dataclass(frozen=True)
class Named:
    name: str
    country: str | None  # ISO 3166-1 alpha-2, when the issuer knows it


@dataclass(frozen=True)
class BulletinIn:
    severity: str
    title: dict[str, str]  # lang -> text
    body: dict[str, str]
    valid_until: date
    departments: tuple[str, ...]  # recipients
    provinces: tuple[str, ...]  # recipients' levels: CN (the centre) and/or provinces
    names: tuple[Named, ...] = ()
    hs_codes: tuple[str, ...] = ()
    enterprises: tuple[str, ...] = ()


EMPTY_TEXT = Message("bulletin.field.empty_text", "must be non-empty text")
TEXT_FORM = Message("bulletin.field.text_form", 'give the text, or an object {{"zh": ..., "en": ...}}')
LANGUAGES = Message("bulletin.field.languages", "languages are zh and en")
TEXT_TOO_LONG = Message("bulletin.field.text_too_long", "at most 20,000 characters")
NOT_LIST = Message("bulletin.field.not_list", "must be a list")
NOT_OBJECT = Message("bulletin.field.not_object", "a bulletin is a JSON object")
SEVERITY = Message("bulletin.field.severity", "one of {allowed}")
DATE = Message("bulletin.field.date", "a date, YYYY-MM-DD")
PASSED = Message("bulletin.field.passed", "{until} has passed: a bulletin must be in force when issued")
DEPARTMENTS = Message("bulletin.field.departments", "one or more of {allowed}")
PROVINCE = Message("bulletin.field.province", "{value!r}: {centre} (the centre) or an ISO 3166-2 code such as CN-JX")
NAME = Message("bulletin.field.name", "a consignee's name, 1 to 500 characters")
COUNTRY = Message("bulletin.field.country", "{value!r} is not an ISO 3166-1 alpha-2 code")
HS_CODE = Message("bulletin.field.hs_code", "{value!r}: 6, 8 or 10 digits")
PARTY = Message("bulletin.field.party", "{value!r}: a party id {prefix}<USCC>")


def _fail(field: str, reason: Said) -> IntakeError:
    return IntakeError("bulletin", None, field or None, reason)


def _text(raw: Any, field: str) -> dict[str, str]:
    if isinstance(raw, str):
        if not raw.strip():
            raise _fail(field, EMPTY_TEXT())
        raw = {"zh" if re.search(r"[\u4e00-\u9fff]", raw) else "en": raw}
    if not isinstance(raw, dict) or not raw:
        raise _fail(field, TEXT_FORM())
    out = {}
    for lang, text in raw.items():
        if lang not in ("zh", "en"):
            raise _fail(f"{field}.{lang}", LANGUAGES())
        if not isinstance(text, str) or not text.strip():
            raise _fail(f"{field}.{lang}", EMPTY_TEXT())
        if len(text) > 20_000:
            raise _fail(f"{field}.{lang}", TEXT_TOO_LONG())
        out[lang] = text.strip()
    return out


def _list(raw: dict[str, Any], field: str) -> list[Any]:
    value = raw.get(field, [])
    if not isinstance(value, list):
        raise _fail(field, NOT_LIST())
    return value


def parse_bulletin(raw: Any, today: date) -> BulletinIn:
    """The issuer's JSON object as a bulletin, or an IntakeError naming the field."""
    import pycountry

    if not isinstance(raw, dict):
        raise _fail("", NOT_OBJECT())
    severity = raw.get("severity")
    if severity not in LEVELS:
        raise _fail("severity", SEVERITY(allowed=", ".join(LEVELS)))
    try:
        until = date.fromisoformat(str(raw.get("valid_until")))
    except ValueError:
        raise _fail("valid_until", DATE()) from None
    if until < today:
        raise _fail("valid_until", PASSED(until=str(until)))
    departments = _list(raw, "departments")
    if not departments or any(d not in DEPARTMENTS_ALL for d in departments):
        raise _fail("departments", DEPARTMENTS(allowed=", ".join(DEPARTMENTS_ALL)))
    provinces = _list(raw, "provinces") or [NATIONAL]
    for i, p in enumerate(provinces):
        if p != NATIONAL and not (isinstance(p, str) and is_cn_province(p)):
            raise _fail(f"provinces[{i}]", PROVINCE(value=p, centre=NATIONAL))
    names = []
    for i, item in enumerate(_list(raw, "names")):
        item = {"name": item} if isinstance(item, str) else item
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name.strip() or len(name) > 500:
            raise _fail(f"names[{i}].name", NAME())
        country = item.get("country")
        if country is not None and not (isinstance(country, str) and pycountry.countries.get(alpha_2=country.upper())):
            raise _fail(f"names[{i}].country", COUNTRY(value=country))
        names.append(Named(name.strip(), country.upper() if country else None))
    hs_codes = _list(raw, "hs_codes")
    for i, code in enumerate(hs_codes):
        if not (isinstance(code, str) and _HS.match(code)):
            raise _fail(f"hs_codes[{i}]", HS_CODE(value=code))
    enterprises = _list(raw, "enterprises")
    for i, party in enumerate(enterprises):
        if not (isinstance(party, str) and _PARTY.match(party)):
            raise _fail(f"enterprises[{i}]", PARTY(value=party, prefix=PARTY_PREFIX))
    return BulletinIn(
        severity=severity,
        title=_text(raw.get("title"), "title"),
        body=_text(raw.get("body"), "body"),
        valid_until=until,
        departments=tuple(dict.fromkeys(departments)),
        provinces=tuple(dict.fromkeys(provinces)),
        names=tuple(names),
        hs_codes=tuple(dict.fromkeys(hs_codes)),
        enterprises=tuple(dict.fromkeys(enterprises)),
    )
