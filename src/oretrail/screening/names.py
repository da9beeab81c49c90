"""Name normalisation for watch-list screening.

Screeners are defeated less by spelling than by form: the same company appears as "Apex Rare Metals Co.,
Ltd.", "APEX RARE METALS COMPANY LIMITED", "Rare Metals (Apex) Ltd" or "北京新星稀土有限公司" /
"Xinxing Rare Earth (Beijing) Co., Ltd.". This module reduces each name to one or more token tuples in a
canonical vocabulary so that those differences vanish before any fuzzy comparison, and leaves the rest
(spelling, spacing of pinyin, dropped words) to the scorer in `matcher`, which knows token rarity.

Canonical forms: ASCII in every script (Cyrillic, Greek, Arabic, Hangul, kana... transliterated by rigour
and anyascii, two readings where the systems differ: "ООО «Тяжхимметалл»" is "tyazhhimmetall" and
"tyazhkhimmetall"), English singular words ("metals" -> "metal"), abbreviations expanded ("INTL" ->
"international", "COMM" -> "communication"), legal forms of every jurisdiction (rigour's ISO 20275 based
database, plus the forms listed here) and stop words dropped, Chinese characters turned into pinyin
(tone-less, "ü" as "u") with common business words translated. No ICU is called: see docs/screening.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii
from pypinyin import lazy_pinyin
from pypinyin.contrib.tone_convert import to_normal
from pypinyin.pinyin_dict import pinyin_dict
from rigour.names.org_types import remove_org_types
from rigour.names.tokenize import tokenize_name
from rigour.text.scripts import text_scripts
from rigour.text.translit import maybe_ascii

from oretrail.limits import MAX_NAME_CHARS

# --- vocabulary ----------------------------------------------------------------------------------------

# Legal forms. The ISO 20275 forms of every jurisdiction, in every script ("Aktiengesellschaft", "ООО",
# "Sp. z o.o.", "주식회사", "Limited Şirketi"...), come from rigour's org-types database
# (`rigour.names.org_types`, maintained by OpenSanctions). What it leaves in, because they are not legal
# forms in ISO 20275's sense or are romanisations of Chinese and Japanese ones, is listed here and removed
# wherever it stands.
_LEGAL_ANYWHERE: frozenset[tuple[str, ...]] = frozenset(
    tuple(form.split())
    for form in (
        "co ltd",
        "co limited",
        "company limited",
        "company ltd",
        "limited company",
        "private limited",
        "company",
        "co",
        "corporation",
        "corp",
        "incorporated",
        "gufen youxian gongsi",
        "youxian zeren gongsi",
        "youxian gongsi",
        "kabushiki kaisha",
        "kabushiki gaisha",
        "yugen kaisha",
        "godo kaisha",
        "sp zoo",
        "publ",
        "allmennaksjeselskap",
        "aksjeselskap",
        "sab de cv",
        "sa de cv",
        "s de rl de cv",
        "anonim sirketi",
        "zrt",
        "nyrt",
        "compania",
        "companhia",
        "state corporation",
        "goskorporatsiya",
        "gosudarstvennaya korporatsiya",
        "free zone establishment",
        "free zone company",
        "sirketi",
        "sti",
    )
)
# Short forms that are also initials or words ("AB Metals", "AS Trading", Greek "A.E." after
# transliteration): removed only at the ends.
_LEGAL_AT_EDGES: frozenset[str] = frozenset(
    {"ag", "sa", "ab", "as", "oy", "nv", "bv", "kk", "pt", "ad", "se", "kg", "lp", "est", "tov", "pao", "ae", "epe",
     "ike", "ltd", "llc", "sarl", "tbk", "pte", "pvt", "private", "plc", "inc", "mbh", "gmbh", "asa", "tas", "sab",
     "anonim"}
)  # fmt: skip
_MAX_LEGAL_LEN = max(len(form) for form in _LEGAL_ANYWHERE)
# Words for "company" in scripts whose legal forms rigour does not list; dropped before transliteration.
_NATIVE_LEGAL: frozenset[str] = frozenset({"شركة", "شركه", "госкорпорация"})

_STOP_WORDS: frozenset[str] = frozenset(
    {"and", "the", "of", "und", "et", "de", "der", "des", "la", "le", "for", "ve", "y", "e", "i", "del", "di"}
)
# Stop words that are also pinyin syllables (德 de, 乐 le, 拉 la): kept between pinyin, as in "Qingdao De Kai".
_PINYIN_STOP_WORDS: frozenset[str] = frozenset({"de", "la", "le"})

# Abbreviation -> canonical tokens. The canonical form is the singular full English word, because that is
# what the full spellings reduce to after plural stripping ("Communications" -> "communication").
_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "comm": ("communication",),
    "comms": ("communication",),
    "commun": ("communication",),
    "telecom": ("telecommunication",),
    "grp": ("group",),
    "intl": ("international",),
    "internat": ("international",),
    "tech": ("technology",),
    "techn": ("technology",),
    "technol": ("technology",),
    "hitech": ("high", "technology"),
    "hightech": ("high", "technology"),
    "hi": ("high",),
    "ind": ("industry",),
    "inds": ("industry",),
    "indus": ("industry",),
    "industrial": ("industry",),
    "mfg": ("manufacturing",),
    "mfr": ("manufacturing",),
    "manuf": ("manufacturing",),
    "manufacture": ("manufacturing",),
    "hldg": ("holding",),
    "hldgs": ("holding",),
    "trdg": ("trading",),
    "trade": ("trading",),
    "elec": ("electronic",),
    "electr": ("electronic",),
    "matl": ("material",),
    "matls": ("material",),
    "mtl": ("metal",),
    "mtls": ("metal",),
    "chem": ("chemical",),
    "dev": ("development",),
    "devt": ("development",),
    "invest": ("investment",),
    "inv": ("investment",),
    "imp": ("import",),
    "exp": ("export",),
    "ie": ("import", "export"),
    "impexp": ("import", "export"),
    "mgmt": ("management",),
    "svc": ("service",),
    "svcs": ("service",),
    "sys": ("system",),
    "eng": ("engineering",),
    "engg": ("engineering",),
    "natl": ("national",),
    "ent": ("enterprise",),
    "ents": ("enterprise",),
    "equip": ("equipment",),
    "sci": ("science",),
    "scientific": ("science",),
    "hk": ("hong", "kong"),
    "inst": ("institute",),
    "semicon": ("semiconductor",),
    "log": ("logistic",),
    "logist": ("logistic",),
    "prec": ("precision",),
    "gen": ("general",),
    "genl": ("general",),
    "procure": ("procurement",),
    "th": ("trading", "house"),  # Trade House (Torgovy Dom), common in CIS company names
    # Russian transliterations of "technology", and their abbreviation.
    "tekh": ("technology",),
    "tekhnologii": ("technology",),
    "tekhnologiya": ("technology",),
    "tekhnologiy": ("technology",),
    "tehnologii": ("technology",),
    "tehnologiya": ("technology",),
    "tehnologiy": ("technology",),
}

# Chinese legal forms and administrative suffixes (市 city, 省 province) that romanised names leave out.
_CJK_DROP: tuple[str, ...] = (
    "股份有限公司",
    "株式会社",
    "有限会社",
    "有限责任公司",
    "有限公司",
    "分公司",
    "总公司",
    "公司",
    "自治区",
    "省",
    "市",
)
# Business words translated the way romanised names render them; everything else is transliterated.
_CJK_GLOSSARY: dict[str, tuple[str, ...]] = {
    "稀土": ("rare", "earth"),
    "稀有金属": ("rare", "metal"),
    "有色金属": ("nonferrous", "metal"),
    "新材料": ("new", "material"),
    "材料": ("material",),
    "磁材": ("magnetic", "material"),
    "高科技": ("high", "technology"),
    "高新技术": ("high", "new", "technology"),
    "科技": ("technology",),
    "技术": ("technology",),
    "商贸": ("trading",),
    "贸易": ("trading",),
    "国际": ("international",),
    "集团": ("group",),
    "实业": ("industry",),
    "工业": ("industry",),
    "金属": ("metal",),
    "矿业": ("mining",),
    "矿产": ("mineral",),
    "电子": ("electronic",),
    "进出口": ("import", "export"),
    "化工": ("chemical",),
    "发展": ("development",),
    "开发": ("development",),
    "投资": ("investment",),
    "控股": ("holding",),
    "制造": ("manufacturing",),
    "新能源": ("new", "energy"),
    "能源": ("energy",),
    "通信": ("communication",),
    "通讯": ("communication",),
    "半导体": ("semiconductor",),
    "光电": ("optoelectronic",),
    "精密": ("precision",),
    "物流": ("logistic",),
    "供应链": ("supply", "chain"),
    "香港": ("hong", "kong"),
    "中国": ("china",),
    "资源": ("resource",),
    "环球": ("global",),
    "全球": ("global",),
    "设备": ("equipment",),
    "工程": ("engineering",),
    "机械": ("machinery",),
    "钨业": ("tungsten", "industry"),
    "锗业": ("germanium", "industry"),
    "镓业": ("gallium", "industry"),
    "锑业": ("antimony", "industry"),
    "钨": ("tungsten",),
    "锑": ("antimony",),
    "镓": ("gallium",),
    "锗": ("germanium",),
    "石墨": ("graphite",),
}
# Traditional forms of the characters above, so Hong Kong and Taiwan spellings (電子, 貿易, 有限責任公司)
# read the same; the pinyin of the rest is the same in either script.
_TRADITIONAL = str.maketrans(
    "电贸际国团实业矿属进资发开制导体术责总讯设备机钨锑镓锗环应链产兴区",
    "電貿際國團實業礦屬進資發開製導體術責總訊設備機鎢銻鎵鍺環應鏈產興區",
)
_SIMPLIFIED_LEXICON: dict[str, tuple[str, ...]] = {**{w: () for w in _CJK_DROP}, **_CJK_GLOSSARY}
_CJK_LEXICON: dict[str, tuple[str, ...]] = {
    **_SIMPLIFIED_LEXICON,
    **{w.translate(_TRADITIONAL): t for w, t in _SIMPLIFIED_LEXICON.items()},
}
# Glossary words whose pinyin is read as the English word when a name is written in pinyin ("Xitu" is rare
# earth, "Maoyi" trading). Words whose pinyin is also a common trade name (通信 "tongxin" = 同心, 钨 "wu")
# are left out: there the pinyin stays a name.
_PINYIN_GLOSSED: tuple[str, ...] = (
    "中国", "稀土", "稀有金属", "有色金属", "新材料", "材料", "高科技", "科技", "贸易", "商贸", "国际", "集团",
    "实业", "电子", "进出口", "化工", "投资", "控股", "矿业", "金属", "半导体", "物流", "供应链", "香港",
)  # fmt: skip
_CJK_MAX_WORD = max(len(w) for w in _CJK_LEXICON)

# Words that name a kind of business, a place or a corporate structure rather than a company. Their weight
# in the scorer is capped whatever their rarity in the list, so a short list (or a list that happens to
# contain few trading houses) cannot make "International Trading" alone look like a match.
STRUCTURE_WORDS: frozenset[str] = frozenset(
    {"group", "holding", "enterprise", "international", "global", "branch", "firm", "partner", "associate"}
)
GENERIC_WORDS: frozenset[str] = frozenset(
    {
        "technology", "trading", "industry", "material", "metal", "mining", "mineral", "resource",
        "electronic", "electric", "communication", "telecommunication", "development", "investment",
        "import", "export", "chemical", "manufacturing", "engineering", "equipment", "machinery",
        "logistic", "supply", "chain", "service", "system", "science", "research", "energy", "new",
        "high", "advanced", "precision", "semiconductor", "optoelectronic", "rare", "earth", "nonferrous",
        "magnetic", "product", "commercial", "commerce", "management", "solution", "national", "general",
        "china", "hong", "kong", "asia", "pacific", "europe", "east", "west", "north", "south", "central",
        "beijing", "shanghai", "shenzhen", "guangzhou", "tianjin", "chongqing", "hangzhou", "nanjing",
        "wuhan", "changsha", "ganzhou", "baotou", "jiangxi", "hunan", "guangdong", "guangxi", "yunnan",
        "guizhou", "sichuan", "jiangsu", "zhejiang", "shandong", "fujian", "xiamen", "ningbo", "suzhou",
        "xian", "chengdu", "kunming", "nanchang", "dongguan", "foshan", "qingdao", "dalian", "hefei",
        "gallium", "germanium", "tungsten", "antimony", "graphite", "indium", "bismuth", "tellurium",
        "molybdenum", "dysprosium", "terbium", "component", "device", "instrument", "fine", "special",
        "united", "first", "star", "golden", "union", "world", "trust", "capital", "partner", "venture",
    }
)  # fmt: skip

_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SPLIT_RE = re.compile(r"[^0-9a-z]+")
# Japanese names mix kana with kanji; their kanji are read by anyascii (in Mandarin: a known limit, as no
# offline Japanese reading dictionary is installed), and their legal forms removed before it.
_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_JAPANESE_LEGAL_FORMS: tuple[str, ...] = ("株式会社", "有限会社", "合同会社", "合資会社", "合名会社")


# --- pinyin ------------------------------------------------------------------------------------------


def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable pypinyin knows, minus the bare interjections (m, n, ng, hm...)."""
    found: set[str] = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            plain = _fold(to_normal(reading, v_to_u=True))
            if plain.isalpha() and (len(plain) > 1 or plain in {"a", "e", "o"}):
                found.add(plain)
    return frozenset(found - {"hm", "hng", "ng", "m", "n"})


def _fold(text: str) -> str:
    """Lower-case ASCII skeleton: accents dropped, so "Société" and "SOCIETE" agree, and "lü" is "lu"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


PINYIN_SYLLABLES: frozenset[str] = _syllables()
_MAX_SYLLABLE = max(len(s) for s in PINYIN_SYLLABLES)


@lru_cache(maxsize=65536)
def pinyin_split(word: str) -> tuple[str, ...] | None:
    """Split a romanised word into pinyin syllables ("zhongguo" -> zhong, guo), or None if it is not pinyin.

    Fewest syllables wins, then the longer first syllable, so the same letters always split the same way
    whether they arrived as "Zhongguo", "Zhong Guo" or 中国.
    """
    n = len(word)
    if n == 0 or not word.isalpha():
        return None
    best: list[tuple[int, tuple[str, ...]] | None] = [None] * (n + 1)
    best[n] = (0, ())
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + _MAX_SYLLABLE), i, -1):
            rest = best[j]
            if rest is not None and word[i:j] in PINYIN_SYLLABLES:
                candidate = (rest[0] + 1, (word[i:j], *rest[1]))
                current = best[i]
                if current is None or candidate[0] < current[0]:
                    best[i] = candidate
    head = best[0]
    return head[1] if head is not None else None


def is_pinyin(word: str) -> bool:
    """Whether a token reads as pinyin: such tokens are compared exactly, since pinyin is a deterministic
    romanisation and a one-letter difference ("xinhua"/"xinhuo") is another company, not a typo."""
    return pinyin_split(word) is not None


def _to_pinyin(hanzi: str) -> str:
    """Concatenated toneless pinyin of a run of characters; pypinyin's phrase table picks the readings."""
    return "".join(_fold(s) for s in lazy_pinyin(hanzi, v_to_u=True))


# --- normalisation -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameForm:
    """One canonical reading of a name: its tokens, and whether it came from Chinese characters."""

    tokens: tuple[str, ...]
    from_hanzi: bool


_PINYIN_GLOSSARY: dict[str, tuple[str, ...]] = {_to_pinyin(w): _CJK_GLOSSARY[w] for w in _PINYIN_GLOSSED}
_PINYIN_GLOSSED_ANY_SCRIPT = frozenset(_PINYIN_GLOSSED) | {w.translate(_TRADITIONAL) for w in _PINYIN_GLOSSED}
_MAX_GLOSSED_SYLLABLES = 4


def _gloss_pinyin(tokens: list[str]) -> list[str]:
    """Read pinyin business words as English, however spaced: "Xitu", "Xi Tu" and 稀土 are rare earth."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_MAX_GLOSSED_SYLLABLES, len(tokens) - i), 0, -1):
            english = _PINYIN_GLOSSARY.get("".join(tokens[i : i + size]))
            if english is not None:
                out.extend(english)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _singular(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is", "as", "os", "ys")):
        return token[:-1]
    return token


def _strip_legal(tokens: list[str]) -> list[str]:
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(_MAX_LEGAL_LEN, len(tokens) - i), 0, -1):
            if tuple(tokens[i : i + size]) in _LEGAL_ANYWHERE:
                i += size
                break
        else:
            kept.append(tokens[i])
            i += 1
    while kept and (
        kept[-1] in _LEGAL_AT_EDGES or (len(kept) > 1 and kept[-1] in _STOP_WORDS and kept[-2] in _LEGAL_AT_EDGES)
    ):
        kept.pop()  # "S.A.B. de C.V." leaves "sab de" once rigour has taken "de C.V."
    while kept and kept[0] in _LEGAL_AT_EDGES:
        kept.pop(0)
    return kept


def _join_initials(tokens: list[str]) -> list[str]:
    """Initials written with dots agree with initials without: "A.B.C. Trading" is "ABC Trading"."""
    joined: list[str] = []
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if run:
            joined.append("".join(run))
            run = []
        if token:
            joined.append(token)
    return joined


def _canonical(raw: list[str]) -> list[str]:
    """Our vocabulary over ASCII tokens: initials joined, legal forms, stop words dropped, pinyin business
    words glossed, abbreviations expanded, plurals folded."""
    raw = _join_initials(raw)
    stripped = _strip_legal(raw)
    if _too_little_left(stripped):
        stripped = raw
    stripped = _gloss_pinyin(stripped)
    tokens: list[str] = []
    for position, token in enumerate(stripped):
        if token in _STOP_WORDS and not (
            token in _PINYIN_STOP_WORDS
            and any(is_pinyin(n) for n in stripped[max(0, position - 1) : position + 2] if n != token)
        ):
            continue
        expanded = _ABBREVIATIONS.get(token)
        if expanded is None:
            singular = _singular(token)
            expanded = _ABBREVIATIONS.get(singular, (singular,))
        tokens.extend(expanded)
    return tokens or stripped


def _without_org_types(text: str) -> str:
    """`text` (tokenised, case-folded) without the legal forms rigour knows, unless that leaves nothing or
    only generic words: "AB Metals" is a company called AB, not a company called Metals."""
    kept = remove_org_types(text, replacement=" ").split()
    return text if _too_little_left(kept) else " ".join(kept)


def _too_little_left(tokens: list[str]) -> bool:
    """Whether removing legal forms left nothing of a name, or one generic word: "AB Metals" is a company
    called AB, not a company called Metals, and "Co., Ltd." alone is all the name there is."""
    if not tokens:
        return True
    if len(tokens) > 1:
        return False
    word = _singular(tokens[0])
    return word in GENERIC_WORDS or word in STRUCTURE_WORDS


def _ascii_readings(text: str) -> list[str]:
    """The ASCII spellings of a (tokenised, case-folded) stretch of text in any script but Han.

    Two transliterations when the text is not Latin, because lists and trade documents use more than one
    convention: rigour's (`maybe_ascii`, for Latin, Cyrillic, Greek, Armenian, Georgian and Hangul: х as
    "h", "Tyazhhimmetall") and anyascii's, closer to BGN/PCGN and covering every other script as well
    (Arabic, Hebrew, kana, Devanagari, Thai...: х as "kh", "Tyazhkhimmetall"). Neither calls ICU.
    """
    if text.isascii():
        return [text]
    rigour_reading = maybe_ascii(text)
    readings = [rigour_reading if rigour_reading.isascii() else anyascii(rigour_reading)]
    if not all(script == "Latin" for script in text_scripts(text)):
        readings.append(anyascii(text))
    return list(dict.fromkeys(_fold(r) for r in readings))


def token_readings(text: str) -> list[list[str]]:
    """Canonical token lists of a name, or of a stretch of one that is not in Chinese characters: one per
    transliteration (see `_ascii_readings`), legal forms of every jurisdiction and script removed."""
    native = _without_org_types(" ".join(t for t in tokenize_name(text) if t not in _NATIVE_LEGAL))
    out: list[list[str]] = []
    for reading in _ascii_readings(native):
        raw = [t for t in _SPLIT_RE.split(_without_org_types(reading)) if t]
        tokens = _canonical(raw)
        if tokens and tokens not in out:
            out.append(tokens)
    return out


# Spellings that differ between romanisation systems (Russian х as kh/h/x, ж as zh/j, ц as ts/c/tz, щ as
# shch/sch, я as ya/ja/ia, German ü as ue/u) reduced to one, so that two transliterations of one word are
# at most one edit apart. Applied only to compare and block words that may be misspelt, never to index
# exact tokens.
_SKELETON_RULES: tuple[tuple[str, str], ...] = (
    ("shch", "s"), ("sch", "s"), ("sh", "s"), ("tch", "c"), ("ch", "c"), ("dzh", "j"), ("zh", "j"), ("kh", "h"),
    ("ks", "x"), ("tz", "c"), ("ts", "c"), ("ph", "f"), ("ck", "k"), ("ya", "a"), ("ja", "a"), ("ia", "a"),
    ("yu", "u"), ("ju", "u"), ("iu", "u"), ("ue", "u"), ("oe", "o"), ("ae", "a"), ("ou", "u"), ("y", "i"),
    ("w", "v"), ("j", "i"),
)  # fmt: skip
_DOUBLE_RE = re.compile(r"(.)\1+")


@lru_cache(maxsize=262144)
def skeleton(token: str) -> str:
    """A token's letters with romanisation variants folded and doubled letters single: "Tyazhkhimmetall",
    "Tiazhhimmetal" and "Tjazhkhimmetall" all read "taihimetal"."""
    for old, new in _SKELETON_RULES:
        token = token.replace(old, new)
    return _DOUBLE_RE.sub(r"\1", token)


def latin_tokens(text: str) -> list[str]:
    """The first canonical reading of a name (or a stretch of one that is not in Chinese characters)."""
    readings = token_readings(text)
    return readings[0] if readings else []


def _cjk_words(chunk: str) -> list[tuple[bool, str]]:
    """Backward maximum matching of lexicon words in a run of characters: (is lexicon word, text) pieces.

    Matching from the end, as Chinese segmenters commonly do, because business words are suffixes: forward
    matching reads 成都永光电子 as 永 + 光电 + 子 instead of 永光 + 电子.
    """
    pieces: list[tuple[bool, str]] = []
    end = len(chunk)
    while end > 0:
        for size in range(min(_CJK_MAX_WORD, end), 0, -1):
            if chunk[end - size : end] in _CJK_LEXICON:
                pieces.append((True, chunk[end - size : end]))
                end -= size
                break
        else:
            if pieces and not pieces[-1][0]:
                pieces[-1] = (False, chunk[end - 1] + pieces[-1][1])
            else:
                pieces.append((False, chunk[end - 1]))
            end -= 1
    return pieces[::-1]


def _hanzi_forms(text: str) -> list[NameForm]:
    """Two readings of a Chinese name: business words translated, and only those translated that a pinyin
    spelling would also be read as English (see `_PINYIN_GLOSSED`), the rest transliterated.

    "北京新星稀土有限公司" is rendered abroad as "Beijing Xinxing Rare Earth Co., Ltd." and as "Beijing
    Xinxing Xitu Youxian Gongsi"; a run of characters stays one token ("beijingxinxing") because only the
    other name can tell where its words split, and the scorer splits it against that name.
    """
    if len(text) in (2, 3) and all(_CJK_RE.match(ch) for ch in text) and not any(word in text for word in _CJK_LEXICON):
        # A bare two- or three-character name is a person's: surname, then given name. Splitting them keeps
        # "Li Guohua" (李国华) from covering 郭华丽 "guohuali"; a company so short still matches, since its
        # two syllables cover its pinyin word in order.
        return [NameForm((_to_pinyin(text[0]), _to_pinyin(text[1:])), True)]
    translated: list[str] = []
    mixed: list[str] = []
    pending = ""  # characters awaiting transliteration in the mixed reading
    for chunk in re.split(f"({_CJK_RE.pattern}+)", text):
        if not chunk:
            continue
        if not _CJK_RE.match(chunk):
            if pending:
                mixed.append(_to_pinyin(pending))
                pending = ""
            latin = latin_tokens(chunk) if chunk.strip() else []
            translated.extend(latin)
            mixed.extend(latin)
            continue
        for is_word, piece in _cjk_words(chunk):
            english = _CJK_LEXICON[piece] if is_word else ()
            translated.extend(english if is_word else (_to_pinyin(piece),))
            if is_word and (not english or piece in _PINYIN_GLOSSED_ANY_SCRIPT):
                if pending:
                    mixed.append(_to_pinyin(pending))
                    pending = ""
                mixed.extend(english)
            else:
                pending += piece
    if pending:
        mixed.append(_to_pinyin(pending))
    forms = [NameForm(tuple(translated), True)]
    if mixed != translated:
        forms.append(NameForm(tuple(mixed), True))
    return [f for f in forms if f.tokens]


@lru_cache(maxsize=262144)
def normalise(name: str) -> tuple[NameForm, ...]:
    """All canonical readings of a name; empty if nothing of it survives (a name made of legal forms).

    Only the first MAX_NAME_CHARS characters are read: no name is longer, and the cost of reading one (pinyin
    splitting above all) grows with the square of its length, so a 100,000-character "name" must not take
    the server's memory with it."""
    text = unicodedata.normalize("NFKC", name[:MAX_NAME_CHARS]).casefold()
    if _CJK_RE.search(text) and not _KANA_RE.search(text):
        return tuple(_hanzi_forms(text))
    if _KANA_RE.search(text):
        for form in _JAPANESE_LEGAL_FORMS:
            text = text.replace(form, " ")
    return tuple(NameForm(tuple(tokens), False) for tokens in token_readings(text))


def fold_name(name: str | None) -> str:
    """One comparable string per name, for rules that ask whether two documents name the same company
    (`licence.mismatch`): the first canonical reading's tokens, in order."""
    forms = normalise(name or "")
    return " ".join(forms[0].tokens) if forms else ""
