"""Labelled name pairs for screening: invented companies, written the ways trade documents write them.

LISTED is a small watch list (entity id -> its names, first the main name, then aliases). POSITIVE pairs
are (counterparty name, entity id) that must match; NEGATIVE pairs are near-misses of a different company
that must not match that entity. A trade name one letter away from a listed one ("Velmorra") is labelled a
variant: on the string alone it cannot be told from a misspelling meant to slip past the screen.
"""

from __future__ import annotations

LISTED: dict[str, tuple[str, ...]] = {
    "e-apex": ("Apex Materials GmbH",),
    "e-nova": ("Beijing Nova Textile Co., Ltd.",),
    "e-xinxing": ("北京新星稀土有限公司", "Beijing Xinxing Rare Earth Co., Ltd."),
    "e-huaxin": ("深圳市华信电子科技有限公司",),
    "e-jinlong": ("Zhongguo Jinlong Trading Co",),
    "e-velmora": ("Velmora International Trading LLC",),
    "e-kastrix": ("Kastrix Semiconductor Holdings Ltd",),
    "e-orvane": ("Orvane Communications Group Inc.",),
    "e-tellmark": ("Tellmark Industrial Manufacturing Corp.",),
    "e-hengtai": ("湖南恒泰锑业有限责任公司", "Hunan Hengtai Antimony Industry Co., Ltd."),
    "e-ruifeng": ("Ganzhou Ruifeng Tungsten Co., Ltd.",),
    "e-boyuan": ("江西博源新材料股份有限公司",),
    "e-sinoquart": ("Sinoquart Electronics Trading Company Limited", "SQ Elec Trading"),
    "e-delacroix": ("Société Delacroix Métaux Rares S.A.S.",),
    "e-marwick": ("Marwick & Doyle Mineral Resources PLC",),
    "e-baltis": ("Baltis Advanced Technologies OOO", "Балтис Передовые Технологии"),
    "e-kaiyuan": ("Xiamen Kaiyuan Import & Export Co., Ltd.",),
    "e-tianrun": ("天润光电（香港）有限公司", "Tianrun Optoelectronics (HK) Limited"),
    "e-quorra": ("Quorra Precision Instruments Pte Ltd",),
    "e-halvard": ("Halvard Gallium Holdings AG", "Halvard GaTech"),
    "e-yongsheng": ("Yongsheng Germanium Industry Group",),
    "e-zentrak": ("Zentrak Global Logistics FZE",),
    "e-lingding": ("Lingding Hi-Tech Magnetic Materials Co., Ltd.",),
    "e-oakridge": ("Oakridge Metal Powders Inc.",),
    "e-wang": ("王建华",),
    "e-corvin": ("Corvin Chemicals International Ltd.",),
    "e-shunda": ("广东顺达进出口贸易有限公司",),
    "e-meridal": ("Meridal Rare Metals Trading LLC",),
}

POSITIVE: list[tuple[str, str]] = [
    # legal forms
    ("Apex Materials", "e-apex"),
    ("APEX MATERIALS G.M.B.H.", "e-apex"),
    ("Beijing Nova Textile Company Limited", "e-nova"),
    ("Beijing Nova Textile Ltd", "e-nova"),
    ("Velmora International Trading L.L.C.", "e-velmora"),
    ("Kastrix Semiconductor Holdings Limited", "e-kastrix"),
    ("Orvane Communications Group Incorporated", "e-orvane"),
    ("Quorra Precision Instruments Private Limited", "e-quorra"),
    ("Halvard Gallium Holdings", "e-halvard"),
    ("Zentrak Global Logistics", "e-zentrak"),
    # abbreviations
    ("Orvane Comm Grp", "e-orvane"),
    ("ORVANE COMMS GROUP INC", "e-orvane"),
    ("Kastrix Semiconductor Hldgs Ltd", "e-kastrix"),
    ("Velmora Intl Trdg LLC", "e-velmora"),
    ("Tellmark Ind. Mfg. Corp", "e-tellmark"),
    ("Tellmark Industries Manufacturing Corporation", "e-tellmark"),
    ("Sinoquart Elec Trading Co Ltd", "e-sinoquart"),
    ("Lingding Hitech Magnetic Matls", "e-lingding"),
    ("Corvin Chem Intl Ltd", "e-corvin"),
    ("Xiamen Kaiyuan I/E Co Ltd", "e-kaiyuan"),
    # word order
    ("Materials Apex GmbH", "e-apex"),
    ("Trading Velmora International LLC", "e-velmora"),
    ("Ruifeng Tungsten (Ganzhou) Co., Ltd.", "e-ruifeng"),
    ("Nova Textile Beijing", "e-nova"),
    ("Doyle & Marwick Mineral Resources", "e-marwick"),
    # punctuation and case
    ("apex-materials gmbh", "e-apex"),
    ("KASTRIX SEMICONDUCTOR HOLDINGS, LTD.", "e-kastrix"),
    ("Marwick and Doyle Mineral Resources plc", "e-marwick"),
    ("Societe Delacroix Metaux Rares SAS", "e-delacroix"),
    ("Oakridge Metal-Powders, Inc", "e-oakridge"),
    # Chinese characters against pinyin and translations
    ("Xinxing Rare Earth (Beijing) Co., Ltd.", "e-xinxing"),
    ("Beijing Xinxing Xitu Youxian Gongsi", "e-xinxing"),
    ("Shenzhen Huaxin Electronic Technology Co., Ltd.", "e-huaxin"),
    ("Huaxin Electronics Technology (Shenzhen) Co Ltd", "e-huaxin"),
    ("Jiangxi Boyuan New Materials Co., Ltd.", "e-boyuan"),
    ("Hunan Hengtai Antimony Co Ltd", "e-hengtai"),
    ("Guangdong Shunda Import and Export Trading Co., Ltd.", "e-shunda"),
    ("Wang Jianhua", "e-wang"),
    ("中国金龙贸易有限公司", "e-jinlong"),
    ("深圳市華信電子科技有限公司", "e-huaxin"),
    # aliases
    ("Tianrun Optoelectronics Hong Kong Ltd", "e-tianrun"),
    ("天润光电(香港)有限公司", "e-tianrun"),
    ("Baltis Advanced Technology", "e-baltis"),
    ("SQ Elec Trading", "e-sinoquart"),
    ("Halvard GaTech", "e-halvard"),
    # transliteration spacing
    ("Zhong Guo Jin Long Trading", "e-jinlong"),
    ("Zhongguo Jin-Long Trdg Co", "e-jinlong"),
    ("Beijing Xin Xing Rare Earth", "e-xinxing"),
    ("Shen Zhen Hua Xin Electronic Tech", "e-huaxin"),
    ("Jianhua Wang", "e-wang"),
    ("Yong Sheng Germanium Ind Grp", "e-yongsheng"),
    ("Xia Men Kai Yuan Import Export", "e-kaiyuan"),
    # spelling variants
    ("Velmorra International Trading", "e-velmora"),
    ("Kastryx Semiconductor Holdings", "e-kastrix"),
    ("Merida Rare Metals Trading", "e-meridal"),  # one letter dropped: a misspelling, as far as a string can tell
]

NEGATIVE: list[tuple[str, str]] = [
    # one business word differs: a different company of the same owner family, or none at all
    ("Apex Metals GmbH", "e-apex"),
    ("Beijing Nova Tech Co., Ltd.", "e-nova"),
    ("Kastrix Trading Ltd", "e-kastrix"),
    ("Orvane Logistics Group", "e-orvane"),
    ("Tellmark Chemical Manufacturing Corp", "e-tellmark"),
    ("Oakridge Metal Coatings Inc", "e-oakridge"),
    ("Quorra Precision Optics Pte Ltd", "e-quorra"),
    ("Corvin Pharmaceuticals International Ltd", "e-corvin"),
    ("Zentrak Global Shipping FZE", "e-zentrak"),
    ("Meridal Rare Earth Trading LLC", "e-meridal"),
    ("Halvard Germanium Holdings AG", "e-halvard"),
    ("Yongsheng Gallium Industry Group", "e-yongsheng"),
    # only generic words in common
    ("Solvera International Trading LLC", "e-velmora"),
    ("Brightline Semiconductor Holdings Ltd", "e-kastrix"),
    ("Torvik Communications Group Inc.", "e-orvane"),
    ("Eastwind Industrial Manufacturing Corp.", "e-tellmark"),
    ("Greyfield Mineral Resources PLC", "e-marwick"),
    ("Ganzhou Tungsten Co., Ltd.", "e-ruifeng"),
    ("Xiamen Import & Export Co., Ltd.", "e-kaiyuan"),
    ("Global Logistics FZE", "e-zentrak"),
    ("International Trading LLC", "e-velmora"),
    ("Rare Metals Trading LLC", "e-meridal"),
    ("Advanced Technologies OOO", "e-baltis"),
    ("Shenzhen Electronic Technology Co., Ltd.", "e-huaxin"),
    # similar-looking trade names
    ("Apax Materials GmbH", "e-apex"),
    ("Kastrow Semiconductor Holdings", "e-kastrix"),
    ("Velmont International Trading", "e-velmora"),
    ("Tellford Industrial Manufacturing", "e-tellmark"),
    ("Oakfield Metal Powders Inc.", "e-oakridge"),
    ("Corwell Chemicals International", "e-corvin"),
    ("Quorum Precision Instruments", "e-quorra"),
    ("Marwick Mineral Resources PLC", "e-marwick"),
    # pinyin differing by one syllable, or syllables in another order
    ("Beijing Xinhua Rare Earth Co., Ltd.", "e-xinxing"),
    ("Shenzhen Xinhua Electronic Technology", "e-huaxin"),
    ("Shenzhen Huaxing Electronic Technology", "e-huaxin"),
    ("Zhongguo Jinlian Trading Co", "e-jinlong"),
    ("Hunan Hengda Antimony Industry", "e-hengtai"),
    ("Ganzhou Ruixing Tungsten Co., Ltd.", "e-ruifeng"),
    ("Jiangxi Boyang New Materials", "e-boyuan"),
    ("Xiamen Kaida Import & Export", "e-kaiyuan"),
    ("Wang Jianguo", "e-wang"),
    ("Tianyuan Optoelectronics (HK) Limited", "e-tianrun"),
    # Chinese characters of another company
    ("北京新华稀土有限公司", "e-xinxing"),
    ("深圳市华兴电子科技有限公司", "e-huaxin"),
    ("湖南恒达锑业有限责任公司", "e-hengtai"),
    ("广东顺发进出口贸易有限公司", "e-shunda"),
    ("王建国", "e-wang"),
    # the list's weak alias is no licence to match anything that contains it
    ("SQ Elec Trading Partners Lanka", "e-sinoquart"),
]
