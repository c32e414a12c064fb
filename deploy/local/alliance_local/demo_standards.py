"""Demo standards at different stages, made through the gateway as people would make them.

One published and filed standard (with a patent declaration that reaches licensing), one in
ballot, one in public comment, one in working draft and one proposal. The local stack runs the
standards service with short periods (seconds), so the published one gets there in seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from alliance_local.demo_data import STANDARDS_PROJECTS
from alliance_local.demo_http import Headers, Json, wait_until

if TYPE_CHECKING:  # demo.py imports this module: no import cycle at run time
    from alliance_local.demo import Context

API = "/api/v1"
STD = f"{API}/standards"

EXTRA_PROJECTS: tuple[tuple[str, str], ...] = (
    (
        "Mini-LED backlight units — reliability test methods",
        "Accelerated ageing, thermal cycling and humidity tests for mini-LED backlight units of displays.",
    ),
    (
        "UV-C LED disinfection modules — irradiance measurement",
        "Measurement of irradiance and dose uniformity of UV-C LED modules used for surface disinfection.",
    ),
    (
        "Horticultural LED luminaires — photon efficacy",
        "Definitions, test conditions and reporting of photosynthetic photon efficacy of horticultural luminaires.",
    ),
)

DRAFTS = ("https://docs.leda.example/drafts/{slug}-wd{n}.pdf",)


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


class Drafting:
    """Shortcuts for one project's life cycle through the gateway."""

    def __init__(self, ctx: Context, chair: str, editor: str, participant: str) -> None:
        self.ctx = ctx
        self.keys = (chair, editor, participant)
        self.chair, self.editor, self.participant = (ctx.orgs[k]["id"] for k in self.keys)

    def step(self, project: Json, action: str, headers: Headers | None = None, **extra: object) -> Json:
        body: Json = {"action": action, "reason": f"{action.replace('_', ' ')}: agreed in the meeting", **extra}
        result: Json = self.ctx.gw.post(
            f"{STD}/projects/{project['id']}/transitions", headers or self.ctx.secretariat, body
        )
        return result

    def retry(
        self,
        what: str,
        method: str,
        path: str,
        headers: Headers,
        body: Json,
        retry_on: tuple[int, ...],
        timeout: float = 60,
    ) -> Json:
        found: list[Json] = []

        def done() -> bool:
            response = self.ctx.gw.request(method, path, headers, body, expect=(200, 201, *retry_on))
            if response.status_code in (200, 201):
                found.append(response.json())
            return bool(found)

        wait_until(what, done, timeout=timeout)
        return found[0]

    def propose(self, title: str, scope: str) -> Json:
        return self.retry(
            f"{title[:30]}…: the proposer's standing in standards",
            "POST",
            f"{STD}/projects",
            self.ctx.admin(self.keys[0]),
            {"title": title, "scope": scope},
            retry_on=(403,),
        )

    def to_working_draft(self, project: Json, versions: int = 1) -> None:
        self.step(project, "approve_proposal", self.ctx.council)
        members = [
            {"org_id": self.chair, "role": "chair", "person": "Dr. Chen Li"},
            {"org_id": self.editor, "role": "editor", "person": "Wang Fang"},
            {"org_id": self.participant, "role": "participant"},
        ]
        self.retry(
            "the working group's standing in standards",
            "PUT",
            f"{STD}/projects/{project['id']}/working-group",
            self.ctx.secretariat,
            {"members": members},
            retry_on=(422,),
        )
        self.step(project, "form_working_group")
        self.step(project, "start_drafting", self.ctx.admin(self.keys[0]))
        slug = project["id"][:8]
        for n in range(1, versions + 1):
            self.ctx.gw.post(
                f"{STD}/projects/{project['id']}/drafts",
                self.ctx.admin(self.keys[1]),
                {
                    "uri": DRAFTS[0].format(slug=slug, n=n),
                    "notes": f"working draft {n}",
                },
            )

    def to_public_comment(self, project: Json, closes_in_s: float) -> None:
        self.to_working_draft(project, versions=2)
        self.step(project, "submit_committee_draft", self.ctx.admin(self.keys[0]))
        self.step(project, "open_public_comment", comment_closes_at=_later(closes_in_s))

    def comment(self, project: Json, key: str, clause: str, text: str) -> Json:
        return self.ctx.gw.post(
            f"{STD}/projects/{project['id']}/comments", self.ctx.admin(key), {"clause": clause, "text": text}
        )

    def to_ballot(self, project: Json, closes_in_s: float, quorum: int, comments: list[tuple[str, str, str]]) -> None:
        self.to_public_comment(project, closes_in_s=3)
        for key, clause, text in comments:
            made = self.comment(project, key, clause, text)
            self.ctx.gw.post(
                f"{STD}/projects/{project['id']}/comments/{made['id']}/disposition",
                self.ctx.admin(self.keys[0]),
                {"disposition": "accepted_in_part", "reason": "Clause reworded; the limit stays."},
            )
        self.retry(
            "the end of the public comment period",
            "POST",
            f"{STD}/projects/{project['id']}/transitions",
            self.ctx.secretariat,
            {"action": "open_ballot", "ballot_quorum": quorum, "ballot_closes_at": _later(closes_in_s)},
            retry_on=(409,),
        )

    def vote(self, project: Json, key: str, position: str = "approve", reason: str | None = None) -> None:
        body: Json = {"position": position} | ({"reason": reason} if reason else {})
        self.ctx.gw.post(f"{STD}/projects/{project['id']}/ballot/votes", self.ctx.admin(key), body)


def load_standards(ctx: Context) -> list[Json]:
    """A few standards at different stages; returns the projects as last returned."""
    good = [k for k, org in ctx.orgs.items() if org.get("in_good_standing") and k in ctx.specs]
    if len(good) < 8:
        raise RuntimeError(f"the standards demo needs 8 members in good standing, found {len(good)}")
    preferred = [k for k, _, _ in STANDARDS_PROJECTS if k in good]
    rest = [k for k in good if k not in preferred]
    chairs = (preferred + rest)[:2]
    others = [k for k in good if k not in chairs]
    editor, participant, v1, v2, v3, v4 = others[:6]
    projects: list[Json] = []

    # 1. Published and filed, with the participant's patent declared (licensing opens PRG-<id>).
    first_title, first_scope = STANDARDS_PROJECTS[0][1], STANDARDS_PROJECTS[0][2]
    d = Drafting(ctx, chairs[0], editor, participant)
    ctx.say("standards: drafting, balloting and publishing the first standard")
    published = d.propose(first_title, first_scope)
    d.to_ballot(
        published,
        closes_in_s=15,
        quorum=3,
        comments=[(v1, "5.3", "Allow a 5-step MacAdam ellipse for outdoor products.")],
    )
    holder_patents = ctx.gw.get(f"{API}/licensing/patents", ctx.admin(participant), {"limit": "1"})["items"]
    calls = ctx.gw.get(f"{STD}/projects/{published['id']}/ipr-calls", ctx.secretariat)["items"]
    if holder_patents:
        p = holder_patents[0]
        ctx.gw.post(
            f"{STD}/projects/{published['id']}/declarations",
            ctx.admin(participant),
            {
                "draft_version": 2,
                "office": p["office"],
                "number": p["number"],
                "title": p["title"],
                "family_id": p.get("family_id"),
                "commitment": "frand",
            },
        )
    for call in calls:
        for org_key in (chairs[0], editor, participant):
            if ctx.orgs[org_key]["id"] in call["unanswered"] and not (org_key == participant and holder_patents):
                ctx.gw.post(
                    f"{STD}/projects/{published['id']}/ipr-calls/{call['id']}/answer",
                    ctx.admin(org_key),
                    {"no_patents_known": True},
                )
    for key in (v1, v2, v3):
        d.vote(published, key)
    d.vote(published, v4, "disapprove", "The lumen maintenance sampling plan is too small.")
    d.retry(
        "the first ballot's window to close",
        "POST",
        f"{STD}/projects/{published['id']}/transitions",
        ctx.secretariat,
        {"action": "close_ballot_approved", "reason": "3 of 4 votes cast approve"},
        retry_on=(409,),
        timeout=30,
    )
    d.step(published, "publish")
    projects.append(d.step(published, "file", registry_reference="440300-TB-2026-0017"))

    # 2. In ballot (open for two weeks), with two votes in.
    d2 = Drafting(ctx, chairs[1], participant, editor)
    ctx.say("standards: a second standard in ballot, one in public comment, one in working draft, one proposal")
    ballot = d2.propose(STANDARDS_PROJECTS[1][1], STANDARDS_PROJECTS[1][2])
    d2.to_ballot(
        ballot,
        closes_in_s=14 * 86400,
        quorum=4,
        comments=[(v2, "4.1", "Specify the patterned sapphire substrate pitch tolerance.")],
    )
    d2.vote(ballot, v1)
    d2.vote(ballot, v3, "abstain")
    projects.append(ctx.gw.get(f"{STD}/projects/{ballot['id']}", ctx.secretariat))

    # 3. In public comment for 30 days, with comments.
    d3 = Drafting(ctx, editor, chairs[0], v1)
    comment = d3.propose(*EXTRA_PROJECTS[0])
    d3.to_public_comment(comment, closes_in_s=30 * 86400)
    d3.comment(comment, v2, "6.1", "Add a 1,000-cycle thermal shock profile.")
    d3.comment(comment, v4, "8", "Report colour shift as Δu'v' per 1,000 h.")
    projects.append(ctx.gw.get(f"{STD}/projects/{comment['id']}", ctx.secretariat))

    # 4. In working draft, two versions kept.
    d4 = Drafting(ctx, participant, v2, v3)
    working = d4.propose(*EXTRA_PROJECTS[1])
    d4.to_working_draft(working, versions=2)
    projects.append(ctx.gw.get(f"{STD}/projects/{working['id']}", ctx.secretariat))

    # 5. A proposal awaiting the council.
    projects.append(Drafting(ctx, v3, v4, v1).propose(*EXTRA_PROJECTS[2]))
    return projects
