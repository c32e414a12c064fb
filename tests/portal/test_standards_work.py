"""Standards work in the browser: a member proposes a project, the council and the secretariat take
it through its stages, a member comments and the chair disposes, the chair answers the IPR call, a
member votes in the ballot and the vote counts once (a colleague's second vote for the same
organisation is refused with the API's reason shown).

The organisations are admitted and their people made through the API and Keycloak's admin API
(never the database); everything else is done by people in the browser.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from alliance_local.infra import Keycloak
from alliance_local.stack import Stack
from membership.domain.credit_code import ALPHABET, with_check_characters
from tests.portal.flows import call, person_token, sign_in
from tests.portal.harness import DESKTOP, Portal, admin_call, client_uuid

pytestmark = pytest.mark.infra

_codes = itertools.count(1)


# --- set-up through the API and Keycloak's admin API ---------------------------------------------


def credit_code() -> str:
    n = next(_codes) * 7919 + uuid.uuid4().int % 1_000_000
    body = "".join(ALPHABET[(n // 31**i) % 31] for i in range(8))
    return with_check_characters(f"914403{n % 100:02d}{body}")


def admit(stack: Stack, keycloak: Keycloak, name: str) -> str:
    """Apply for, review and admit an organisation (the secretariat applies on its behalf)."""
    staff, council = person_token(keycloak, "secretariat"), person_token(keycloak, "council")
    application = {
        "name": name,
        "credit_code": credit_code(),
        "org_type": "enterprise",
        "segments": ["packaging"],
        "region": "CN-GD",
        "contact": {"name": "Li Ming", "email": "li.ming@example.com"},
    }
    org = call(stack, staff, "POST", "/api/v1/membership/applications", application)
    call(stack, staff, "POST", f"/api/v1/membership/organisations/{org['id']}/review", {"decision": "accept"})
    call(stack, council, "POST", f"/api/v1/membership/organisations/{org['id']}/decision", {"decision": "admit"})
    return str(org["id"])


def person(keycloak: Keycloak, org_id: str, role: str, first: str, last: str) -> tuple[str, str]:
    """A person of ``org_id`` with a client role of ``alliance-platform``: (username, password)."""
    username = f"{first.lower()}.{uuid.uuid4().hex[:6]}@example.com"
    password = f"pw-{uuid.uuid4().hex[:10]}"
    admin_call(
        keycloak,
        "POST",
        "/users",
        {
            "username": username,
            "email": username,
            "emailVerified": True,
            "enabled": True,
            "firstName": first,
            "lastName": last,
            "attributes": {"org": [org_id]},
            "credentials": [{"type": "password", "value": password, "temporary": False}],
            "requiredActions": [],
        },
    )
    user_id = admin_call(keycloak, "GET", f"/users?username={username}&exact=true")[0]["id"]
    platform = client_uuid(keycloak, "alliance-platform")
    granted = admin_call(keycloak, "GET", f"/clients/{platform}/roles/{role}")
    admin_call(keycloak, "POST", f"/users/{user_id}/role-mappings/clients/{platform}", [granted])
    return username, password


# --- the browser ---------------------------------------------------------------------------------


def signed_in(browser: Browser, portal: Portal, username: str, password: str | None = None) -> Page:
    context = browser.new_context(viewport={"width": DESKTOP["width"], "height": DESKTOP["height"]}, locale="en-GB")
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in(page, portal, username, password)
    return page


def stage_of(page: Page) -> Any:
    return expect(page.locator(".stage-line .stage"))


def take(page: Page, action: str) -> None:
    """Take a life-cycle action and wait for the project page to say it is done."""
    with page.expect_navigation():
        page.get_by_role("button", name=action, exact=True).click()
    refused = page.get_by_role("alert")
    assert refused.count() == 0, f"{action}: {refused.first.inner_text()}"
    expect(page.locator("#notice")).to_contain_text(action)


def utc_in(seconds: int) -> tuple[datetime, str]:
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=seconds)
    return moment, moment.strftime("%Y-%m-%dT%H:%M:%S")


def test_a_project_goes_from_proposal_to_ballot_and_a_vote_counts_once(
    browser: Browser,
    page: Page,
    portal: Portal,
    portal_stack: Stack,
    keycloak: Keycloak,
    screenshot: Callable[[Page, str], None],
) -> None:
    expect.set_options(timeout=20_000)  # a loaded machine: each step calls the gateway several times
    run = uuid.uuid4().hex[:4]
    names = {key: f"{key.title()} LED Co., Ltd. {run}" for key in ("chair", "editor", "voter")}
    orgs = {key: admit(portal_stack, keycloak, name) for key, name in names.items()}
    chair_login = person(keycloak, orgs["chair"], "member_admin", "Chen", "Li")
    voter_login = person(keycloak, orgs["voter"], "member_admin", "Zhou", "Min")
    colleague_login = person(keycloak, orgs["voter"], "member_staff", "Sun", "Lei")

    # Everyone signs in first (the comment period below is short).
    chair = page
    sign_in(chair, portal, *chair_login)
    council = signed_in(browser, portal, "council")
    secretariat = signed_in(browser, portal, "secretariat")
    voter = signed_in(browser, portal, *voter_login)
    colleague = signed_in(browser, portal, *colleague_login)

    # A member proposes: first with a title the API finds too short (its reason shows at the field).
    chair.goto(portal.url + "/projects")
    expect(chair.get_by_role("heading", level=1)).to_have_text("Standards work")
    chair.get_by_role("link", name="Propose a standards project").click()
    scope = "Test conditions and method for the lumen maintenance of white LED packages."
    chair.get_by_label("Title").fill("LED")
    chair.get_by_label("Scope").fill(scope)
    chair.get_by_role("button", name="Send the proposal").click()
    expect(chair.locator("#e-title")).to_be_visible()
    title = f"Lumen maintenance of white LED packages {run}"
    deadline = time.monotonic() + 60
    while True:  # the organisation's standing reaches the standards service by events
        chair.get_by_label("Title").fill(title)
        chair.get_by_label("Scope").fill(scope)
        chair.get_by_role("button", name="Send the proposal").click()
        if chair.get_by_role("heading", level=1).inner_text() != "Not allowed" or time.monotonic() > deadline:
            break
        time.sleep(1)
        chair.goto(portal.url + "/projects/new")
    expect(chair.get_by_role("heading", level=1)).to_have_text(title)
    stage_of(chair).to_have_text("Proposed")
    expect(chair.locator("#notice")).to_contain_text("Your proposal has been sent to the council")
    expect(chair.get_by_text("There is nothing for you to do on this project in its current stage.")).to_be_visible()
    project_url = chair.url.split("?")[0]
    project_id = project_url.rsplit("/", 1)[1]

    # The council approves it; the council is not offered the secretariat's moves.
    council.goto(project_url)
    expect(council.get_by_role("button", name="Reject the proposal")).to_be_visible()
    take(council, "Approve the proposal")
    stage_of(council).to_have_text("Accepted")
    expect(council.get_by_role("button", name="Open the ballot")).to_have_count(0)

    # The secretariat sets the working group (chair, editor), forms it, and moves the drafting on.
    secretariat.goto(project_url)
    secretariat.get_by_text("Set the working group").click()
    secretariat.get_by_role("combobox", name=names["chair"], exact=True).select_option("chair")
    secretariat.get_by_role("textbox", name=f"Person: {names['chair']}").fill("Dr. Chen Li")
    secretariat.get_by_role("combobox", name=names["editor"], exact=True).select_option("editor")
    secretariat.get_by_role("button", name="Save the working group").click()
    expect(secretariat.locator("#notice")).to_contain_text("The working group has been saved")
    expect(secretariat.locator("section[aria-labelledby=wg-h] > .table-wrap")).to_contain_text("Dr. Chen Li")
    take(secretariat, "Form the working group")
    stage_of(secretariat).to_have_text("Working group formed")
    take(secretariat, "Start drafting")
    secretariat.get_by_text("Add a draft version").click()
    secretariat.get_by_label("Document").fill("https://docs.example/wd1.pdf")
    secretariat.get_by_label("Notes (optional)").fill("First working draft")
    secretariat.get_by_role("button", name="Add the version").click()
    expect(secretariat.locator("#notice")).to_contain_text("The draft version has been added")
    expect(secretariat.get_by_role("link", name="https://docs.example/wd1.pdf")).to_be_visible()
    take(secretariat, "Submit as committee draft")
    stage_of(secretariat).to_have_text("Committee draft")
    comment_closes, value = utc_in(60)
    secretariat.get_by_label("The comment period closes at (UTC)").fill(value)
    take(secretariat, "Open the public comment period")
    stage_of(secretariat).to_have_text("Public comment")
    screenshot(secretariat, "standards-project-secretariat")

    # A member comments during the period; the chair disposes of the comment.
    voter.goto(f"{project_url}/comments")
    voter.get_by_label("Clause").fill("6.2")
    voter.get_by_label("Comment", exact=True).fill("6,000 h is too short to extrapolate L70.")
    voter.get_by_role("button", name="Send the comment").click()
    expect(voter.locator("#notice")).to_contain_text("Your comment has been recorded")
    expect(voter.get_by_text("6,000 h is too short to extrapolate L70.")).to_be_visible()
    chair.goto(f"{project_url}/comments")
    expect(chair.get_by_text("Awaiting a disposition")).to_be_visible()
    chair.get_by_label("Disposition", exact=True).select_option("rejected")
    chair.get_by_label("Reason", exact=True).fill("Extrapolation is out of this standard's scope.")
    chair.get_by_role("button", name="Record the disposition").click()
    expect(chair.locator("#notice")).to_contain_text("The disposition has been recorded")
    expect(chair.get_by_text("Rejected — Extrapolation is out of this standard's scope.")).to_be_visible()
    screenshot(chair, "standards-comments")

    # The chair declares a patent on draft 1, which answers the committee draft's IPR call.
    chair.goto(f"{project_url}/ipr")
    expect(chair.get_by_role("heading", name="Committee draft circulated")).to_be_visible()
    chair.get_by_text("Declare a patent").click()
    chair.get_by_label("Patent office").fill("CN")
    chair.get_by_label("Patent number").fill("CN112345678B")
    chair.get_by_label("Patent title").fill("LED package lumen maintenance fixture")
    chair.get_by_label("Licensing commitment").select_option("frand")
    chair.get_by_role("button", name="Declare the patent").click()
    expect(chair.locator("#notice")).to_contain_text("The declaration has been recorded")
    expect(chair.get_by_role("cell", name=re.compile("CN CN112345678B"))).to_be_visible()
    # Declaring answers the open call for the organisation ("declarations made").
    expect(chair.get_by_role("button", name="We have made our declarations")).to_have_count(0)
    expect(chair.get_by_text(f"{names['chair']} (Your organisation): Declarations made")).to_be_visible()
    screenshot(chair, "standards-ipr")

    # Once the period is over, the secretariat opens the ballot (quorum 1).
    while datetime.now(UTC) < comment_closes + timedelta(seconds=1):
        time.sleep(1)
    secretariat.goto(project_url)
    secretariat.get_by_label("Quorum (votes returned)").fill("1")
    # Long enough for the votes below on a loaded machine (they take ~10 s); the test then waits for
    # it to close, unless every eligible member of the portal's platform has voted by then.
    ballot_closes, value = utc_in(75)
    secretariat.get_by_label("The ballot closes at (UTC)").fill(value)
    take(secretariat, "Open the ballot")
    stage_of(secretariat).to_have_text("Ballot")

    # Two people of one organisation have the ballot open; one votes, the other's vote is refused.
    colleague.goto(f"{project_url}/ballot")
    voter.goto(f"{project_url}/ballot")
    expect(voter.locator("#can-pass")).to_contain_text("cannot pass")
    voter.get_by_label("Approve", exact=True).check()
    voter.get_by_role("button", name="Cast the vote").click()
    expect(voter.locator("#own-vote")).to_contain_text("Your organisation voted “Approve”")
    expect(voter.locator("#can-pass")).to_have_text("With the votes so far, the ballot can pass.")
    expect(voter.get_by_role("button", name="Cast the vote")).to_have_count(0)
    screenshot(voter, "standards-ballot")

    colleague.get_by_label("Disapprove", exact=True).check()
    colleague.get_by_label("Reason", exact=True).fill("Clause 6.2 conflicts with GB/T 24824.")
    colleague.get_by_role("button", name="Cast the vote").click()
    expect(colleague.get_by_role("alert")).to_contain_text(f"organisation {orgs['voter']} has already voted")
    expect(colleague.locator("#own-vote")).to_contain_text("Your organisation voted “Approve”")
    expect(colleague.locator("#tally-approve strong")).to_have_text("1")
    expect(colleague.locator("#tally-disapprove strong")).to_have_text("0")
    ballot = call(
        portal_stack, person_token(keycloak, "secretariat"), "GET", f"/api/v1/standards/projects/{project_id}/ballot"
    )
    assert (ballot["tally"]["approve"], ballot["tally"]["disapprove"], ballot["tally"]["returned"]) == (1, 0, 1)

    # The secretariat closes the ballot as approved (at once when every eligible member has voted,
    # else once the window is over), is told why it cannot publish yet, answers the open IPR calls
    # for the organisations that have not, and publishes.
    secretariat.goto(project_url)
    while True:
        with secretariat.expect_navigation():
            secretariat.get_by_role("button", name="Close the ballot as approved", exact=True).click()
        refused = secretariat.get_by_role("alert")
        if refused.count() == 0 or datetime.now(UTC) > ballot_closes + timedelta(seconds=30):
            break
        expect(refused).to_contain_text("the ballot window is open")
        time.sleep(3)
        secretariat.goto(project_url)
    stage_of(secretariat).to_have_text("Approved")
    secretariat.get_by_role("button", name="Publish", exact=True).click()
    expect(secretariat.get_by_role("alert")).to_contain_text("unanswered past its deadline")
    secretariat.goto(f"{project_url}/ipr")
    while secretariat.get_by_role("button", name="We know of no patents").count():
        with secretariat.expect_navigation():
            secretariat.get_by_role("button", name="We know of no patents").first.click()
        expect(secretariat.locator("#notice")).to_contain_text("Your answer has been recorded")
    expect(secretariat.get_by_text("Every organisation has answered.").first).to_be_visible()
    secretariat.goto(project_url)
    take(secretariat, "Publish")
    stage_of(secretariat).to_have_text("Published")
    expect(secretariat.locator(".std-number")).to_contain_text("T/LEDA")
    screenshot(secretariat, "standards-project-published")

    # The list, filtered by stage, and in Chinese.
    voter.goto(portal.url + "/projects?stage=published")
    expect(voter.get_by_role("link", name=title)).to_be_visible()
    screenshot(voter, "standards-list")
    voter.get_by_role("link", name="中文").click()
    expect(voter.get_by_role("heading", level=1)).to_have_text("标准工作")
    expect(voter.locator("table.projects")).to_contain_text("已发布")
    screenshot(voter, "standards-list-zh")
    voter.goto(f"{project_url}/ballot")
    expect(voter.locator("#own-vote")).to_contain_text("本单位已于")
    expect(voter.get_by_role("cell", name="赞成")).to_be_visible()  # everyone's votes, once closed
    screenshot(voter, "standards-ballot-zh")
    for extra in (council, secretariat, voter, colleague):
        extra.context.close()
