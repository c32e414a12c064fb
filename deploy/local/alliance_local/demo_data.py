"""The demo alliance: organisations along the LED industry chain, licensees, programmes, experts.

All names are invented. Regions are ISO 3166-2 subdivisions; ``division`` is the six-digit
administrative division code that goes into the unified social credit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class OrgSpec:
    key: str  # short slug: login subjects and e-mail domains
    name: str
    org_type: str
    segments: tuple[str, ...]
    region: str
    division: str
    tier: str
    # founding: admitted years ago (start_date in ``ago``), since renewed · current: joined ``ago`` months
    # ago · new: joined ``ago`` days ago · grace: period ended ``ago`` days ago · expired: joined ``ago``
    # months ago, never renewed · suspended: current, then suspended · pending: awaiting review ·
    # rejected: rejected by the council with a reason
    plan: str
    ago: int
    families: int  # patent families it contributes
    contact: str


ORGANISATIONS: tuple[OrgSpec, ...] = (
    # --- substrate ---
    OrgSpec(
        "jinghua",
        "Fujian Jinghua Sapphire Substrate Co., Ltd.",
        "enterprise",
        ("substrate",),
        "CN-FJ",
        "350100",
        "ordinary_member",
        "founding",
        2019,
        7,
        "Lin Haiyan",
    ),
    OrgSpec(
        "lanjing",
        "Jiangxi Lanjing Crystal Materials Co., Ltd.",
        "enterprise",
        ("substrate", "materials"),
        "CN-JX",
        "360100",
        "ordinary_member",
        "current",
        8,
        3,
        "Xiong Wei",
    ),
    OrgSpec(
        "hengrui",
        "Zhejiang Hengrui Silicon Carbide Substrate Co., Ltd.",
        "enterprise",
        ("substrate",),
        "CN-ZJ",
        "330200",
        "ordinary_member",
        "current",
        5,
        3,
        "Shen Jiayi",
    ),
    # --- epitaxy ---
    OrgSpec(
        "huaxing",
        "Xiamen Huaxing Epitaxy Co., Ltd.",
        "enterprise",
        ("epitaxy", "chip"),
        "CN-FJ",
        "350200",
        "council_member",
        "founding",
        2018,
        14,
        "Chen Li",
    ),
    OrgSpec(
        "tianguang",
        "Yangzhou Tianguang Epitaxial Wafer Co., Ltd.",
        "enterprise",
        ("epitaxy",),
        "CN-JS",
        "321000",
        "ordinary_member",
        "current",
        10,
        5,
        "Zhou Min",
    ),
    OrgSpec(
        "changjiang",
        "Hubei Changjiang Optoelectronic Epitaxy Co., Ltd.",
        "enterprise",
        ("epitaxy", "chip"),
        "CN-HB",
        "420100",
        "council_member",
        "founding",
        2020,
        11,
        "Wang Qiang",
    ),
    # --- chip ---
    OrgSpec(
        "lumen",
        "Wuhan Lumen Chip Technology Co., Ltd.",
        "enterprise",
        ("chip",),
        "CN-HB",
        "420100",
        "council_member",
        "founding",
        2019,
        13,
        "Liu Yang",
    ),
    OrgSpec(
        "ganxin",
        "Nanchang Ganxin Semiconductor Co., Ltd.",
        "enterprise",
        ("chip", "epitaxy"),
        "CN-JX",
        "360100",
        "ordinary_member",
        "current",
        9,
        7,
        "Hu Jun",
    ),
    OrgSpec(
        "jingyuan",
        "Suzhou Jingyuan Micro-LED Technology Co., Ltd.",
        "enterprise",
        ("chip",),
        "CN-JS",
        "320500",
        "ordinary_member",
        "new",
        45,
        4,
        "Gu Xiaoling",
    ),
    OrgSpec(
        "xinyao",
        "Hangzhou Xinyao Optoelectronics Co., Ltd.",
        "enterprise",
        ("chip", "epitaxy"),
        "CN-ZJ",
        "330100",
        "ordinary_member",
        "current",
        6,
        5,
        "Xu Hao",
    ),
    # --- packaging ---
    OrgSpec(
        "radiant",
        "Shenzhen Radiant Packaging Co., Ltd.",
        "enterprise",
        ("packaging",),
        "CN-GD",
        "440300",
        "council_member",
        "founding",
        2018,
        13,
        "Huang Mei",
    ),
    OrgSpec(
        "guangda",
        "Foshan Guangda LED Packaging Co., Ltd.",
        "enterprise",
        ("packaging",),
        "CN-GD",
        "440600",
        "ordinary_member",
        "current",
        7,
        6,
        "Liang Zhiqiang",
    ),
    OrgSpec(
        "mingcai",
        "Dongguan Mingcai Optoelectronic Packaging Co., Ltd.",
        "enterprise",
        ("packaging",),
        "CN-GD",
        "441900",
        "ordinary_member",
        "grace",
        12,
        4,
        "Ye Ting",
    ),
    OrgSpec(
        "xingyuan",
        "Huizhou Xingyuan Display Technology Co., Ltd.",
        "enterprise",
        ("packaging", "application"),
        "CN-GD",
        "441300",
        "ordinary_member",
        "current",
        4,
        5,
        "Zheng Kai",
    ),
    OrgSpec(
        "puguang",
        "Shanghai Puguang Semiconductor Lighting Co., Ltd.",
        "enterprise",
        ("packaging",),
        "CN-SH",
        "310115",
        "ordinary_member",
        "current",
        11,
        4,
        "Zhu Yan",
    ),
    OrgSpec(
        "ruiguang",
        "Ningbo Ruiguang Optoelectronics Co., Ltd.",
        "enterprise",
        ("packaging",),
        "CN-ZJ",
        "330200",
        "observer",
        "new",
        20,
        2,
        "Mao Jie",
    ),
    # --- application ---
    OrgSpec(
        "glow",
        "Foshan Glow Lighting Applications Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-GD",
        "440600",
        "ordinary_member",
        "founding",
        2021,
        5,
        "He Jian",
    ),
    OrgSpec(
        "mingliang",
        "Zhongshan Guzhen Mingliang Lighting Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-GD",
        "442000",
        "ordinary_member",
        "current",
        9,
        3,
        "Tan Li",
    ),
    OrgSpec(
        "haiyue",
        "Xiamen Haiyue Intelligent Lighting Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-FJ",
        "350200",
        "ordinary_member",
        "current",
        5,
        3,
        "Cai Wenjing",
    ),
    OrgSpec(
        "huaying",
        "Shenzhen Huaying Display Backlight Co., Ltd.",
        "enterprise",
        ("application", "packaging"),
        "CN-GD",
        "440300",
        "ordinary_member",
        "current",
        10,
        4,
        "Deng Hui",
    ),
    OrgSpec(
        "wujin",
        "Changzhou Wujin Automotive Lighting Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-JS",
        "320400",
        "ordinary_member",
        "expired",
        17,
        2,
        "Jiang Tao",
    ),
    OrgSpec(
        "qiming",
        "Hangzhou Qiming Horticultural Lighting Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-ZJ",
        "330100",
        "observer",
        "new",
        70,
        1,
        "Fang Lei",
    ),
    OrgSpec(
        "kelan",
        "Ganzhou Kelan Lighting Technology Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-JX",
        "360700",
        "observer",
        "expired",
        22,
        1,
        "Luo Ping",
    ),
    OrgSpec(
        "zhongguang",
        "Beijing Zhongguang UV LED Applications Co., Ltd.",
        "enterprise",
        ("application", "chip"),
        "CN-BJ",
        "110108",
        "ordinary_member",
        "new",
        10,
        2,
        "Zhao Xin",
    ),
    # --- equipment ---
    OrgSpec(
        "chenjing",
        "Changzhou Chenjing MOCVD Equipment Co., Ltd.",
        "enterprise",
        ("equipment",),
        "CN-JS",
        "320400",
        "ordinary_member",
        "founding",
        2020,
        5,
        "Sun Peng",
    ),
    OrgSpec(
        "weiguang",
        "Shanghai Weiguang Precision Equipment Co., Ltd.",
        "enterprise",
        ("equipment",),
        "CN-SH",
        "310115",
        "ordinary_member",
        "current",
        6,
        3,
        "Qian Rui",
    ),
    OrgSpec(
        "xinjie",
        "Shenzhen Xinjie Automation Equipment Co., Ltd.",
        "enterprise",
        ("equipment",),
        "CN-GD",
        "440300",
        "observer",
        "grace",
        22,
        2,
        "Wu Dan",
    ),
    # --- materials ---
    OrgSpec(
        "yingguang",
        "Jiangxi Yingguang Phosphor Materials Co., Ltd.",
        "enterprise",
        ("materials",),
        "CN-JX",
        "360700",
        "ordinary_member",
        "current",
        9,
        7,
        "Yu Fang",
    ),
    OrgSpec(
        "borui",
        "Jiangsu Borui Encapsulant Materials Co., Ltd.",
        "enterprise",
        ("materials",),
        "CN-JS",
        "320200",
        "ordinary_member",
        "current",
        4,
        3,
        "Gao Bin",
    ),
    OrgSpec(
        "huacheng",
        "Guangzhou Huacheng Electronic Materials Co., Ltd.",
        "enterprise",
        ("materials",),
        "CN-GD",
        "440100",
        "observer",
        "new",
        30,
        2,
        "Pan Yue",
    ),
    OrgSpec(
        "dingxin",
        "Hubei Dingxin Specialty Gases Co., Ltd.",
        "enterprise",
        ("materials",),
        "CN-HB",
        "420100",
        "ordinary_member",
        "suspended",
        8,
        2,
        "Peng Gang",
    ),
    # --- universities ---
    OrgSpec(
        "pearlriver",
        "Pearl River University of Technology, Semiconductor Lighting Laboratory",
        "university",
        ("chip", "packaging"),
        "CN-GD",
        "440100",
        "ordinary_member",
        "founding",
        2019,
        6,
        "Prof. Mo Zhiyuan",
    ),
    OrgSpec(
        "minjiang",
        "Minjiang University of Science and Technology, School of Optoelectronics",
        "university",
        ("epitaxy", "materials"),
        "CN-FJ",
        "350100",
        "ordinary_member",
        "current",
        7,
        4,
        "Prof. Weng Lihua",
    ),
    OrgSpec(
        "zhonghua",
        "Central China University of Science and Technology, Wide-Bandgap Semiconductor Centre",
        "university",
        ("epitaxy", "chip"),
        "CN-HB",
        "420100",
        "ordinary_member",
        "current",
        11,
        5,
        "Prof. Yuan Bo",
    ),
    # --- research institutes ---
    OrgSpec(
        "bisl",
        "Beijing Institute of Semiconductor Lighting",
        "research_institute",
        ("epitaxy", "chip"),
        "CN-BJ",
        "110108",
        "council_member",
        "founding",
        2018,
        7,
        "Dr. Song Yu",
    ),
    OrgSpec(
        "jitri",
        "Jiangsu Industrial Technology Research Institute for Solid-State Lighting",
        "research_institute",
        ("packaging", "application"),
        "CN-JS",
        "320500",
        "ordinary_member",
        "current",
        6,
        4,
        "Dr. Ren Jing",
    ),
    OrgSpec(
        "sptc",
        "Shanghai Photonics Testing and Certification Centre",
        "research_institute",
        ("application",),
        "CN-SH",
        "310115",
        "observer",
        "current",
        9,
        0,
        "Dr. Fan Qing",
    ),
    # --- IP service agencies ---
    OrgSpec(
        "huaxin",
        "Huaxin IP Law Firm",
        "ip_service_agency",
        ("application",),
        "CN-BJ",
        "110108",
        "observer",
        "current",
        10,
        0,
        "Du Ming",
    ),
    OrgSpec(
        "lingnan",
        "Lingnan Patent Agency Co., Ltd.",
        "ip_service_agency",
        ("packaging", "application"),
        "CN-GD",
        "440300",
        "observer",
        "current",
        3,
        0,
        "Kuang Yi",
    ),
    # --- applications not (yet) admitted ---
    OrgSpec(
        "qinchuang",
        "Shaanxi Qinchuang Deep-UV Technology Co., Ltd.",
        "enterprise",
        ("chip", "epitaxy"),
        "CN-SN",
        "610100",
        "ordinary_member",
        "pending",
        0,
        0,
        "Ma Rui",
    ),
    OrgSpec(
        "quanqiu",
        "Shenzhen Quanqiu LED Trading Co., Ltd.",
        "enterprise",
        ("application",),
        "CN-GD",
        "440300",
        "observer",
        "rejected",
        0,
        0,
        "Lu Feng",
    ),
)

REJECTION_REASON = (
    "The applicant resells finished LED products and has no manufacturing, research or IP activity in the "
    "industry chain; the articles of association admit only organisations active in the chain."
)
SUSPENSION_REASON = "Annual dues unpaid ninety days after the invoice; suspended by the secretariat."

# Independent experts (no organisation), and two from the IP service agencies (which own no patents).
# The first is the realm's demo expert (DEMO_PEOPLE), so that signing in as them shows assignments.
EXPERTS: tuple[tuple[str, str | None], ...] = (
    ("expert@alliance.example", None),
    ("expert2@alliance.example", None),
    ("expert3@alliance.example", None),
    ("expert4@alliance.example", None),
    ("expert5@huaxin.example", "huaxin"),
    ("expert6@lingnan.example", "lingnan"),
)


@dataclass(frozen=True)
class ProgrammeSpec:
    key: str
    name: str
    standard_ref: str
    description: str
    segments: frozenset[str]  # patents of these segments are submitted to this programme
    schedule: dict[str, object] = field(hash=False)


PROGRAMMES: tuple[ProgrammeSpec, ...] = (
    ProgrammeSpec(
        "packaging",
        "LED packaging & phosphor pool",
        "T/LEDA 001—2026",
        "Patents essential to T/LEDA 001—2026 (white LED packages: construction, phosphor conversion, colour "
        "consistency, lumen maintenance) and to the lamps, luminaires and backlights built on them.",
        frozenset({"packaging", "materials", "application"}),
        {
            "currency": "USD",
            "categories": {
                "led_package": [
                    {"up_to": 20_000_000, "standard_rate": "0.0030", "compliant_rate": "0.0025"},
                    {"up_to": 200_000_000, "standard_rate": "0.0018", "compliant_rate": "0.0015"},
                    {"standard_rate": "0.0010", "compliant_rate": "0.0008"},
                ],
                "lamp": [
                    {"up_to": 2_000_000, "standard_rate": "0.0250", "compliant_rate": "0.0200"},
                    {"standard_rate": "0.0150", "compliant_rate": "0.0120"},
                ],
                "luminaire": [
                    {"up_to": 500_000, "standard_rate": "0.1200", "compliant_rate": "0.1000"},
                    {"standard_rate": "0.0800", "compliant_rate": "0.0650"},
                ],
                "display_backlight": [{"standard_rate": "0.0400", "compliant_rate": "0.0320"}],
            },
            "free_units_per_year": 50_000,
            "annual_cap": "1500000.00",
            "regional_markets": ["IN", "VN", "ID", "BD", "PH"],
            "regional_discount_percent": "30",
            "member_discount_percent": "20",
            "admin_fee_percent": "8",
            "late_interest_percent": "6",
        },
    ),
    ProgrammeSpec(
        "chip",
        "Epitaxy & chip pool",
        "T/LEDA 002—2026",
        "Patents essential to T/LEDA 002—2026 (GaN-based LED epitaxial wafers and chips: substrates, layer "
        "structure, electrodes and current spreading), licensed per chip and per package containing one.",
        frozenset({"substrate", "epitaxy", "chip", "equipment"}),
        {
            "currency": "USD",
            "categories": {
                "led_chip": [
                    {"up_to": 100_000_000, "standard_rate": "0.0015", "compliant_rate": "0.0012"},
                    {"up_to": 500_000_000, "standard_rate": "0.0010", "compliant_rate": "0.0008"},
                    {"standard_rate": "0.0006", "compliant_rate": "0.0005"},
                ],
                "led_package": [{"standard_rate": "0.0008", "compliant_rate": "0.0006"}],
                "display_backlight": [{"standard_rate": "0.0250", "compliant_rate": "0.0200"}],
            },
            "free_units_per_year": 100_000,
            "annual_cap": "2000000.00",
            "regional_markets": ["IN", "VN", "ID", "BD", "PH"],
            "regional_discount_percent": "25",
            "member_discount_percent": "15",
            "admin_fee_percent": "10",
            "late_interest_percent": "6",
        },
    ),
)

# Clauses of the two standards that patents of each segment read on (clause, subject).
CLAUSES: dict[str, tuple[tuple[str, str], ...]] = {
    "packaging": (
        ("5.2", "package construction and encapsulation"),
        ("5.5", "thermal path and solder pads"),
        ("7.3", "lumen maintenance"),
    ),
    "materials": (("5.4", "phosphor conversion and colour consistency"), ("5.3", "encapsulant and die attach")),
    "application": (
        ("6.2", "driver, dimming and flicker"),
        ("6.4", "luminaire photometry and optics"),
        ("6.6", "backlight unit construction"),
    ),
    "substrate": (("4.1", "substrate and patterned-surface specification"), ("4.2", "wafer geometry")),
    "epitaxy": (("4.3", "epitaxial layer structure"), ("4.4", "active region and carrier confinement")),
    "chip": (
        ("5.1", "chip electrodes and current spreading"),
        ("5.2", "chip reflectors and light extraction"),
        ("5.4", "micro- and mini-LED chip dimensions"),
    ),
    "equipment": (("4.3", "epitaxial layer structure"), ("4.2", "wafer geometry")),
}

NOT_ESSENTIAL_REASONS: dict[str, str] = {
    "equipment": "The claims are directed to deposition and handling apparatus; {std} specifies the epitaxial "
    "wafer and chip, not the equipment that makes them, so a compliant product does not practise the claims.",
    "default": "Claim 1 is limited to one implementation of clause {clause} of {std}; the clause also permits "
    "other implementations in common use, so a compliant product need not practise the claim.",
}


@dataclass(frozen=True)
class Line:
    programme: str  # ProgrammeSpec.key
    category: str
    units: int  # per quarter, before growth and noise
    made_in: str
    sold_in: str


@dataclass(frozen=True)
class LicenseeSpec:
    key: str  # a member's OrgSpec.key, or an outside licensee's organisation id
    lines: tuple[Line, ...]
    name: str = ""  # outside licensees only
    territory: tuple[str, ...] = ()  # outside licensees only: countries of sale (empty: worldwide)
    outside: bool = False


def _lines(*rows: tuple[str, str, int, str, str]) -> tuple[Line, ...]:
    return tuple(Line(*row) for row in rows)


LICENSEES: tuple[LicenseeSpec, ...] = (
    LicenseeSpec(
        "radiant",
        _lines(
            ("packaging", "led_package", 60_000_000, "CN", "CN"),
            ("packaging", "led_package", 18_000_000, "CN", "DE"),
            ("packaging", "led_package", 9_000_000, "CN", "IN"),
            ("packaging", "display_backlight", 900_000, "CN", "KR"),
            ("chip", "led_package", 60_000_000, "CN", "CN"),
            ("chip", "led_package", 18_000_000, "CN", "US"),
        ),
    ),
    LicenseeSpec(
        "guangda",
        _lines(
            ("packaging", "led_package", 25_000_000, "CN", "CN"),
            ("packaging", "led_package", 6_000_000, "CN", "VN"),
            ("chip", "led_package", 25_000_000, "CN", "CN"),
            ("chip", "led_package", 4_000_000, "CN", "JP"),
        ),
    ),
    LicenseeSpec(
        "mingcai",
        _lines(
            ("packaging", "led_package", 12_000_000, "CN", "CN"),
            ("packaging", "led_package", 3_000_000, "CN", "US"),
        ),
    ),
    LicenseeSpec(
        "glow",
        _lines(
            ("packaging", "lamp", 1_200_000, "CN", "CN"),
            ("packaging", "luminaire", 160_000, "CN", "CN"),
            ("packaging", "luminaire", 45_000, "CN", "FR"),
            ("packaging", "lamp", 300_000, "CN", "PH"),
        ),
    ),
    LicenseeSpec(
        "mingliang",
        _lines(
            ("packaging", "lamp", 800_000, "CN", "CN"),
            ("packaging", "luminaire", 60_000, "CN", "US"),
            ("packaging", "luminaire", 25_000, "CN", "DE"),
        ),
    ),
    LicenseeSpec(
        "huaying",
        _lines(
            ("packaging", "display_backlight", 1_500_000, "CN", "CN"),
            ("packaging", "display_backlight", 400_000, "CN", "KR"),
            ("chip", "display_backlight", 1_500_000, "CN", "CN"),
            ("chip", "display_backlight", 400_000, "CN", "JP"),
        ),
    ),
    LicenseeSpec(
        "lumen",
        _lines(
            ("chip", "led_chip", 150_000_000, "CN", "CN"),
            ("chip", "led_chip", 30_000_000, "CN", "KR"),
            ("chip", "led_chip", 20_000_000, "CN", "IN"),
        ),
    ),
    LicenseeSpec(
        "LIC-VN-SAIGON",
        _lines(
            ("packaging", "lamp", 900_000, "VN", "VN"),
            ("packaging", "lamp", 400_000, "VN", "US"),
            ("packaging", "luminaire", 50_000, "VN", "DE"),
            ("chip", "led_package", 8_000_000, "VN", "US"),
            ("chip", "led_package", 5_000_000, "VN", "VN"),
        ),
        name="Saigon Brightway Lighting JSC",
        outside=True,
    ),
    LicenseeSpec(
        "LIC-MY-PENANG",
        _lines(
            ("packaging", "led_package", 14_000_000, "MY", "US"),
            ("packaging", "led_package", 6_000_000, "MY", "ID"),
            ("chip", "led_package", 14_000_000, "MY", "US"),
            ("chip", "led_package", 5_000_000, "MY", "KR"),
        ),
        name="Penang Optotech Sdn. Bhd.",
        outside=True,
    ),
    LicenseeSpec(
        "LIC-MX-MONTERREY",
        _lines(
            ("packaging", "luminaire", 70_000, "MX", "US"),
            ("packaging", "luminaire", 20_000, "MX", "MX"),
            ("packaging", "lamp", 250_000, "MX", "US"),
        ),
        name="Iluminación Monterrey S.A. de C.V.",
        territory=("CA", "MX", "US"),
        outside=True,
    ),
    LicenseeSpec(
        "LIC-DE-RHEIN",
        _lines(
            ("packaging", "luminaire", 40_000, "DE", "DE"),
            ("packaging", "luminaire", 12_000, "DE", "FR"),
            ("packaging", "luminaire", 8_000, "DE", "NL"),
        ),
        name="Rheinwerk Leuchten GmbH",
        outside=True,
    ),
)

# Reports left unpaid (licensee key, programme key, which of the four quarters: 0 oldest .. 3 latest) and
# paid only in part (half now, the rest still outstanding).
UNPAID_REPORTS = {("mingcai", "packaging", 3)}
PART_PAID_REPORTS = {("LIC-VN-SAIGON", "packaging", 3)}

STANDARDS_PROJECTS: tuple[tuple[str, str, str], ...] = (
    (
        "radiant",
        "White LED packages for general lighting — construction, colour consistency and lumen maintenance",
        "Package construction, phosphor conversion, colour binning within a 3-step MacAdam ellipse, test conditions "
        "and sampling for lumen maintenance (LM-80 style) of white LED packages; the basis of T/LEDA 001.",
    ),
    (
        "huaxing",
        "GaN-based LED epitaxial wafers and chips — structure, electrodes and test methods",
        "Substrate and patterned-surface specification, epitaxial layer structure, chip electrodes and current "
        "spreading, wavelength uniformity and wafer-level test methods; the basis of T/LEDA 002.",
    ),
)


@dataclass(frozen=True)
class DemoPerson:
    """One of the six people of the realm (deploy/keycloak/alliance-realm.json) that ``scripts/up``
    lists: after the load, their organisation (``org_key``: an OrgSpec's key, or an outside
    licensee's id) is a real demo organisation. LOCAL ONLY: the passwords are published."""

    who: str
    email: str
    password: str
    role: str
    org_key: str | None
    can: str
    name: str = ""  # as in the realm (first and last name)


DEMO_MEMBER = "huaxing"  # Xiamen Huaxing Epitaxy: a founding member, council member, patents, people
DEMO_LICENSEE = "LIC-VN-SAIGON"  # an outside licensee with licences and royalty reports

DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "Secretariat",
        "secretariat@alliance.example",
        "secretariat-demo",
        "secretariat",
        None,
        "application queue, programmes and rates, evaluation assignment, distributions, standards, training",
        name="Shu Mishu",
    ),
    DemoPerson(
        "Council",
        "council@alliance.example",
        "council-demo",
        "council",
        None,
        "admission decisions, projects, reads every organisation",
        name="Li Lishi",
    ),
    DemoPerson(
        "Expert",
        "expert@alliance.example",
        "expert-demo",
        "expert",
        None,
        "assigned patent evaluations, decisions",
        name="Zhuan Jia",
    ),
    DemoPerson(
        "Member admin",
        "member-admin@alliance.example",
        "member-admin-demo",
        "member_admin",
        DEMO_MEMBER,
        "Huaxing's membership, people, invoices, patents, ballots, IPR calls, training registrations",
        name="Wang Guanli",
    ),
    DemoPerson(
        "Member staff",
        "member-staff@alliance.example",
        "member-staff-demo",
        "member_staff",
        DEMO_MEMBER,
        "Huaxing's training, drafts and comments, standing",
        name="Zhang Yuangong",
    ),
    DemoPerson(
        "Licensee",
        "licensee@alliance.example",
        "licensee-demo",
        "licensee",
        DEMO_LICENSEE,
        "Saigon licensee's licences, quarterly royalty reports, invoices",
        name="Xu Kezheng",
    ),
)
