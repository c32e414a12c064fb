"""Demo data: a living LED alliance, loaded through the gateway like any client would.

About forty organisations along the LED chain apply, are reviewed and admitted (some brought in
with a past start date, so their standing varies: new, current, grace, expired; one suspended,
one awaiting review, one rejected); about three hundred patents in CN, US, EP, JP and KR are
contributed, submitted to two pool programmes and evaluated by independent experts; about ten licensees
file a year of quarterly royalty reports, most are paid, and each ended quarter is distributed.
Plus standards at every stage (one published and filed with its IPR declarations, one in ballot,
one in public comment, one in working draft, one proposed) and a season of training sessions
(a multi-day course with attendance and certificates, a full session with a waiting list, one
requiring approval).

Everything is planned first from a seeded random generator (deterministic for a given day), then
sent with bounded concurrency: once the members are admitted, the pool (patents, evaluations,
royalties), the standards and the training season run at the same time, so that the waits for
comment and ballot windows and for the course to begin overlap the pool's calls. Any unexpected
answer raises ``DemoError`` naming the call (and stops the other flows). At the end it says which
routes took the most time.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from alliance_local.demo_data import (
    CLAUSES,
    DEMO_PEOPLE,
    EXPERTS,
    LICENSEES,
    NOT_ESSENTIAL_REASONS,
    ORGANISATIONS,
    PART_PAID_REPORTS,
    PROGRAMMES,
    REJECTION_REASON,
    SUSPENSION_REASON,
    UNPAID_REPORTS,
    DemoPerson,
    LicenseeSpec,
    OrgSpec,
    ProgrammeSpec,
)
from alliance_local.demo_http import (
    HEAVY_WORKERS,
    DemoError,
    Gateway,
    Headers,
    Json,
    TokenSource,
    wait_until,
)
from alliance_local.demo_patents import PatentPlan, portfolio
from alliance_local.demo_standards import load_standards
from alliance_local.demo_training import load_training
from alliance_local.infra import say
from membership.domain.credit_code import ALPHABET, with_check_characters

SEED = 20260101
API = "/api/v1"

# Telephone area codes of the divisions used (for contact details).
AREA_CODES = {
    "440300": "755",
    "440600": "757",
    "441900": "769",
    "441300": "752",
    "442000": "760",
    "440100": "20",
    "350200": "592",
    "350100": "591",
    "360100": "791",
    "360700": "797",
    "330200": "574",
    "330100": "571",
    "321000": "514",
    "320500": "512",
    "320400": "519",
    "320200": "510",
    "420100": "27",
    "110108": "10",
    "310115": "21",
    "610100": "29",
}


@dataclass
class Context:
    gw: Gateway
    today: date
    rng: random.Random
    secretariat: Headers
    council: Headers
    orgs: dict[str, Json] = field(default_factory=dict)  # OrgSpec.key -> organisation as last returned
    specs: dict[str, OrgSpec] = field(default_factory=dict)
    programmes: dict[str, Json] = field(default_factory=dict)  # ProgrammeSpec.key -> programme
    started: float = field(default_factory=time.monotonic)

    def say(self, message: str) -> None:
        say(f"demo [{time.monotonic() - self.started:5.1f}s] {message}")

    def admin(self, key: str) -> Headers:
        """A member's administrator, signed in for its organisation."""
        return self.gw.login(f"admin@{self.specs[key].key}.example", ["member_admin"], self.orgs[key]["id"])


# --- small helpers ---------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.month - 1 + months, 12)
    year += day.year
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month0]
    return date(year, month0 + 1, min(day.day, last))


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def last_ended_quarters(today: date, count: int = 4) -> list[str]:
    """The last ``count`` quarters that have ended, oldest first (e.g. 2025-Q4 … 2026-Q3)."""
    year, quarter = quarter_of(today)
    out: list[str] = []
    for _ in range(count):
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        out.append(f"{year}-Q{quarter}")
    return out[::-1]


def quarter_start(period: str) -> date:
    year, quarter = period.split("-Q")
    return date(int(year), 3 * int(quarter) - 2, 1)


def credit_code(spec: OrgSpec, rng: random.Random, taken: set[str]) -> str:
    """A valid unified social credit code: authority and category, division, organisation code."""
    law_firm = spec.org_type == "ip_service_agency" and "Law Firm" in spec.name
    company = spec.org_type in ("enterprise", "ip_service_agency") and not law_firm
    while True:
        if company:  # 91: an enterprise; MA…: a code issued since the 2015 reform
            body = "91" + spec.division + "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
        elif law_firm:  # 31: registered by the justice authority
            body = "31" + spec.division + "E" + "".join(rng.choice(ALPHABET[:10]) for _ in range(7))
        else:  # 12: a public institution (universities, institutes), with an older all-digit code
            body = "12" + spec.division + "4" + "".join(rng.choice(ALPHABET[:10]) for _ in range(7))
        code = with_check_characters(body)
        if code not in taken:
            taken.add(code)
            return code


def contact(spec: OrgSpec, rng: random.Random) -> Json:
    person = spec.contact.removeprefix("Prof. ").removeprefix("Dr. ")
    email = f"{person.lower().replace(' ', '.')}@{spec.key}.example"
    area = AREA_CODES[spec.division]
    digits = 8 if len(area) == 2 else 7
    phone = f"+86 {area} {rng.randint(10 ** (digits - 1) * 2, 10**digits - 1)}"
    return {"name": spec.contact, "email": email, "phone": phone}


def start_date(spec: OrgSpec, today: date, rng: random.Random) -> date | None:
    """The first day of membership that gives the planned standing today."""
    match spec.plan:
        case "founding":
            return date(spec.ago, rng.randint(1, 12), rng.randint(1, 28))
        case "current" | "suspended":
            return add_months(today, -spec.ago) - timedelta(days=rng.randint(0, 20))
        case "new":
            return today - timedelta(days=spec.ago) if spec.ago else None
        case "grace":  # the period (a year from the start, inclusive) ended ``ago`` days ago
            end = today - timedelta(days=spec.ago)
            return add_months(end + timedelta(days=1), -12)
        case "expired":
            return add_months(today, -spec.ago)
    raise ValueError(f"no start date for plan {spec.plan}")


# --- membership ------------------------------------------------------------------------------


def load_members(ctx: Context) -> None:
    gw, rng = ctx.gw, ctx.rng
    taken: set[str] = set()
    applications = []
    for spec in ORGANISATIONS:
        ctx.specs[spec.key] = spec
        body = {
            "name": spec.name,
            "credit_code": credit_code(spec, rng, taken),
            "org_type": spec.org_type,
            "segments": list(spec.segments),
            "region": spec.region,
            "tier": spec.tier,
            "contact": contact(spec, rng),
        }
        applications.append(
            (spec, body, start_date(spec, ctx.today, rng) if spec.plan not in ("pending", "rejected") else None)
        )

    def apply(item: tuple[OrgSpec, Json, date | None]) -> Json:
        spec, body, _ = item
        applicant = gw.login(f"admin@{spec.key}.example", ["member_admin"], f"applicant-{spec.key}")
        org = gw.post(f"{API}/membership/applications", applicant, body)
        if spec.plan != "pending":
            org = gw.post(f"{API}/membership/organisations/{org['id']}/review", ctx.secretariat, {"decision": "accept"})
        return org

    for (spec, _, _), org in zip(applications, gw.map(apply, applications), strict=True):
        ctx.orgs[spec.key] = org
    ctx.say(f"{len(applications)} applications filed and reviewed; the council decides")

    # One by one, in list order, so that membership numbers follow it.
    for spec, _, first_day in applications:
        org_id = ctx.orgs[spec.key]["id"]
        if spec.plan == "pending":
            continue
        if spec.plan == "rejected":
            decision: Json = {"decision": "reject", "reason": REJECTION_REASON}
        else:
            decision = {"decision": "admit"}
            if first_day is not None:
                decision["start_date"] = first_day.isoformat()
        ctx.orgs[spec.key] = gw.post(f"{API}/membership/organisations/{org_id}/decision", ctx.council, decision)

    founding = [s for s in ORGANISATIONS if s.plan == "founding"]

    def renew(spec: OrgSpec) -> Json:
        return gw.post(f"{API}/membership/organisations/{ctx.orgs[spec.key]['id']}/renewal", ctx.secretariat, {})

    for spec, org in zip(founding, gw.map(renew, founding), strict=True):
        ctx.orgs[spec.key] = org
    ctx.say(f"council decided; {len(founding)} founding members renewed after their periods lapsed")


def suspend_members(ctx: Context) -> None:
    for spec in ORGANISATIONS:
        if spec.plan == "suspended":
            ctx.orgs[spec.key] = ctx.gw.post(
                f"{API}/membership/organisations/{ctx.orgs[spec.key]['id']}/suspension",
                ctx.secretariat,
                {"reason": SUSPENSION_REASON},
            )


# --- patents and the pool --------------------------------------------------------------------


@dataclass
class Evaluation:
    plan: PatentPlan
    programme: ProgrammeSpec
    expert: tuple[str, str | None]  # subject, organisation key
    result: str | None  # None: left with the expert (under evaluation)
    reason: str
    assign: bool = True


def create_programmes(ctx: Context) -> None:
    for spec in PROGRAMMES:
        body = {"name": spec.name, "standard_ref": spec.standard_ref, "description": spec.description}
        programme = ctx.gw.post(f"{API}/licensing/programmes", ctx.secretariat, body)
        ctx.programmes[spec.key] = ctx.gw.call(
            "PUT", f"{API}/licensing/programmes/{programme['id']}/schedule", ctx.secretariat, dict(spec.schedule)
        )
    ctx.say(f"{len(PROGRAMMES)} programmes created with published rate schedules")


def plan_evaluations(ctx: Context, plans: list[PatentPlan]) -> list[Evaluation]:
    rng = ctx.rng
    by_segment = {s: p for p in PROGRAMMES for s in p.segments}
    packaging = next(p for p in PROGRAMMES if p.key == "packaging")
    experts = list(EXPERTS)
    evaluations: list[Evaluation] = []
    recent = 0  # submissions of new members: some still with the expert, some awaiting one
    for plan in plans:
        if not plan.granted_in_force or rng.random() < 0.07:  # pending, expired, or kept out by its owner
            continue
        targets = [by_segment[plan.segment]]
        if plan.segment == "chip" and rng.random() < 0.15:  # chip-scale package structures: both pools
            targets.append(packaging)
        for programme in targets:
            expert = rng.choice(experts)
            clause, subject = rng.choice(CLAUSES[plan.segment])
            std = programme.standard_ref
            not_essential = rng.random() < (0.5 if plan.segment == "equipment" else 0.06)
            if not_essential or (programme is packaging and plan.segment == "chip" and rng.random() < 0.4):
                template = NOT_ESSENTIAL_REASONS.get(plan.segment, NOT_ESSENTIAL_REASONS["default"])
                result, reason = "not_essential", template.format(std=std, clause=clause)
            else:
                result = "essential"
                reason = (
                    f"Claim 1 reads on clause {clause} of {std} ({subject}): every element of the claim is "
                    f"required of a compliant product and the clause leaves no alternative. Claim chart "
                    f"{plan.family}/{plan.body['office']} on file with the secretariat."
                )
            evaluation = Evaluation(plan, programme, expert, result, reason)
            if ctx.specs[plan.owner].plan == "new":
                recent += 1
                if recent % 3 == 1:
                    evaluation.result = None  # under evaluation
                elif recent % 3 == 2:
                    evaluation.result, evaluation.assign = None, False  # awaiting an evaluator
            evaluations.append(evaluation)
    return evaluations


def contribute_and_evaluate(ctx: Context, plans: list[PatentPlan], evaluations: list[Evaluation]) -> Counter[str]:
    """POST every patent as its owner's administrator, then at once its planned submissions (assigned to
    an expert, evaluated): one patent's steps in order, the patents in parallel. Returns the submissions'
    statuses."""
    gw = ctx.gw
    planned: dict[str, list[Evaluation]] = {}
    for e in evaluations:
        planned.setdefault(e.plan.body["number"], []).append(e)

    def evaluate(e: Evaluation, patent_id: str) -> str:
        programme_id = ctx.programmes[e.programme.key]["id"]
        submission = gw.post(
            f"{API}/licensing/programmes/{programme_id}/submissions", ctx.admin(e.plan.owner), {"patent_id": patent_id}
        )
        if not e.assign:
            return str(submission["status"])
        subject, org_key = e.expert
        org_id = ctx.orgs[org_key]["id"] if org_key else None
        if org_key == e.plan.owner:
            raise DemoError(f"{subject} may not evaluate a patent of their own organisation")
        submission = gw.post(
            f"{API}/licensing/submissions/{submission['id']}/assignment",
            ctx.secretariat,
            {"evaluator_id": subject, "evaluator_org_id": org_id},
        )
        if e.result is None:
            return str(submission["status"])
        expert = gw.login(subject, ["expert"], org_id)
        done = gw.post(
            f"{API}/licensing/submissions/{submission['id']}/evaluation",
            expert,
            {"result": e.result, "reason": e.reason},
        )
        return str(done["status"])

    def run(plan: PatentPlan) -> list[str]:
        patent = gw.post(f"{API}/licensing/patents", ctx.admin(plan.owner), plan.body)
        return [evaluate(e, patent["id"]) for e in planned.get(plan.body["number"], [])]

    statuses: Counter[str] = Counter()
    for found in gw.map(run, plans):
        statuses.update(found)
    offices = Counter(p.body["office"] for p in plans)
    ctx.say(f"{len(plans)} patents contributed ({', '.join(f'{o} {n}' for o, n in sorted(offices.items()))})")
    ctx.say("submissions " + ", ".join(f"{n} {s}" for s, n in statuses.most_common()))
    return statuses


# --- licensees and royalties -----------------------------------------------------------------


@dataclass
class Account:
    licensee: LicenseeSpec
    programme: ProgrammeSpec
    headers: Headers
    reports: list[Json]  # POST bodies, oldest quarter first
    filed: list[Json] = field(default_factory=list)


def licensee_org_id(ctx: Context, spec: LicenseeSpec) -> str:
    return spec.key if spec.outside else str(ctx.orgs[spec.key]["id"])


def prepare_licensees(ctx: Context, quarters: list[str]) -> None:
    """Sign the outside licensees' programme licences; wait for the members' cross-licences."""
    gw = ctx.gw
    for spec in LICENSEES:
        if not spec.outside:
            continue
        for key in sorted({line.programme for line in spec.lines}):
            start = add_months(quarter_start(quarters[0]), -ctx.rng.randint(1, 9))
            gw.post(
                f"{API}/licensing/programmes/{ctx.programmes[key]['id']}/licences",
                ctx.secretariat,
                {
                    "licensee_id": spec.key,
                    "licensee_name": spec.name,
                    "start_date": start.isoformat(),
                    "territory": list(spec.territory),
                },
            )

    members = [s for s in LICENSEES if not s.outside]

    def cross_licence_in_force() -> bool:
        for spec in members:
            response = gw.request(
                "GET", f"{API}/licensing/licences/XL-{ctx.orgs[spec.key]['id']}", ctx.secretariat, expect=(200, 404)
            )
            if response.status_code == 404 or not response.json()["in_force"]:
                return False
        return True

    wait_until("the member licensees' cross-licences (membership events)", cross_licence_in_force, timeout=90)
    ctx.say(f"{len(LICENSEES)} licensees ready ({len(members)} members, {len(LICENSEES) - len(members)} outside)")


def plan_accounts(ctx: Context, quarters: list[str]) -> list[Account]:
    rng = ctx.rng
    seasonal = {1: 0.86, 2: 0.97, 3: 1.05, 4: 1.14}
    accounts: list[Account] = []
    for spec in LICENSEES:
        org_id = licensee_org_id(ctx, spec)
        if spec.outside:
            headers = ctx.gw.login(f"royalties@{spec.key.lower()}.example", ["licensee"], org_id)
        else:
            headers = ctx.admin(spec.key)
        for programme in PROGRAMMES:
            lines = [line for line in spec.lines if line.programme == programme.key]
            if not lines:
                continue
            bodies = []
            for i, period in enumerate(quarters):
                quarter = int(period[-1])
                report_lines = []
                for line in lines:
                    units = line.units * (1 + 0.035 * i) * seasonal[quarter] * rng.uniform(0.9, 1.1)
                    step = 1000 if units >= 100_000 else 100
                    report_lines.append(
                        {
                            "product_category": line.category,
                            "units": int(round(units / step) * step),
                            "country_of_manufacture": line.made_in,
                            "country_of_sale": line.sold_in,
                        }
                    )
                if i == len(quarters) - 1 and spec.key == "LIC-MY-PENANG":  # a correction for an earlier quarter
                    first = lines[0]
                    report_lines.append(
                        {
                            "product_category": first.category,
                            "units": 1_250_000,
                            "period": quarters[1],
                            "country_of_manufacture": first.made_in,
                            "country_of_sale": first.sold_in,
                        }
                    )
                bodies.append({"period": period, "lines": report_lines})
            accounts.append(Account(spec, programme, headers, bodies))
    return accounts


def history_dates(ctx: Context, account: Account, index: int, period: str) -> tuple[date, date]:
    """When a past report was filed and paid: most within the 30-day filing deadline, about one in
    ten late; paid 5–25 days later (never after today). Deterministic per account and report."""
    rng = random.Random(f"{account.licensee.key}/{account.programme.key}/{index}")
    end = add_months(quarter_start(period), 3) - timedelta(days=1)
    filed_on = min(end + timedelta(days=rng.randint(31, 45) if rng.random() < 0.1 else rng.randint(5, 28)), ctx.today)
    return filed_on, min(filed_on + timedelta(days=rng.randint(5, 25)), ctx.today)


def file_and_pay(ctx: Context, accounts: list[Account]) -> tuple[list[Json], int, int]:
    """The secretariat records each licensee's past quarters in order (each report moves the account's
    year to date) with the day each was filed, and each payment with the day it came in: most in
    full, one in part, one not at all. Compliance (the compliant rate) counts from those dates."""
    gw = ctx.gw

    def run(account: Account) -> tuple[int, int]:
        programme_id = ctx.programmes[account.programme.key]["id"]
        filed_by = licensee_org_id(ctx, account.licensee)
        paid = unpaid = 0
        for index, body in enumerate(account.reports):
            filed_on, received_on = history_dates(ctx, account, index, body["period"])
            report = gw.post(
                f"{API}/licensing/programmes/{programme_id}/reports",
                ctx.secretariat,
                {**body, "filed_by": filed_by, "filed_on": filed_on.isoformat()},
            )
            key = (account.licensee.key, account.programme.key, index)
            amount = Decimal(report["outstanding"])
            if key in UNPAID_REPORTS:
                unpaid += 1
            elif amount > 0:  # zero: no listed patent covered its lines, nothing is due
                if key in PART_PAID_REPORTS:
                    amount = (amount / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
                    unpaid += 1
                report = gw.post(
                    f"{API}/licensing/reports/{report['id']}/payments",
                    ctx.secretariat,
                    {"amount": str(amount), "received_on": received_on.isoformat()},
                )
                paid += 1
            account.filed.append(report)
        return paid, unpaid

    results = gw.map(run, accounts, HEAVY_WORKERS)
    paid, unpaid = sum(r[0] for r in results), sum(r[1] for r in results)
    reports = [r for a in accounts for r in a.filed]
    total = sum(Decimal(r["total"]) for r in reports)
    ctx.say(
        f"{len(reports)} royalty reports filed by {len({a.licensee.key for a in accounts})} licensees "
        f"for {len({r['period'] for r in reports})} quarters, USD {total:,.2f} invoiced; "
        f"{paid} payments recorded, {unpaid} report(s) still outstanding"
    )
    return reports, paid, unpaid


def distribute(ctx: Context, quarters: list[str]) -> list[Json]:
    """Each programme's ended quarters, distributed at once (they are independent); said in order."""
    work = [(spec, period) for spec in PROGRAMMES for period in quarters]

    def run(item: tuple[ProgrammeSpec, str]) -> tuple[int, Json]:
        spec, period = item
        programme_id = ctx.programmes[spec.key]["id"]
        response = ctx.gw.request(
            "POST",
            f"{API}/licensing/programmes/{programme_id}/distributions",
            ctx.secretariat,
            {"period": period},
            expect=(201, 409),
        )
        return response.status_code, response.json()

    done: list[Json] = []
    for (spec, period), (status, body) in zip(work, ctx.gw.map(run, work), strict=True):
        if status == 409:
            ctx.say(f"{spec.name} {period} not distributed: {body.get('detail')}")
            continue
        done.append(body)
        ctx.say(
            f"{spec.name} {period}: USD {Decimal(body['distributable']):,.2f} distributed "
            f"to {len(body['statements'])} licensors"
        )
    return done


@dataclass
class Pool:
    """What the patent pool's flow made."""

    plans: list[PatentPlan]
    submissions: Counter[str]
    reports: list[Json]
    paid: int
    outstanding: int
    distributions: list[Json]


def load_pool(ctx: Context) -> Pool:
    """Patents, programmes and evaluations, then a year of royalty reports, payments and distributions."""
    create_programmes(ctx)
    plans = portfolio(ORGANISATIONS, ctx.today, ctx.rng)
    evaluations = plan_evaluations(ctx, plans)
    submissions = contribute_and_evaluate(ctx, plans, evaluations)

    quarters = last_ended_quarters(ctx.today)
    prepare_licensees(ctx, quarters)
    accounts = plan_accounts(ctx, quarters)
    reports, paid, outstanding = file_and_pay(ctx, accounts)
    distributions = distribute(ctx, quarters)
    return Pool(plans, submissions, reports, paid, outstanding, distributions)


# --- the whole demo --------------------------------------------------------------------------


def link_demo_people(ctx: Context) -> dict[str, str | None]:
    """The realm's demo people (``DEMO_PEOPLE``) in real demo organisations: each signs in once with
    the organisation's id (with Keycloak that sets their ``org`` attribute), and a member's people are
    added to its users in membership (the secretariat's call; an existing one stays). E-mail -> org id.
    The people are linked in parallel (each their own account)."""

    def link(person: DemoPerson) -> str | None:
        org_id = None
        if person.org_key is not None:
            org = ctx.orgs.get(person.org_key)
            org_id = str(org["id"]) if org is not None else person.org_key  # else an outside licensee's id
        ctx.gw.login(person.email, [person.role], org_id)
        if person.role in ("member_admin", "member_staff") and org_id is not None:
            user = {"subject": person.email, "name": person.name, "email": person.email, "role": person.role}
            ctx.gw.request(
                "POST", f"{API}/membership/organisations/{org_id}/users", ctx.secretariat, user, expect=(200, 201, 409)
            )
        return org_id

    linked = {person.email: org_id for person, org_id in zip(DEMO_PEOPLE, ctx.gw.map(link, DEMO_PEOPLE), strict=True)}
    ctx.say(f"the {len(DEMO_PEOPLE)} demo people are linked to their organisations")
    return linked


def load(gateway_url: str, tokens: TokenSource | None = None) -> dict[str, Any]:
    """Load the demo through the gateway; ``tokens``: how its people sign in (None: the dev login)."""
    started = time.monotonic()
    today = datetime.now(UTC).date()  # the services' clock
    say("loading demo data through the gateway")
    with Gateway(gateway_url, tokens=tokens) as gw:
        staff = [("secretariat@alliance.example", ["secretariat"]), ("council@alliance.example", ["council"])]
        secretariat, council = gw.map(lambda who: gw.login(*who), staff)  # both sign in at once
        ctx = Context(gw, today, random.Random(SEED), secretariat=secretariat, council=council)
        load_members(ctx)
        suspend_members(ctx)
        people = link_demo_people(ctx)
        # Every member's administrator signs in now, before the flows below: with Keycloak a first
        # sign-in creates or updates an account, which must not eat into the standards' seconds-long
        # comment period.
        admitted = [s.key for s in ORGANISATIONS if s.plan not in ("pending", "rejected")]
        gw.map(ctx.admin, admitted)
        # Once the members are admitted, the pool, the standards and the training season are independent:
        # they run at once (each its calls in order), so the standards' comment and ballot windows and the
        # course's start are waited out while the pool's calls go on. Only the pool draws from ctx.rng.
        flows = gw.together(lambda: load_pool(ctx), lambda: load_standards(ctx), lambda: load_training(ctx))
        pool: Pool = flows[0]
        projects: list[Json] = flows[1]
        sessions, registrations = flows[2]

        organisations = gw.get_all(f"{API}/membership/organisations", ctx.secretariat, {"limit": "200"})
        calls = gw.calls
        for route, spent in gw.slowest():
            mean_ms, slowest_ms = spent.seconds / spent.calls * 1000, spent.slowest * 1000
            ctx.say(
                f"  time in {route}: {spent.seconds:.1f}s over {spent.calls} calls "
                f"(mean {mean_ms:.0f} ms, slowest {slowest_ms:.0f} ms)"
            )
        if gw.rate_limited:
            ctx.say(f"  {gw.rate_limited} answers were 429 (rate limited) and waited out")
        report = getattr(tokens, "report", None)  # KeycloakAccounts: where the Keycloak time went
        if report is not None:
            for line in report():
                ctx.say(f"  Keycloak {line}")
    members = [o for o in organisations if o["status"] == "admitted"]
    standing = Counter(str(o["standing"]) for o in members)
    applications = Counter(str(o["status"]) for o in organisations if o["status"] != "admitted")
    elapsed = time.monotonic() - started
    summary: dict[str, Any] = {
        "members": len(members),
        "standing": dict(standing),
        "applications": dict(applications),
        "patents": len(pool.plans),
        "submissions": dict(pool.submissions),
        "essential": pool.submissions.get("essential", 0),
        "programmes": len(ctx.programmes),
        "licensees": len(LICENSEES),
        "reports": len(pool.reports),
        "payments": pool.paid,
        "outstanding_reports": pool.outstanding,
        "distributions": len(pool.distributions),
        "projects": len(projects),
        "sessions": len(sessions),
        "registrations": len(registrations),
        "people": people,
        "calls": calls,
        "rate_limited": gw.rate_limited,
        "seconds": round(elapsed, 1),
    }
    say(
        f"demo data: {len(members)} members ({', '.join(f'{n} {s}' for s, n in standing.most_common())}), "
        f"{len(pool.plans)} patents ({pool.submissions.get('essential', 0)} essential), "
        f"{len(ctx.programmes)} programmes, "
        f"{len(pool.reports)} reports, {len(pool.distributions)} distributions, {len(projects)} projects, "
        f"{len(sessions)} sessions — {calls} calls in {elapsed:.0f}s"
    )
    return summary
