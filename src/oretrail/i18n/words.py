"""How parameters read in each language: quantities, dates, months, countries, provinces, lists.

Format specs after the colon in a message (`{grams:kg}`, `{when:date}`, `{partner:country}`) name these; any
other spec is Python's own (`{score:.2f}`). Country and province names come from pycountry's ISO 3166
catalogues, which carry zh_CN translations.
"""

from __future__ import annotations

import gettext
import string
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

import pycountry

LANGS = ("zh", "en")  # what the platform speaks; the first is the default for officers' pages
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def normal_lang(lang: str | None) -> str:
    """`zh`, `zh-CN`, `zh_Hans_CN` ... read as zh; anything else as en."""
    return "zh" if (lang or "").lower().replace("_", "-").startswith("zh") else "en"


@cache
def _iso(domain: str, lang: str) -> gettext.NullTranslations:
    if lang != "zh":
        return gettext.NullTranslations()
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=["zh_CN"], fallback=True)


def country(code: Any, lang: str) -> str:
    """ "Germany (DE)" / "德国 (DE)": the name a reader knows, and the code the record keeps."""
    code = str(code or "")
    found = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    if found is None:
        return code
    if lang == "zh":
        return f"{_iso('iso3166-1', lang).gettext(found.name)} ({code})"
    return f"{getattr(found, 'common_name', None) or found.name} ({code})"


def province(code: Any, lang: str) -> str:
    code = str(code or "")
    found = pycountry.subdivisions.get(code=code) if "-" in code else None
    if found is None:
        return code
    return _iso("iso3166-2", lang).gettext(found.name) if lang == "zh" else str(found.name)


def quantity(grams: Any, lang: str) -> str:
    """Officers think in kilograms (tonnes from 10 t); exact integer grams stay in the record."""
    g = float(grams or 0)
    t_unit, kg_unit = ("吨", "千克") if lang == "zh" else ("t", "kg")
    if abs(g) >= 10_000_000:
        return f"{g / 1_000_000:,.1f} {t_unit}"
    return f"{g / 1000:,.3f} {kg_unit}".replace(f".000 {kg_unit}", f" {kg_unit}")


def day(value: Any, lang: str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
    return f"{value:%Y-%m-%d}"


def minute(value: Any, lang: str) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return f"{value:%Y-%m-%d %H:%M}"


def month(period: Any, lang: str) -> str:
    """A reporting month, "202403" or "2024-03": "March 2024" / "2024年3月"."""
    digits = str(period).replace("-", "")
    year, m = digits[:4], int(digits[4:6])
    return f"{year}年{m}月" if lang == "zh" else f"{MONTHS[m - 1]} {year}"


def joined(sep_en: str, sep_zh: str) -> Callable[[Any, str], str]:
    def join(items: Any, lang: str) -> str:
        return (sep_zh if lang == "zh" else sep_en).join(str(i) for i in items)

    return join


STAGE_ZH = {
    "mining": "开采",
    "smelting": "冶炼",
    "processing": "加工",
    "transportation": "运输",
    "manufacturing": "制造",
    "sales": "销售",
    "export": "出口",
    "transformation": "转化",
}  # the seven stages of the mission (ids.STAGES), as the State Council's wording names them


TERMS_ZH = {
    # licence statuses (SPEC.md §3)
    "approved": "已批准",
    "refused": "已拒绝",
    "revoked": "已撤销",
    # fields a declaration and its licence are compared on
    "exporter": "出口商",
    "hs_code": "商品编码",
    "material": "物项",
    "destination": "目的国",
    "consignee": "收货人",
    "port": "口岸",
    "end_user": "最终用户",
    # roles of a name on a trade document
    "end user": "最终用户",
    # severities (SPEC.md §4)
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "严重",
    # an alert's workflow state and the actions on it
    "new": "新预警",
    "assigned": "已指派",
    "investigating": "调查中",
    "actioned": "已处置",
    "dismissed": "已排除",
    "assign": "指派",
    "investigate": "开始调查",
    "comment": "批注",
    "attach": "附件",
    "escalate": "上报中央",
    "hand_down": "交办省级",
    "share": "共享",
    "dismiss": "排除",
    "act": "处置",
    "withdraw": "撤回",
    "reinstate": "恢复",
    "settle": "确认",
    # roles of the permission table (access/permissions.toml) not named by a department
    "admin": "平台管理员",
    "provincial": "省级部门",
    "inspector": "检查员",  # "enterprise" is below, with the subjects of alerts
    # departments (SPEC.md §4)
    "central": "国家出口管制工作协调机制办公室",
    "commerce": "商务主管部门",
    "customs": "海关",
    "industry": "工业和信息化主管部门",
    "natural_resources": "自然资源主管部门",
    "public_security": "公安机关",
    "transport": "交通运输主管部门",
    "market_regulation": "市场监督管理部门",
    "tax": "税务机关",
    # subjects of alerts (SPEC.md §4)
    "declaration": "报关单",
    "licence": "许可证",
    "lot": "批次",
    "event": "事件",
    "shipment": "运单",
    "enterprise": "企业",
    "facility": "设施",
    "trade-flow": "贸易流",
    # facility types (ids.FACILITY_TYPES)
    "mine": "矿山",
    "smelter": "冶炼厂",
    "processor": "加工厂",
    "refinery": "精炼厂",
    "factory": "工厂",
    "warehouse": "仓库",
    # facility statuses (ICGLR) and customs channels
    "green": "绿色",
    "yellow": "黄色",
    "red": "红色",
    "blue": "蓝色",
    # an API key's status
    "active": "有效",
    "expired": "已过期",
    # kinds of ledger records (rebuild) and of a dossier's timeline
    "report": "报告",
    "inspection": "检查",
    "review": "审查",
    "closure": "整改关闭",
    "training": "培训",
    "facility_status": "设施状态",
    "alerts_new": "新增预警",
    # what a command line is made of (Click's refusals)
    "option": "选项",
    "argument": "参数",
    "parameter": "参数",
    # FollowTheMoney schemata of watch-listed entities
    "company": "公司",
    "organization": "组织",
    "legalentity": "法人实体",
    "person": "个人",
    "vessel": "船舶",
}  # a word of the records' vocabulary as Chinese officials write it; unknown words pass through as they are


def term(value: Any, lang: str) -> str:
    if lang == "zh":
        return TERMS_ZH.get(str(value), TERMS_ZH.get(str(value).lower(), str(value)))
    return str(value).replace("_", " ")


def terms(values: Any, lang: str) -> str:
    return ("和" if lang == "zh" else " and ").join(term(v, lang) for v in values)


def stage(value: Any, lang: str) -> str:
    return STAGE_ZH.get(str(value), str(value)) if lang == "zh" else str(value)


def article(value: Any, lang: str) -> str:
    """English "a"/"an" before a word of the profile (a stage, an event type, a step); Chinese has none."""
    word = str(value)
    if lang == "zh":
        return STAGE_ZH.get(word) or term(word, lang)
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def paren(value: Any, lang: str) -> str:
    """An optional aside: nothing when the value is missing."""
    if value in (None, ""):
        return ""
    return f"（{value}）" if lang == "zh" else f" ({value})"


def of(value: Any, lang: str) -> str:
    """An optional "of what": nothing when the value is missing."""
    if value in (None, ""):
        return ""
    return f"，{value}" if lang == "zh" else f" of {value}"


def quoted(value: Any, lang: str) -> str:
    return f"“{value}”" if lang == "zh" else f"'{value}'"


def percent(value: Any, lang: str) -> str:
    return f"{float(value):.0%}"


def money(value: Any, lang: str) -> str:
    return f"{float(value):,.2f}"


SPECS: Mapping[str, Callable[[Any, str], str]] = {
    "kg": quantity,
    "date": day,
    "minute": minute,
    "month": month,
    "country": country,
    "province": province,
    "and": joined(" and ", "且"),
    "list": joined(", ", "、"),
    "or": joined(" or ", "或"),
    "semi": joined("; ", "；"),
    "q": quoted,
    "stage": stage,
    "a": article,
    "term": term,
    "terms": terms,
    "paren": paren,
    "of": of,
    "pct": percent,
    "usd": money,
}


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        spec = SPECS.get(format_spec)
        return spec(value, self.lang) if spec is not None else super().format_field(value, format_spec)


def render_text(template: str, params: Mapping[str, Any], lang: str) -> str:
    return _Formatter(normal_lang(lang)).vformat(template, (), dict(params))


def placeholders(template: str) -> set[tuple[str, str]]:
    """(name, spec) of each field: a translation must use the same ones."""
    return {(name, spec or "") for _, name, spec, _ in string.Formatter().parse(template) if name is not None}
