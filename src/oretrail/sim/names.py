"""Names of enterprises, foreign consignees and watch-listed entities, and the spelling variants evaders use.

The three vocabularies are kept apart on purpose: an honest consignee shares no distinctive word with a
watch-listed entity, so a screening hit in a clean dataset can only be a false positive of the screener.
All names are invented; any likeness to a real company is accidental.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from pypinyin import lazy_pinyin

BRANDS = (
    "Hongda", "Jinyuan", "Huaxing", "Zhongjin", "Ruida", "Tianli", "Shengtai", "Yongxing", "Dingsheng",
    "Hengyuan", "Fuda", "Kaixin", "Lianfa", "Minghui", "Taifeng", "Xiangyu", "Jiahe", "Baoli", "Guangtai",
    "Longhai", "Zhenxing", "Huachang", "Dongfang", "Jinlong", "Ruifeng", "Xinyuan", "Haoyun", "Jintai",
    "Changsheng", "Yuhua", "Anda", "Chenguang", "Fengyuan", "Guoxin", "Hexin", "Jiayi", "Kangda", "Lixin",
    "Meihua", "Nanfang", "Pengcheng", "Qiangsheng", "Shunda", "Tongda", "Weiye", "Xingwang", "Yida", "Zhongtai",
)  # fmt: skip

STAGE_SECTORS = {
    "trader": ("Import & Export", "International Trading", "Supply Chain", "Metals Trading"),
    "manufacturer": ("Electronic Materials", "Magnetic Materials", "Battery Materials", "Hard Alloy", "Optics"),
}

_FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "JP": (("Kanto", "Sanwa", "Hokuriku", "Tohoku", "Chubu", "Kyowa", "Nisshin", "Setouchi", "Kansai", "Shinano"),
           ("Electronic Materials", "Metal Industries", "Chemical", "Optical", "Rare Metals"), ("Co., Ltd.", "K.K.")),
    "KR": (("Hanbit", "Daesung", "Seohae", "Namdo", "Hanul", "Donghae", "Gyeongin"),
           ("Materials", "Electronics", "Metal", "Chemical"), ("Co., Ltd.", "Corp.")),
    "DE": (("Rheinland", "Elbtal", "Nordsee", "Sachsen", "Bodensee", "Harz", "Isar", "Weser"),
           ("Halbleitermaterialien", "Metallhandel", "Werkstoffe", "Hartmetall", "Optik"), ("GmbH", "AG")),
    "US": (("Allegheny Ridge", "Cascade", "Great Lakes", "Piedmont", "Sierra", "Mesa", "Hudson Valley"),
           ("Materials", "Metals", "Photonics", "Technologies"), ("Inc.", "LLC")),
    "NL": (("Zeeland", "Maasvlakte", "Veluwe", "Amstel"), ("Metals", "Trading", "Materials"), ("B.V.",)),
    "BE": (("Schelde", "Ardennes", "Kempen"), ("Metals", "Chemicals"), ("NV",)),
    "FR": (("Rhone", "Loire", "Vosges", "Provence"), ("Materiaux", "Metaux", "Optique"), ("SAS",)),
    "GB": (("Pennine", "Severn", "Thames", "Cotswold"), ("Materials", "Metals", "Alloys"), ("Ltd",)),
    "IN": (("Deccan", "Narmada", "Konkan", "Ganga"), ("Alloys", "Chemicals", "Metals"), ("Pvt. Ltd.",)),
    "VN": (("Song Hong", "Mekong", "Hai Phong", "Dong Nai"), ("Materials", "Metals"), ("JSC", "Co., Ltd.")),
    "TH": (("Chao Phraya", "Siam Eastern", "Rayong"), ("Materials", "Industries"), ("Co., Ltd.",)),
    "SG": (("Raffles", "Jurong", "Tuas"), ("Metals", "Materials"), ("Pte. Ltd.",)),
    "AT": (("Tirol", "Steiermark", "Donau"), ("Hartmetall", "Metallwerk"), ("GmbH",)),
    "PL": (("Wisla", "Mazowsze", "Slask"), ("Materialy", "Chemia"), ("Sp. z o.o.",)),
    "SE": (("Norrland", "Bergslagen", "Skane"), ("Materials", "Metall"), ("AB",)),
    "MY": (("Penang", "Johor", "Selangor"), ("Materials", "Industries"), ("Sdn. Bhd.",)),
    "ID": (("Nusantara", "Sulawesi", "Batam"), ("Industri", "Logam"), ("PT",)),
}  # fmt: skip


def domestic_name(rng: random.Random, city: str, brand: str, sector: str) -> str:
    return f"{city} {brand} {sector} Co., Ltd." if rng.random() < 0.8 else f"{brand} {sector} ({city}) Co., Ltd."


def foreign_names(rng: random.Random, country: str, n: int) -> list[str]:
    """`n` distinct consignees of one country, each with a stem of its own so none is a variant of another."""
    stems, sectors, forms = _FOREIGN[country]
    picked = rng.sample(stems, min(n, len(stems)))
    out = []
    for stem in picked:
        form = rng.choice(forms)
        name = f"{stem} {rng.choice(sectors)} {form}"
        out.append(f"{form} {stem} {rng.choice(sectors)}" if form == "PT" else name)
    return out


@dataclass(frozen=True)
class Listed:
    """A watch-listed legal entity as OpenSanctions would publish it."""

    ident: str
    name: str
    country: str  # ISO 3166-1 alpha-2, lower case as in FollowTheMoney
    aliases: tuple[str, ...] = ()
    chinese: str | None = None  # the name in Chinese characters, when the entity has one


# Invented entities in the places where diversion of controlled metals is documented (Russia's military
# procurement, Iran's, and the Hong Kong / UAE / Türkiye / Central Asian transshipment hubs).
LISTED: tuple[Listed, ...] = (
    Listed("NK-arkt01", "Arktika Tekhnologii LLC", "ru", ("OOO Arktika Tekhnologii",)),
    Listed("NK-ural02", "Ural Spetssplav JSC", "ru", ("AO Ural Spetssplav",)),
    Listed("NK-volg03", "Volga Elektronika Postavka LLC", "ru"),
    Listed("NK-balt04", "Baltkomponent Trade House LLC", "ru"),
    Listed("NK-sibr05", "Sibirsky Zavod Tsvetmet JSC", "ru"),
    Listed("NK-pars06", "Pars Kavir Sanat Company", "ir", ("Kavir Sanat Pars Co.",)),
    Listed("NK-zagr07", "Zagros Pishro Fanavar Company", "ir"),
    Listed("NK-gulf08", "Gulf Horizon General Trading LLC", "ae"),
    Listed("NK-falc09", "Falconridge Procurement FZE", "ae"),
    Listed("NK-anat10", "Anatolia Kuzey Dis Ticaret Limited Sirketi", "tr"),
    Listed("NK-tien11", "Tien Shan Cargo Logistics LLC", "kg"),
    Listed("NK-minsk12", "Minsk Optoelektron OJSC", "by"),
    Listed("NK-xuhui13", "Xuhui Trading Co., Limited", "hk", (), "旭辉贸易有限公司"),
    Listed("NK-boyua14", "Boyuan Electronic Technology Co., Limited", "hk", (), "博远电子科技有限公司"),
    Listed("NK-hongx15", "Hongxin International Logistics Limited", "hk", (), "泓信国际物流有限公司"),
    Listed("NK-zhrui16", "Zhongrui Precision Devices Co., Limited", "hk", (), "中睿精密器件有限公司"),
    Listed("NK-huatu17", "Huatuo Supply Chain Management Co., Limited", "hk", (), "华拓供应链管理有限公司"),
)

_LEGAL_SWAPS = (
    ("Limited Liability Company", "LLC"), ("LLC", "Limited Liability Company"), ("JSC", "Joint Stock Company"),
    ("OJSC", "Open Joint-Stock Company"), ("Company", "Co."), ("Co., Limited", "Company Ltd"),
    ("FZE", "Free Zone Establishment"), ("Limited Sirketi", "Ltd. Sti."), ("Limited", "Ltd."),
)  # fmt: skip
_ABBREVIATIONS = (
    ("International", "Intl."), ("Technology", "Tech."), ("Technologii", "Tekh."), ("Trading", "Trdg"),
    ("General", "Gen."), ("Electronic", "Elec."), ("Logistics", "Log."), ("Management", "Mgmt"),
    ("Procurement", "Procure."), ("Precision", "Prec."), ("Trade House", "TH"),
)  # fmt: skip
_LEGAL_WORDS = {"LLC", "JSC", "OJSC", "FZE", "Company", "Co.,", "Limited", "Ltd.", "Sirketi", "Co."}


def variant(rng: random.Random, entity: Listed, how: str) -> tuple[str, str]:
    """A spelling of `entity` a screener must still recognise, and the evasion technique actually applied
    (`how` when the name lends itself to it, else word order)."""
    name = entity.name
    if how == "pinyin" and entity.chinese:
        syllables = lazy_pinyin(entity.chinese)
        words = ["".join(syllables[i : i + 2]).capitalize() for i in range(0, len(syllables), 2)]
        return (" ".join(words) if rng.random() < 0.5 else " ".join(words).upper()), how
    if how == "legal_form":
        for old, new in _LEGAL_SWAPS:
            word = re.compile(rf"(?<![\w.]){re.escape(old)}(?![\w])")  # whole words: JSC is not in OJSC
            if word.search(name):
                return word.sub(new, name, count=1), how
    if how == "abbreviation":
        for old, new in _ABBREVIATIONS:
            if old in name:
                return name.replace(old, new, 1).upper(), how
    # word order: the distinctive words rotated, the legal form left at the end
    words = name.split()
    tail = [w for w in words if w in _LEGAL_WORDS]
    core = [w for w in words if w not in _LEGAL_WORDS]
    core = core[1:] + core[:1] if len(core) > 1 else core
    return " ".join(core + tail), "word_order"


VARIANT_KINDS = ("legal_form", "abbreviation", "word_order", "pinyin")


def watchlist_entry(entity: Listed, first_seen: str) -> dict[str, object]:
    """One FollowTheMoney entity line, shaped like OpenSanctions' `entities.ftm.json` export."""
    aliases = list(entity.aliases) + ([entity.chinese] if entity.chinese else [])
    dataset = {"ru": "us_ofac_sdn", "ir": "us_ofac_sdn", "by": "eu_fsf", "hk": "us_bis_entity", "ae": "us_ofac_sdn"}
    return {
        "id": entity.ident,
        "caption": entity.name,
        "schema": "Company",
        "properties": {"name": [entity.name], "alias": aliases, "country": [entity.country]},
        "referents": [],
        "datasets": [dataset.get(entity.country, "gb_hmt_sanctions")],
        "first_seen": first_seen,
        "last_seen": first_seen,
        "target": True,
    }
