"""Standards work for signed-in people: projects in every stage, proposing one, drafts, public
comments and their dispositions, ballots and votes, IPR calls and declarations, and the staff's
life-cycle actions and working group.

Who may take which life-cycle action comes from the API's own table (``GET /standards/lifecycle``):
a button shows only when the person holds one of the actors the table names for the project's
stage (council and secretariat from their roles; chair and editor from the working group and the
person's organisation). The API stays the authority: what it refuses is shown on the page.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal.api import api_of
from portal.i18n import Catalogue
from portal.pages.projects_messages import MESSAGES_EN, MESSAGES_ZH
from portal.sessions import User
from portal.web import (
    ApiProblem,
    NotAllowed,
    PageNotFound,
    lang_of,
    page_router,
    pager,
    redirect,
    register_nav,
    render,
    require_user,
    signed_in,
)

router = page_router()
MESSAGES = Catalogue({"en": MESSAGES_EN, "zh": MESSAGES_ZH})
API = "/api/v1/standards"
MEMBER_ROLES = ("member_admin", "member_staff")
STAGES = (
    "proposed",
    "accepted",
    "working_group",
    "working_draft",
    "committee_draft",
    "public_comment",
    "ballot",
    "approved",
    "published",
    "filed",
    "under_review",
    "confirmed",
    "revised",
    "withdrawn",
    "rejected",
    "abandoned",
)
GROUP_ROLES = ("chair", "editor", "participant")
DISPOSITIONS = ("accepted", "accepted_in_part", "rejected")
POSITIONS = ("approve", "disapprove", "abstain")
COMMITMENTS = ("royalty_free", "frand", "declaration_later", "unwilling")
# Extra fields of the transition form, by action (the API's TransitionBody).
ACTION_FIELDS = {
    "open_public_comment": ("comment_closes_at",),
    "repeat_public_comment": ("comment_closes_at",),
    "open_ballot": ("ballot_closes_at", "ballot_quorum", "ballot_threshold"),
    "repeat_ballot": ("ballot_closes_at", "ballot_quorum", "ballot_threshold"),
    "file": ("registry_reference", "filed_on"),
}
MOMENT_FIELDS = ("comment_closes_at", "ballot_closes_at")

register_nav("/projects", "Standards work", "标准工作", signed_in, order=40)


# --- helpers ---------------------------------------------------------------------------------


def is_member(user: User) -> bool:
    return user.org_id is not None and user.has_any(*MEMBER_ROLES)


def actors_of(user: User, project: dict[str, Any]) -> set[str]:
    """The life-cycle actors this person is for this project, as the standards service decides them."""
    actors: set[str] = {role for role in ("council", "secretariat") if role in user.roles}
    if is_member(user):
        for member in project.get("working_group", []):
            if member["org_id"] == user.org_id and member["role"] in ("chair", "editor"):
                actors.add(member["role"])
    return actors


def when(value: str | None, with_time: bool = True) -> str:
    """An API timestamp as ``YYYY-MM-DD HH:MM UTC`` (dates unchanged)."""
    if not value:
        return "—"
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC" if with_time else "%Y-%m-%d")


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def person(subject: str | None) -> str | None:
    """A person the API names by their sign-in name, or nothing when it gives only an opaque id."""
    return None if not subject or UUID.match(subject) else subject


def is_past(value: str | None) -> bool:
    if not value:
        return False
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) <= datetime.now(UTC)
    except ValueError:
        return False


async def org_names(request: Request, user: User) -> dict[str, str]:
    """Names of the organisations this person may see: all admitted ones for staff, their own for members."""
    api = api_of(request)
    names: dict[str, str] = {}
    params: dict[str, Any] = {"limit": 200}
    if user.is_staff:
        params["status"] = "admitted"
    try:
        for _ in range(5):  # at most 1,000 organisations: more than the alliance has
            page = await api.get(request, "/api/v1/membership/organisations", params)
            names.update({o["id"]: o["name"] for o in page.get("items", [])})
            if not page.get("next_cursor"):
                break
            params["cursor"] = page["next_cursor"]
    except (NotAllowed, PageNotFound):
        pass
    return names


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def number_of(value: str) -> int | str:
    """A whole number from a form (the API's JSON wants a number); anything else as typed, for the
    API to name the field."""
    return int(value) if value.isdigit() and len(value) < 10 else value


def moment_of(value: str) -> str:
    """A ``datetime-local`` value (read as UTC) as ISO 8601 with its offset."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


async def project_context(request: Request, project_id: str, tab: str) -> dict[str, Any]:
    user = require_user(request)
    api = api_of(request)
    project = await api.get(request, f"{API}/projects/{project_id}")
    actors = actors_of(user, project)
    group_orgs = {m["org_id"] for m in project.get("working_group", [])}
    return {
        "project": project,
        "actors": actors,
        "names": await org_names(request, user),
        "tab": tab,
        "when": when,
        "is_past": is_past,
        "person": person,
        "known": MESSAGES,
        "is_member": is_member(user),
        "in_group": bool(user.org_id) and user.org_id in group_orgs,
        "may_edit": bool(actors & {"chair", "editor", "secretariat"}),
        "done": request.query_params.get("done"),
        "problem": None,
        "errors": {},
        "values": {},
        "failed": None,
    }


async def act(
    request: Request,
    project_id: str,
    call: Callable[[Any], Awaitable[Any]],
    done: str,
    page: str,
    failed: str,
    show: Callable[[Request, str, dict[str, Any]], Awaitable[HTMLResponse]],
) -> Response:
    """Send a form to the API; on success back to the page (with a notice), else the page again
    with the API's reason and each field's error next to the field."""
    require_user(request)
    form = await request.form()
    try:
        await call(form)
    except ApiProblem as problem:
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
        extra = {"problem": problem, "errors": problem.errors, "values": values, "failed": failed}
        response = await show(request, project_id, extra)
        response.status_code = problem.status if 400 <= problem.status < 500 else 422
        return response
    return redirect(f"/projects/{project_id}{page}?done={done}#notice")


# --- the list and proposing ------------------------------------------------------------------


@router.get("/projects", response_class=HTMLResponse)
async def projects(request: Request) -> HTMLResponse:
    user = require_user(request)
    stage = request.query_params.get("stage") or None
    if stage not in STAGES:
        stage = None
    page = await api_of(request).get(
        request, f"{API}/projects", {"cursor": request.query_params.get("cursor"), "stage": stage, "limit": 25}
    )
    return render(
        request,
        "projects/list.html",
        MESSAGES,
        items=page.get("items", []),
        stages=STAGES,
        stage=stage,
        names=await org_names(request, user),
        may_propose=is_member(user),
        when=when,
        pages=pager(request, page.get("next_cursor")),
    )


@router.get("/projects/new", response_class=HTMLResponse)
async def new_project(request: Request) -> HTMLResponse:
    if not is_member(require_user(request)):
        raise NotAllowed()  # proposing is for the people of member organisations (the API says the same)
    return render(request, "projects/new.html", MESSAGES, values={}, errors={}, problem=None)


@router.post("/projects/new", response_class=HTMLResponse)
async def propose(request: Request) -> Response:
    require_user(request)
    form = await request.form()
    values = {"title": form_text(form, "title"), "scope": form_text(form, "scope")}
    try:
        created = await api_of(request).post(request, f"{API}/projects", values)
    except ApiProblem as problem:
        return render(
            request,
            "projects/new.html",
            MESSAGES,
            status_code=problem.status,
            values=values,
            errors=problem.errors,
            problem=problem,
        )
    return redirect(f"/projects/{created['id']}?done=proposed#notice")


# --- a project: overview, actions, working group, drafts ----------------------------------------


async def show_overview(request: Request, project_id: str, extra: dict[str, Any]) -> HTMLResponse:
    context = await project_context(request, project_id, "overview")
    context.update(extra)
    api = api_of(request)
    project = context["project"]
    rules = await api.get(request, f"{API}/lifecycle")
    actions = [
        rule for rule in rules if rule["from_stage"] == project["status"] and context["actors"] & set(rule["actors"])
    ]
    drafts = await api.get(request, f"{API}/projects/{project_id}/drafts", {"limit": 200})
    return render(
        request,
        "projects/project.html",
        MESSAGES,
        **context,
        actions=actions,
        action_fields=ACTION_FIELDS,
        drafts=drafts.get("items", []),
        group_roles=GROUP_ROLES,
        group={m["org_id"]: m for m in project.get("working_group", [])},
    )


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def project_page(request: Request, project_id: str) -> HTMLResponse:
    return await show_overview(request, project_id, {})


@router.post("/projects/{project_id}/transitions", response_class=HTMLResponse)
async def transition(request: Request, project_id: str) -> Response:
    async def call(form: Any) -> Any:
        action = form_text(form, "action")
        body: dict[str, Any] = {"action": action}
        if form_text(form, "reason"):
            body["reason"] = form_text(form, "reason")
        for name in ACTION_FIELDS.get(action, ()):
            value = form_text(form, name)
            if not value:
                continue
            if name in MOMENT_FIELDS:
                try:
                    value = moment_of(value)
                except ValueError:
                    raise ApiProblem(422, "", "", {name: MESSAGES.get(lang_of(request), "bad_moment")}) from None
            body[name] = number_of(value) if name == "ballot_quorum" else value
        return await api_of(request).post(request, f"{API}/projects/{project_id}/transitions", body)

    form = await request.form()
    action = form_text(form, "action")
    return await act(request, project_id, call, f"action.{action}", "", f"action:{action}", show_overview)


@router.post("/projects/{project_id}/working-group", response_class=HTMLResponse)
async def working_group(request: Request, project_id: str) -> Response:
    async def call(form: Any) -> Any:
        members = []
        for key, role in form.items():
            if key.startswith("role:") and role in GROUP_ROLES:
                org_id = key.removeprefix("role:")
                member: dict[str, Any] = {"org_id": org_id, "role": role}
                person = form_text(form, f"person:{org_id}")
                if person:
                    member["person"] = person
                members.append(member)
        return await api_of(request).call(
            request, "PUT", f"{API}/projects/{project_id}/working-group", json={"members": members}
        )

    return await act(request, project_id, call, "working_group", "", "working_group", show_overview)


@router.post("/projects/{project_id}/drafts", response_class=HTMLResponse)
async def add_draft(request: Request, project_id: str) -> Response:
    async def call(form: Any) -> Any:
        body = {"uri": form_text(form, "uri"), "notes": form_text(form, "notes")}
        return await api_of(request).post(request, f"{API}/projects/{project_id}/drafts", body)

    return await act(request, project_id, call, "draft", "", "draft", show_overview)


# --- comments --------------------------------------------------------------------------------


async def show_comments(request: Request, project_id: str, extra: dict[str, Any]) -> HTMLResponse:
    context = await project_context(request, project_id, "comments")
    context.update(extra)
    page = await api_of(request).get(
        request, f"{API}/projects/{project_id}/comments", {"cursor": request.query_params.get("cursor"), "limit": 25}
    )
    project = context["project"]
    period = project.get("comment_period")
    return render(
        request,
        "projects/comments.html",
        MESSAGES,
        **context,
        comments=page.get("items", []),
        dispositions=DISPOSITIONS,
        period_open=project["status"] == "public_comment" and period is not None and not is_past(period["closes_at"]),
        pages=pager(request, page.get("next_cursor")),
    )


@router.get("/projects/{project_id}/comments", response_class=HTMLResponse)
async def comments_page(request: Request, project_id: str) -> HTMLResponse:
    return await show_comments(request, project_id, {})


@router.post("/projects/{project_id}/comments", response_class=HTMLResponse)
async def comment(request: Request, project_id: str) -> Response:
    async def call(form: Any) -> Any:
        body: dict[str, Any] = {"clause": form_text(form, "clause"), "text": form_text(form, "text")}
        if form_text(form, "proposed_change"):
            body["proposed_change"] = form_text(form, "proposed_change")
        return await api_of(request).post(request, f"{API}/projects/{project_id}/comments", body)

    return await act(request, project_id, call, "comment", "/comments", "comment", show_comments)


@router.post("/projects/{project_id}/comments/{comment_id}/disposition", response_class=HTMLResponse)
async def dispose(request: Request, project_id: str, comment_id: str) -> Response:
    async def call(form: Any) -> Any:
        body: dict[str, Any] = {"disposition": form_text(form, "disposition")}
        if form_text(form, "reason"):
            body["reason"] = form_text(form, "reason")
        path = f"{API}/projects/{project_id}/comments/{comment_id}/disposition"
        return await api_of(request).post(request, path, body)

    return await act(request, project_id, call, "disposed", "/comments", f"dispose:{comment_id}", show_comments)


# --- the ballot ------------------------------------------------------------------------------


async def show_ballot(request: Request, project_id: str, extra: dict[str, Any]) -> HTMLResponse:
    context = await project_context(request, project_id, "ballot")
    context.update(extra)
    user = require_user(request)
    api = api_of(request)
    project = context["project"]
    number = request.query_params.get("number")
    params = {"number": number if number and number.isdigit() else None}
    ballot = votes = None
    if project.get("ballots"):
        ballot = await api.get(request, f"{API}/projects/{project_id}/ballot", params)
        page = await api.get(request, f"{API}/projects/{project_id}/ballot/votes", {**params, "limit": 200})
        votes = page.get("items", [])
    own = ballot.get("own_vote") if ballot else None
    may_vote = (
        ballot is not None
        and ballot.get("result") is None
        and project["status"] == "ballot"
        and is_member(user)
        and user.org_id not in ballot.get("drafting_organisations", [])
        and (own is None or own.get("voided_at") is not None)
    )
    return render(
        request,
        "projects/ballot.html",
        MESSAGES,
        **context,
        ballot=ballot,
        votes=votes,
        own=own,
        may_vote=may_vote,
        positions=POSITIONS,
        numbers=list(range(int(project.get("ballots") or 0), 0, -1)),
    )


@router.get("/projects/{project_id}/ballot", response_class=HTMLResponse)
async def ballot_page(request: Request, project_id: str) -> HTMLResponse:
    return await show_ballot(request, project_id, {})


@router.post("/projects/{project_id}/ballot/votes", response_class=HTMLResponse)
async def vote(request: Request, project_id: str) -> Response:
    async def call(form: Any) -> Any:
        body: dict[str, Any] = {"position": form_text(form, "position")}
        if form_text(form, "reason"):
            body["reason"] = form_text(form, "reason")
        return await api_of(request).post(request, f"{API}/projects/{project_id}/ballot/votes", body)

    return await act(request, project_id, call, "voted", "/ballot", "vote", show_ballot)


# --- IPR -------------------------------------------------------------------------------------


async def show_ipr(request: Request, project_id: str, extra: dict[str, Any]) -> HTMLResponse:
    context = await project_context(request, project_id, "ipr")
    context.update(extra)
    user = require_user(request)
    api = api_of(request)
    calls = await api.get(request, f"{API}/projects/{project_id}/ipr-calls", {"limit": 200})
    declarations = await api.get(request, f"{API}/projects/{project_id}/declarations", {"limit": 200})
    drafts = await api.get(request, f"{API}/projects/{project_id}/drafts", {"limit": 200})
    secretariat = "secretariat" in user.roles
    return render(
        request,
        "projects/ipr.html",
        MESSAGES,
        **context,
        calls=calls.get("items", []),
        declarations=declarations.get("items", []),
        drafts=drafts.get("items", []),
        commitments=COMMITMENTS,
        secretariat=secretariat,
        may_declare=(context["in_group"] and context["is_member"]) or secretariat,
        own_org=user.org_id if is_member(user) else None,
    )


@router.get("/projects/{project_id}/ipr", response_class=HTMLResponse)
async def ipr_page(request: Request, project_id: str) -> HTMLResponse:
    return await show_ipr(request, project_id, {})


@router.post("/projects/{project_id}/ipr-calls/{call_id}/answer", response_class=HTMLResponse)
async def answer_call(request: Request, project_id: str, call_id: str) -> Response:
    async def call(form: Any) -> Any:
        body: dict[str, Any] = {"no_patents_known": form_text(form, "answer") == "no_patents_known"}
        if form_text(form, "org_id"):
            body["org_id"] = form_text(form, "org_id")
        path = f"{API}/projects/{project_id}/ipr-calls/{call_id}/answer"
        return await api_of(request).post(request, path, body)

    return await act(request, project_id, call, "answered", "/ipr", f"answer:{call_id}", show_ipr)


@router.post("/projects/{project_id}/declarations", response_class=HTMLResponse)
async def declare(request: Request, project_id: str) -> Response:
    async def call(form: Any) -> Any:
        body: dict[str, Any] = {name: form_text(form, name) for name in ("office", "number", "title", "commitment")}
        body["draft_version"] = number_of(form_text(form, "draft_version"))
        for name in ("family_id", "holder_id"):
            if form_text(form, name):
                body[name] = form_text(form, name)
        return await api_of(request).post(request, f"{API}/projects/{project_id}/declarations", body)

    return await act(request, project_id, call, "declared", "/ipr", "declare", show_ipr)
