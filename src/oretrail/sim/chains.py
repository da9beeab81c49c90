"""What the simulator knows about each mineral chain that the catalogue does not own.

The catalogue owns grades, HS codes, the physical recovery bound and the reference unit values; they are
read from it at run time. What lives here is industry practice: where each element is mined and refined,
how much one mining lot weighs, the recovery a real plant achieves (always well inside the catalogue's
bound), how long steps take, who buys and what for. Figures are rounded from public sources:

- USGS Mineral Commodity Summaries 2024/2025 (Ga, Ge, Sb, W, graphite, rare earths): producing provinces,
  plant sizes, market shares of importing countries.
- Ga: Bayer-liquor recovery of 10-25 % of the gallium in bauxite, refining 2N→4N yields 90-96 %
  (Frenzel et al., Resources Policy 2016; Lu et al., Hydrometallurgy 2017).
- Ge: Lincang (Yunnan) and Wulantuga (Inner Mongolia) lignites, Ge enriched 50-75 % into fly-ash/soot
  concentrate, chlorination-distillation 85-93 %, H₂ reduction and zone refining 92-97 % (Zhang et al.,
  Minerals Engineering 2020).
- Sb: Xikuangshan (Hunan) stibnite flotation 82-90 %, volatilisation-reduction smelting 88-93 %,
  re-oxidation to Sb₂O₃ 96-98.5 % (Anderson, Hydrometallurgy 2012; China Antimony Industry Yearbook).
- W: Ganzhou (Jiangxi) and Shizhuyuan (Hunan) wolframite/scheelite gravity-flotation 70-82 %, alkaline
  digestion to APT 94-97 % (Lassner & Schubert, Tungsten, 1999).
- Graphite: Heilongjiang and Inner Mongolia flake flotation 80-90 %, spheronisation yield 40-55 %
  (Benchmark Mineral Intelligence summaries; Jara et al., Minerals 2019).
- Dy/Tb: south-China ion-adsorption clays, in-situ leaching and precipitation 60-75 %, solvent-extraction
  separation 90-95 % (Yang et al., Resources Policy 2013; Moldoveanu & Papangelakis, Hydrometallurgy 2012).
"""

from __future__ import annotations

from dataclasses import dataclass

# Cities by province with their 6-digit administrative division codes (GB/T 2260), used for USCC region
# codes and enterprise names.
CITIES: dict[str, tuple[tuple[str, str], ...]] = {
    "CN-NM": (("Baotou", "150200"), ("Hohhot", "150100"), ("Xilinhot", "152502"), ("Ordos", "150600")),
    "CN-JX": (("Ganzhou", "360700"), ("Jiujiang", "360400"), ("Yichun", "360900"), ("Shangrao", "361100")),
    "CN-HN": (("Chenzhou", "431000"), ("Zhuzhou", "430200"), ("Hengyang", "430400"), ("Lengshuijiang", "431381")),
    "CN-GD": (("Meizhou", "441400"), ("Shaoguan", "440200"), ("Heyuan", "441600"), ("Shenzhen", "440300")),
    "CN-GX": (("Baise", "451000"), ("Hechi", "451200"), ("Hezhou", "451100"), ("Wuzhou", "450400")),
    "CN-GZ": (("Zunyi", "520300"), ("Guiyang", "520100"), ("Qingzhen", "520181")),
    "CN-YN": (("Lincang", "530900"), ("Kunming", "530100"), ("Wenshan", "532600"), ("Gejiu", "532501")),
    "CN-HL": (("Jixi", "230300"), ("Hegang", "230400"), ("Luobei", "230421")),
    "CN-FJ": (("Longyan", "350800"), ("Sanming", "350400"), ("Xiamen", "350200")),
    "CN-SD": (("Qingdao", "370200"), ("Laixi", "370285"), ("Pingdu", "370283")),
    "CN-HA": (("Zhengzhou", "410100"), ("Sanmenxia", "411200")),
    "CN-SX": (("Taiyuan", "140100"), ("Lvliang", "141100")),
    "CN-SH": (("Shanghai", "310115"),),
    "CN-BJ": (("Beijing", "110105"),),
    "CN-TJ": (("Tianjin", "120116"),),
    "CN-JS": (("Suzhou", "320500"), ("Wuxi", "320200"), ("Changzhou", "320400")),
    "CN-ZJ": (("Ningbo", "330200"), ("Hangzhou", "330100")),
    "CN-LN": (("Dalian", "210200"),),
}  # fmt: skip


@dataclass(frozen=True)
class Port:
    locode: str
    province: str
    customs: str  # 4-digit customs house code: first digits of the declaration number
    operator: str
    region: str  # operator's USCC region code


PORTS: dict[str, Port] = {
    p.locode: p
    for p in (
        Port("CNSHA", "CN-SH", "2248", "Shanghai Yangshan Container Terminal Co., Ltd.", "310115"),
        Port("CNPVG", "CN-SH", "2233", "Shanghai Pudong Airport Cargo Terminal Co., Ltd.", "310115"),
        Port("CNSZX", "CN-GD", "5316", "Shenzhen Shekou Container Terminals Ltd.", "440300"),
        Port("CNGZG", "CN-GD", "5141", "Guangzhou Nansha Port Logistics Co., Ltd.", "440100"),
        Port("CNNGB", "CN-ZJ", "3104", "Ningbo Beilun International Container Terminal Co., Ltd.", "330200"),
        Port("CNTSN", "CN-TJ", "0202", "Tianjin Port Container Terminal Co., Ltd.", "120116"),
        Port("CNQIN", "CN-SD", "4218", "Qingdao Qianwan Container Terminal Co., Ltd.", "370200"),
        Port("CNXMN", "CN-FJ", "3702", "Xiamen Haitian Container Terminal Co., Ltd.", "350200"),
        Port("CNDLC", "CN-LN", "0908", "Dalian Dagang Container Terminal Co., Ltd.", "210200"),
    )
}


@dataclass(frozen=True)
class Step:
    """One transformation: its output, the plant that makes it and what a real plant recovers."""

    output: str
    stage: str  # smelting | processing
    facility: str  # smelter | refinery | processor
    sector: str  # word in the operator's name
    recovery: tuple[float, float]  # element recovery achieved in practice
    provinces: tuple[str, ...]
    capacity_t: tuple[float, float]  # plant output per year, tonnes of product
    days: tuple[int, int] = (3, 20)  # from receipt of inputs to output


@dataclass(frozen=True)
class Chain:
    element: str
    ore: str
    sector: str
    mine_provinces: tuple[str, ...]
    mine_capacity_t: tuple[float, float]  # ore per year
    ore_lot_t: tuple[float, float]  # one mined lot
    lots_per_mining: tuple[int, int]
    steps: tuple[Step, ...]
    finals: tuple[tuple[int, float], ...]  # (number of steps done, weight): where a batch's product leaves
    share: float  # of all batches
    export_share: float  # of finished batches that are exported rather than sold at home
    markets: tuple[tuple[str, float], ...]  # destination country, weight
    end_uses: tuple[str, ...]
    ports: tuple[tuple[str, float], ...]
    descriptions: dict[str, str]  # customs description per exported material; {purity} is filled in
    cover_codes: tuple[tuple[str, str], ...]  # non-controlled codes a misdeclaring exporter hides behind
    manufacture: tuple[str, str, tuple[float, float]] | None = None  # input, output, recovery at the factory


CHAINS: tuple[Chain, ...] = (
    Chain(
        element="Ga", ore="ga.bauxite", sector="Aluminium",
        mine_provinces=("CN-GX", "CN-GZ", "CN-HA", "CN-SX"), mine_capacity_t=(8e5, 4e6),
        ore_lot_t=(3000, 9000), lots_per_mining=(1, 3),
        steps=(
            Step("ga.crude", "smelting", "refinery", "Alumina", (0.12, 0.22), ("CN-GX", "CN-GZ", "CN-HA", "CN-SX"),
                 (20, 80)),
            Step("ga.metal", "processing", "refinery", "Gallium", (0.90, 0.96), ("CN-GX", "CN-GZ", "CN-NM", "CN-HN"),
                 (10, 60), (5, 25)),
        ),
        finals=((2, 1.0),), share=0.12, export_share=0.55,
        markets=(("JP", 0.3), ("KR", 0.18), ("DE", 0.15), ("NL", 0.08), ("US", 0.1), ("GB", 0.05), ("FR", 0.06),
                 ("SG", 0.08)),
        end_uses=("GaAs wafer production", "GaN power device epitaxy", "NdFeB magnet alloying"),
        ports=(("CNPVG", 0.35), ("CNSHA", 0.3), ("CNSZX", 0.2), ("CNTSN", 0.15)),
        descriptions={"ga.metal": "gallium, unwrought, {purity}", "ga.crude": "gallium, crude, unwrought, {purity}"},
        cover_codes=(("8001100000", "tin, unwrought, not alloyed"), ("7601200000", "aluminium alloys, unwrought")),
        manufacture=("ga.metal", "ga.arsenide", (0.85, 0.93)),
    ),
    Chain(
        element="Ge", ore="ge.lignite", sector="Coal",
        mine_provinces=("CN-YN", "CN-NM"), mine_capacity_t=(3e5, 1.5e6),
        ore_lot_t=(1500, 4000), lots_per_mining=(1, 3),
        steps=(
            Step("ge.concentrate", "smelting", "smelter", "Germanium", (0.55, 0.72), ("CN-YN", "CN-NM"), (50, 300)),
            Step("ge.oxide", "processing", "refinery", "Germanium", (0.85, 0.92), ("CN-YN", "CN-NM", "CN-GD"),
                 (10, 60)),
            Step("ge.metal", "processing", "refinery", "Germanium", (0.92, 0.97), ("CN-YN", "CN-NM", "CN-GD"),
                 (8, 50), (5, 20)),
        ),
        finals=((2, 0.35), (3, 0.65)), share=0.08, export_share=0.5,
        markets=(("JP", 0.25), ("DE", 0.2), ("FR", 0.15), ("BE", 0.15), ("US", 0.1), ("KR", 0.15)),
        end_uses=("infrared optics", "optical fibre preforms", "space solar cell substrates"),
        ports=(("CNPVG", 0.4), ("CNSHA", 0.25), ("CNSZX", 0.35)),
        descriptions={"ge.metal": "germanium, unwrought, {purity}", "ge.oxide": "germanium dioxide, Ge {purity}"},
        cover_codes=(("2825909000", "other metal oxides"), ("8001100000", "tin, unwrought, not alloyed")),
        manufacture=None,
    ),
    Chain(
        element="Sb", ore="sb.ore", sector="Antimony",
        mine_provinces=("CN-HN", "CN-GX", "CN-GZ", "CN-YN"), mine_capacity_t=(5e4, 3e5),
        ore_lot_t=(150, 500), lots_per_mining=(1, 3),
        steps=(
            Step("sb.concentrate", "processing", "processor", "Mining", (0.82, 0.90), ("CN-HN", "CN-GX", "CN-GZ",
                 "CN-YN"), (5e3, 3e4)),
            Step("sb.metal", "smelting", "smelter", "Antimony", (0.88, 0.93), ("CN-HN", "CN-GX"), (5e3, 3e4)),
            Step("sb.oxide", "processing", "processor", "Antimony", (0.96, 0.985), ("CN-HN", "CN-GX", "CN-GD"),
                 (3e3, 2e4), (2, 10)),
        ),
        finals=((2, 0.35), (3, 0.65)), share=0.18, export_share=0.5,
        markets=(("JP", 0.18), ("KR", 0.12), ("US", 0.16), ("IN", 0.14), ("NL", 0.1), ("DE", 0.1), ("VN", 0.12),
                 ("TH", 0.08)),
        end_uses=("flame retardant masterbatch", "lead-acid battery grid alloys", "PET polymerisation catalyst"),
        ports=(("CNSZX", 0.3), ("CNGZG", 0.25), ("CNSHA", 0.25), ("CNNGB", 0.2)),
        descriptions={"sb.metal": "antimony, unwrought, {purity}", "sb.oxide": "antimony trioxide, Sb {purity}"},
        cover_codes=(("7801910000", "lead, unwrought, containing antimony"), ("2825909000", "other metal oxides")),
        manufacture=None,
    ),
    Chain(
        element="W", ore="w.ore", sector="Tungsten",
        mine_provinces=("CN-JX", "CN-HN", "CN-YN", "CN-FJ"), mine_capacity_t=(1e5, 6e5),
        ore_lot_t=(500, 1500), lots_per_mining=(1, 3),
        steps=(
            Step("w.concentrate", "processing", "processor", "Mining", (0.70, 0.82), ("CN-JX", "CN-HN", "CN-YN",
                 "CN-FJ"), (1e3, 8e3)),
            Step("w.apt", "smelting", "smelter", "Tungsten", (0.94, 0.97), ("CN-JX", "CN-HN", "CN-FJ"), (3e3, 1.5e4),
                 (5, 20)),
        ),
        finals=((2, 1.0),), share=0.2, export_share=0.35,
        markets=(("JP", 0.3), ("KR", 0.18), ("US", 0.15), ("DE", 0.15), ("NL", 0.08), ("VN", 0.07), ("AT", 0.07)),
        end_uses=("cemented carbide cutting tools", "tungsten wire and heavy alloys", "catalysts"),
        ports=(("CNXMN", 0.35), ("CNSHA", 0.25), ("CNSZX", 0.2), ("CNNGB", 0.2)),
        descriptions={"w.apt": "ammonium paratungstate, W {purity}"},
        cover_codes=(("2841900000", "other salts of oxometallic acids"), ("7202800000", "ferro-tungsten")),
        manufacture=("w.apt", "w.carbide", (0.93, 0.97)),
    ),
    Chain(
        element="C", ore="graphite.ore", sector="Graphite",
        mine_provinces=("CN-HL", "CN-NM", "CN-SD"), mine_capacity_t=(1e5, 8e5),
        ore_lot_t=(300, 1000), lots_per_mining=(1, 2),
        steps=(
            Step("graphite.flake", "processing", "processor", "Graphite", (0.80, 0.90), ("CN-HL", "CN-NM", "CN-SD"),
                 (1e4, 5e4)),
            Step("graphite.spherical", "processing", "processor", "New Energy Materials", (0.40, 0.55),
                 ("CN-HL", "CN-NM", "CN-SD"), (5e3, 3e4), (5, 20)),
        ),
        finals=((1, 0.3), (2, 0.7)), share=0.22, export_share=0.55,
        markets=(("JP", 0.28), ("KR", 0.3), ("US", 0.14), ("DE", 0.06), ("PL", 0.06), ("SE", 0.05), ("IN", 0.11)),
        end_uses=("lithium-ion battery anodes", "refractories", "expandable graphite foil"),
        ports=(("CNQIN", 0.4), ("CNDLC", 0.25), ("CNTSN", 0.2), ("CNSHA", 0.15)),
        descriptions={"graphite.flake": "natural flake graphite, fixed carbon {purity}",
                      "graphite.spherical": "spherical graphite, fixed carbon {purity}"},
        cover_codes=(("6815190090", "other articles of graphite or carbon"), ("2803000000", "carbon black")),
        manufacture=("graphite.spherical", "graphite.anode", (0.90, 0.96)),
    ),
    Chain(
        element="Dy", ore="dy.ionic_clay", sector="Rare Earth",
        mine_provinces=("CN-JX", "CN-GD", "CN-FJ", "CN-GX"), mine_capacity_t=(2e5, 1e6),
        ore_lot_t=(8000, 25000), lots_per_mining=(1, 2),
        steps=(
            Step("dy.carbonate", "processing", "processor", "Rare Earth", (0.60, 0.75), ("CN-JX", "CN-GD", "CN-FJ",
                 "CN-GX"), (500, 3000)),
            Step("dy.oxide", "smelting", "refinery", "Rare Earth", (0.90, 0.95), ("CN-JX", "CN-GD", "CN-FJ"),
                 (100, 800), (7, 25)),
        ),
        finals=((2, 1.0),), share=0.1, export_share=0.4,
        markets=(("JP", 0.45), ("KR", 0.1), ("US", 0.15), ("DE", 0.15), ("VN", 0.1), ("TH", 0.05)),
        end_uses=("NdFeB permanent magnets for traction motors", "magnetostrictive alloys"),
        ports=(("CNSHA", 0.35), ("CNXMN", 0.3), ("CNSZX", 0.2), ("CNGZG", 0.15)),
        descriptions={"dy.oxide": "dysprosium oxide, Dy {purity}"},
        cover_codes=(("2846109000", "other cerium compounds"), ("2846901100", "lanthanum oxide")),
        manufacture=("dy.oxide", "dy.metal", (0.93, 0.97)),
    ),
    Chain(
        element="Tb", ore="tb.ionic_clay", sector="Rare Earth",
        mine_provinces=("CN-JX", "CN-GD", "CN-FJ", "CN-GX"), mine_capacity_t=(2e5, 1e6),
        ore_lot_t=(10000, 30000), lots_per_mining=(1, 2),
        steps=(
            Step("tb.carbonate", "processing", "processor", "Rare Earth", (0.60, 0.75), ("CN-JX", "CN-GD", "CN-FJ",
                 "CN-GX"), (500, 3000)),
            Step("tb.oxide", "smelting", "refinery", "Rare Earth", (0.90, 0.95), ("CN-JX", "CN-GD", "CN-FJ"),
                 (30, 300), (7, 25)),
        ),
        finals=((2, 1.0),), share=0.1, export_share=0.4,
        markets=(("JP", 0.45), ("KR", 0.1), ("US", 0.15), ("DE", 0.15), ("VN", 0.1), ("TH", 0.05)),
        end_uses=("NdFeB permanent magnets for traction motors", "green phosphors"),
        ports=(("CNSHA", 0.35), ("CNXMN", 0.3), ("CNSZX", 0.2), ("CNGZG", 0.15)),
        descriptions={"tb.oxide": "terbium oxide, Tb {purity}"},
        cover_codes=(("2846109000", "other cerium compounds"), ("2846901100", "lanthanum oxide")),
        manufacture=("tb.oxide", "tb.metal", (0.93, 0.97)),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Bulk:
    """A genuinely non-controlled export of an enterprise in a chain: declared, mirrored, never traced."""

    chain: str  # element of the chain whose enterprises export it
    made_by: str  # "plant" (first-step processors) or "factory" (manufacturers)
    hs_code: str
    description: str
    unit_value: tuple[float, float]  # USD/kg FOB, 2025
    lot_t: tuple[float, float]
    markets: tuple[tuple[str, float], ...]
    ports: tuple[str, ...]


# Alumina: metallurgical grade, Asian FOB 2025 ~USD 380-520/t (Platts/SMM). Ferro-tungsten (W 70-80 %):
# ~USD 35-48/kg (Fastmarkets). Sintered NdFeB magnets: ~USD 40-70/kg export average (China Customs 2024).
BULK: tuple[Bulk, ...] = (
    Bulk("Ga", "plant", "2818200000", "aluminium oxide (alumina), metallurgical grade", (0.38, 0.52), (500, 5000),
         (("IN", 0.3), ("VN", 0.2), ("MY", 0.2), ("ID", 0.3)), ("CNQIN", "CNTSN", "CNGZG")),
    Bulk("W", "plant", "7202800000", "ferro-tungsten, W 75-80 %", (35.0, 48.0), (10, 40),
         (("JP", 0.4), ("KR", 0.3), ("DE", 0.3)), ("CNXMN", "CNSHA")),
    Bulk("Dy", "factory", "8505111000", "sintered NdFeB permanent magnets", (40.0, 70.0), (1, 10),
         (("DE", 0.3), ("US", 0.2), ("KR", 0.2), ("VN", 0.3)), ("CNNGB", "CNSHA")),
)  # fmt: skip
BULK_SHARE = 0.08  # bulk declarations per finished batch

# Partners that publish no import statistics to UN Comtrade (Russia and Belarus since 2022, Iran irregular):
# their imports from China never appear in the mirror feed.
NON_REPORTERS: frozenset[str] = frozenset({"RU", "BY", "IR"})

# Month-of-year activity factors: Spring Festival slows February, the rainy season July-August (ionic clay
# leaching and open-pit haulage), the October Golden Week; year-end contract fulfilment lifts Q4.
SEASONALITY: tuple[float, ...] = (0.9, 0.6, 1.0, 1.05, 1.05, 1.0, 0.92, 0.92, 1.05, 0.95, 1.1, 1.15)

# Days a consignment is on the road: same province, across provinces, to a port of exit. All well inside
# the 15-day transit limit: honest domestic freight in China takes at most about ten days.
TRANSIT_DAYS: dict[str, tuple[int, int]] = {"local": (1, 3), "domestic": (2, 8), "port": (2, 10)}

# Freight and insurance on top of FOB in partners' CIF import values (IMF/OECD CIF/FOB ratios: 3-10 %).
CIF_FACTOR = (1.03, 1.10)

# Where trading houses and domestic manufacturers sit.
TRADER_PROVINCES = ("CN-SH", "CN-BJ", "CN-GD", "CN-JX", "CN-HN", "CN-ZJ", "CN-TJ")
MANUFACTURER_PROVINCES = ("CN-JS", "CN-ZJ", "CN-GD", "CN-SD", "CN-SH", "CN-FJ")
