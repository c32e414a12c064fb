"""A seeded, plausible LED patent portfolio: families with a CN priority filing and foreign counterparts.

Numbers follow each office's format and roughly its numbering by year (CN10xxxxxxxB, US9xxxxxxxB2,
EP3xxxxxxB1, JP6xxxxxxB2, KR10xxxxxxxB1; A/A1 for applications not yet granted). Terms run twenty
years from filing; a few families were filed twenty years before this year, so they expire now.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from alliance_local.demo_data import OrgSpec

TITLES: dict[str, tuple[str, ...]] = {
    "substrate": (
        "Patterned sapphire substrate with cone-shaped protrusions of graded pitch for light extraction",
        "Method for polishing a large-diameter sapphire wafer with controlled bow and warp",
        "Silicon carbide substrate with a micropipe-free surface layer for GaN epitaxy",
        "Nano-patterned sapphire substrate made by nanoimprint lithography and dry etching",
        "Kyropoulos growth of sapphire ingots with a segmented heat shield",
        "Composite substrate with a sputtered AlN nucleation layer for GaN growth",
        "Silicon substrate with a stress-compensating buffer for GaN-on-Si LEDs",
        "Laser-assisted dicing of sapphire wafers with reduced edge chipping",
    ),
    "epitaxy": (
        "GaN-based LED epitaxial structure with a superlattice stress-relief layer",
        "InGaN/GaN multiple quantum well with graded indium content for reduced efficiency droop",
        "AlGaN electron blocking layer with a composition gradient",
        "p-type GaN contact layer with magnesium delta doping",
        "Low-dislocation GaN template grown by MOCVD with in-situ SiN masking",
        "Epitaxial structure for deep-ultraviolet LEDs with an AlN/AlGaN superlattice",
        "V-pit engineered active region for green InGaN light-emitting diodes",
        "Red-emitting InGaN quantum well on a relaxed InGaN pseudo-substrate",
        "Hole injection layer of polarisation-doped AlGaN",
        "Wavelength uniformity across the wafer by susceptor temperature zoning",
    ),
    "chip": (
        "Flip-chip LED with a distributed Bragg reflector and via-hole electrodes",
        "Vertical LED chip on a metal substrate after laser lift-off",
        "Current-spreading ITO layer with insulating current-blocking pads",
        "Micro-LED chip array with sidewall passivation for high external quantum efficiency",
        "High-voltage LED chip with series-connected cells on one substrate",
        "Chip-scale LED with a roughened N-face GaN surface",
        "Mini-LED chip with reduced electrode shading for backlight units",
        "Mass transfer of micro-LED chips from a laser-release temporary carrier",
        "Ultraviolet LED chip with a reflective rhodium p-electrode",
        "LED chip with integrated electrostatic discharge protection",
    ),
    "packaging": (
        "Chip-scale LED package with a phosphor-in-glass conversion layer",
        "White LED package with a remote phosphor dome and reflective cup",
        "Chip-on-board light source with dam-and-fill silicone encapsulation",
        "EMC lead frame with an improved moisture barrier for mid-power LEDs",
        "Direct-lit mini-LED backlight module with a diffuser film",
        "Wafer-level packaging of flip-chip LEDs with a conformal phosphor coating",
        "High-colour-rendering white LED package with a red nitride and green LuAG phosphor blend",
        "LED filament on a flexible substrate with 360-degree emission",
        "Thermal path for high-power LED packages through a ceramic substrate with copper vias",
        "Quantum-dot enhanced LED package with a barrier film",
    ),
    "application": (
        "LED driver with flicker-free dimming over a wide input range",
        "Tunable-white luminaire with two-channel colour-temperature control",
        "LED street light with asymmetric secondary optics",
        "Automotive LED headlamp with an adaptive matrix beam",
        "Horticultural LED luminaire with a spectrum tuned for photosynthesis",
        "Edge-lit LED panel with a microstructured light guide plate",
        "UV-C LED water disinfection module",
        "Local-dimming LED backlight control for LCD televisions",
        "LED tube lamp compatible with electronic fluorescent ballasts",
        "Smart lighting node with a wireless mesh control protocol",
    ),
    "equipment": (
        "MOCVD reactor with a multi-zone showerhead gas injector",
        "Susceptor with planetary wafer carriers for uniform epitaxial growth",
        "In-situ wafer curvature and temperature monitoring during MOCVD",
        "High-speed LED die sorter with optical inspection",
        "Die bonder with vision alignment for mini-LED placement",
        "Wafer-level LED probing with a spectroradiometric test head",
        "Laser lift-off apparatus with a line-beam homogeniser",
    ),
    "materials": (
        "Nitride red phosphor (Sr,Ca)AlSiN3:Eu with improved thermal quenching",
        "Narrow-band green beta-SiAlON:Eu phosphor for wide-gamut backlights",
        "Moisture-resistant K2SiF6:Mn fluoride red phosphor",
        "High-refractive-index phenyl silicone encapsulant for LED packages",
        "YAG:Ce garnet phosphor with a controlled particle size distribution",
        "Sintered silver die-attach paste for high-power LEDs",
        "Electronic-grade trimethylgallium with low oxygen content",
        "Lutetium aluminium garnet green phosphor for high-CRI white LEDs",
    ),
}

# (year, first number issued that year) per office and kind; numbers in between are interpolated.
GRANTED: dict[str, tuple[tuple[int, int], ...]] = {
    "US": (
        (2008, 7_315_000),
        (2010, 7_640_000),
        (2012, 8_087_000),
        (2014, 8_621_000),
        (2016, 9_226_000),
        (2018, 9_855_000),
        (2020, 10_524_000),
        (2022, 11_212_000),
        (2024, 11_856_000),
        (2026, 12_520_000),
        (2028, 13_200_000),
    ),
    "EP": (
        (2008, 1_930_000),
        (2010, 2_130_000),
        (2012, 2_400_000),
        (2014, 2_680_000),
        (2016, 2_980_000),
        (2018, 3_290_000),
        (2020, 3_600_000),
        (2022, 3_950_000),
        (2024, 4_320_000),
        (2026, 4_700_000),
        (2028, 5_100_000),
    ),
    "JP": (
        (2008, 4_050_000),
        (2010, 4_420_000),
        (2012, 4_880_000),
        (2014, 5_460_000),
        (2016, 5_860_000),
        (2018, 6_270_000),
        (2020, 6_640_000),
        (2022, 7_000_000),
        (2024, 7_420_000),
        (2026, 7_800_000),
        (2028, 8_200_000),
    ),
    "KR": (
        (2008, 800_000),
        (2010, 950_000),
        (2012, 1_110_000),
        (2014, 1_370_000),
        (2016, 1_590_000),
        (2018, 1_830_000),
        (2020, 2_070_000),
        (2022, 2_360_000),
        (2024, 2_640_000),
        (2026, 2_900_000),
        (2028, 3_200_000),
    ),
    # CN: the publication number (assigned when the application is published, about 18 months after filing).
    "CN": (
        (2006, 100_800_000),
        (2008, 101_200_000),
        (2010, 101_800_000),
        (2012, 102_600_000),
        (2014, 103_700_000),
        (2016, 105_300_000),
        (2018, 107_600_000),
        (2019, 110_000_000),
        (2020, 111_200_000),
        (2021, 112_800_000),
        (2022, 114_600_000),
        (2023, 116_200_000),
        (2024, 117_800_000),
        (2026, 121_000_000),
    ),
}

# Where an EP patent is typically validated (DE always).
EP_VALIDATIONS = ("FR", "GB", "IT", "NL", "ES", "PL", "SE", "AT", "CH", "BE", "TR")
FOREIGN = (("US", 0.36), ("EP", 0.22), ("JP", 0.18), ("KR", 0.14))
# Later uses of a topic by another family: how such titles usually differ.
VARIANTS = (
    "",
    ", and method for manufacturing the same",
    ", and light-emitting device comprising it",
    " with improved reliability",
    ", and lighting apparatus using it",
)


@dataclass
class PatentPlan:
    owner: str  # OrgSpec.key
    body: dict[str, Any]  # the POST /patents body (without owner_id)
    segment: str
    family: str

    @property
    def granted_in_force(self) -> bool:
        return bool(self.body["status"] == "granted")


def _serial(office: str, year: float) -> int:
    table = GRANTED[office]
    years = [y for y, _ in table]
    i = max(1, min(len(table) - 1, bisect.bisect_right(years, year)))
    (y0, n0), (y1, n1) = table[i - 1], table[i]
    return int(n0 + (n1 - n0) * (year - y0) / (y1 - y0))


def _fraction_of_year(day: date) -> float:
    return day.year + (day.timetuple().tm_yday - 1) / 365.0


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return date(day.year + years, 2, 28)


def _number(
    office: str,
    granted: bool,
    filed: date,
    published: date,
    granted_on: date | None,
    rng: random.Random,
    taken: set[tuple[str, str]],
) -> str:
    for _ in range(1000):
        jitter = rng.randint(0, 4000)
        if office == "CN":
            serial = _serial("CN", _fraction_of_year(published)) + jitter * 37
            number = f"CN{serial:09d}{'B' if granted else 'A'}"
        elif not granted:  # a published application
            seq = rng.randint(10_000, 480_000)
            number = {
                "US": f"US{published.year}{seq:07d}A1",
                "EP": f"EP{_serial('EP', _fraction_of_year(published)) + jitter:07d}A1",
                "JP": f"JP{published.year}{seq:06d}A",
                "KR": f"KR10{published.year}{seq:07d}A",
            }[office]
        else:
            assert granted_on is not None
            serial = _serial(office, _fraction_of_year(granted_on)) + jitter
            number = {
                "US": f"US{serial}B2",
                "EP": f"EP{serial:07d}B1",
                "JP": f"JP{serial:07d}B2",
                "KR": f"KR10{serial:07d}B1",
            }[office]
        if (office, number) not in taken:
            taken.add((office, number))
            return number
    raise RuntimeError(f"could not find a free {office} number")


GRANT_DELAY_MONTHS = {"CN": (24, 48), "US": (22, 40), "EP": (36, 60), "JP": (24, 44), "KR": (18, 36)}


def _plan_patent(
    owner: OrgSpec,
    office: str,
    family: str,
    title: str,
    segment: str,
    filed: date,
    today: date,
    rng: random.Random,
    taken: set[tuple[str, str]],
) -> PatentPlan:
    expiry = _add_years(filed, 20)
    low, high = GRANT_DELAY_MONTHS[office]
    granted_on: date | None = filed + timedelta(days=rng.randint(low * 30, high * 30))
    assert granted_on is not None
    if granted_on >= expiry:
        granted_on = expiry - timedelta(days=400)
    published = filed + timedelta(days=rng.randint(540, 600))
    if granted_on > today - timedelta(days=14):
        granted_on = None
    status = "pending" if granted_on is None else ("expired" if expiry <= today else "granted")
    number = _number(office, granted_on is not None, filed, min(published, today), granted_on, rng, taken)
    body: dict[str, Any] = {
        "office": office,
        "number": number,
        "family_id": family,
        "title": title,
        "filing_date": filed.isoformat(),
        "expiry_date": expiry.isoformat(),
        "status": status,
        "segment": segment,
    }
    if granted_on is not None:
        body["grant_date"] = granted_on.isoformat()
    if office == "EP":
        body["validated_in"] = sorted({"DE", *rng.sample(EP_VALIDATIONS, rng.randint(2, 6))})
    return PatentPlan(owner.key, body, segment, family)


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _title(segment: str, rng: random.Random, used: dict[str, int]) -> str:
    """A topic of the segment, least used first; repeated topics get a variant wording."""
    topics = sorted(TITLES[segment], key=lambda t: (used.get(t, 0), rng.random()))
    topic = topics[0]
    count = used.get(topic, 0)
    used[topic] = count + 1
    return topic + VARIANTS[count % len(VARIANTS)]


def portfolio(orgs: tuple[OrgSpec, ...], today: date, rng: random.Random) -> list[PatentPlan]:
    """Every organisation's families: a CN priority filing, then foreign filings a year later.

    Four families were filed twenty years before this year: two expire later this year (still in
    force, so they join the pools), two expired earlier this year (recorded, never submitted). If the
    year has too few days left, the ones "expiring later this year" are simply expired too.
    """
    plans: list[PatentPlan] = []
    used: dict[str, int] = {}
    taken: set[tuple[str, str]] = set()
    owners = [o for o in orgs if o.families > 0]
    year_end = date(today.year, 12, 31)
    # Which families are the old ones: the first two of two founding members, deterministically.
    old_slots = {
        (owners[0].key, 0): "later",
        (owners[0].key, 1): "earlier",
        (next(o for o in owners if o.key == "radiant").key, 0): "later",
        (next(o for o in owners if o.key == "lumen").key, 0): "earlier",
    }
    sequence = 0
    for owner in owners:
        newest = 2023 if owner.plan in ("new", "current") else 2022
        oldest = 2008 if owner.plan == "founding" else 2012
        for index in range(owner.families):
            segment = rng.choice(owner.segments)
            title = _title(segment, rng, used)
            slot = old_slots.get((owner.key, index))
            if slot == "later" and (year_end - today).days >= 10:
                priority = _add_years(_random_day(rng, today + timedelta(days=5), year_end), -20)
            elif slot is not None:
                priority = _add_years(_random_day(rng, date(today.year, 1, 2), today - timedelta(days=2)), -20)
            else:
                priority = _random_day(rng, date(oldest, 1, 1), date(newest, 12, 31))
            sequence += 1
            family = f"FAM-{priority.year}-{sequence:04d}"
            plans.append(_plan_patent(owner, "CN", family, title, segment, priority, today, rng, taken))
            if slot is not None:
                continue  # the old families were filed in China only
            foreign_filed = priority + timedelta(days=rng.randint(330, 365))  # within the priority year
            for office, probability in FOREIGN:
                bigger = 1.0 if owner.tier == "council_member" else 0.8
                if rng.random() < probability * bigger:
                    plans.append(_plan_patent(owner, office, family, title, segment, foreign_filed, today, rng, taken))
    return plans
