"""The organisation's people and their roles: the list, and for its member admin (or the
secretariat) adding a person by e-mail with a role and removing one.

The API keeps at least one member admin: the portal offers no "remove" on the last one, and shows
the API's refusal when two people race for it. A person added here is known by their e-mail
address (the login the API records for them).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal import member
from portal.api import api_of
from portal.sessions import User
from portal.web import ApiProblem, lang_of, page_router, redirect, register_nav, render, require_user

router = page_router()
ROLES = ("member_admin", "member_staff")
MESSAGES = member.catalogue(
    {
        "en": {
            "title": "People and roles",
            "intro": "The people of your organisation who use the portal, and what each may do.",
            "name": "Name",
            "email": "E-mail",
            "role": "Role",
            "actions": "Actions",
            "remove": "Remove",
            "remove_label": "Remove {name}",
            "you": "(you)",
            "none": "No people are registered yet.",
            "add": "Add a person",
            "add_hint": "The person signs in with this e-mail address.",
            "add_button": "Add the person",
            "added": "{name} was added.",
            "removed": "The person was removed.",
            "last_admin": "The only member administrator cannot be removed: make someone else an administrator first.",
            "role.member_admin": "Member administrator",
            "role.member_staff": "Staff",
            "role_hint.member_admin": "manages the organisation's people, invoices and registrations",
            "role_hint.member_staff": "registers for training, contributes patents, follows statements",
        },
        "zh": {
            "title": "人员与角色",
            "intro": "本单位使用门户的人员及其权限。",
            "name": "姓名",
            "email": "电子邮箱",
            "role": "角色",
            "actions": "操作",
            "remove": "移除",
            "remove_label": "移除 {name}",
            "you": "（您本人）",
            "none": "尚未登记人员。",
            "add": "添加人员",
            "add_hint": "此人使用该电子邮箱登录。",
            "add_button": "添加",
            "added": "已添加 {name}。",
            "removed": "已移除该人员。",
            "last_admin": "唯一的会员管理员不能移除：请先指定另一位管理员。",
            "role.member_admin": "会员管理员",
            "role.member_staff": "员工",
            "role_hint.member_admin": "管理本单位的人员、账单和报名",
            "role_hint.member_staff": "报名培训、提交专利、查看分配明细",
        },
    }
)
register_nav("/people", "People", "人员", member.member_or_staff, order=21)


def may_manage(user: User, org_id: str) -> bool:
    """The secretariat, or a member admin of this very organisation (as the API decides)."""
    return user.has_any("secretariat") or (member.is_member_admin(user) and user.org_id == org_id)


def _back(org_id: str, user: User, **extra: str) -> str:
    query = {**({"org": org_id} if user.is_staff else {}), **extra}
    return "/people" + ("?" + urlencode(query) if query else "")


async def _page(
    request: Request,
    user: User,
    org_id: str | None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: ApiProblem | None = None,
) -> HTMLResponse:
    choice = await member.org_choice(request) if user.is_staff else None
    if org_id is None:
        return render(request, "people/index.html", MESSAGES, choice=choice, org=None, chosen="")
    org = await member.organisation(request, org_id)
    people: list[dict[str, Any]] = await api_of(request).get(
        request, f"/api/v1/membership/organisations/{org_id}/users"
    )
    admins = sum(1 for p in people if p.get("role") == "member_admin")
    return render(
        request,
        "people/index.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        choice=choice,
        chosen=org_id,
        org=org,
        people=people,
        admins=admins,
        roles=ROLES,
        manage=may_manage(user, org_id),
        values=values or {"role": "member_staff"},
        errors=errors or {},
        problem=problem,
        added=request.query_params.get("added", ""),
        removed=request.query_params.get("removed") == "1",
    )


@router.get("/people", response_class=HTMLResponse)
async def people(request: Request) -> HTMLResponse:
    user = require_user(request)
    return await _page(request, user, member.org_id_in_view(request, user))


def _target(user: User, form: Any) -> str | None:
    return member.form_text(form, "org") or None if user.is_staff else user.org_id


@router.post("/people", response_class=HTMLResponse)
async def add_person(request: Request) -> Response:
    user = require_user(request)
    form = await request.form()
    org_id = _target(user, form)
    if org_id is None:
        return redirect("/people")
    values = {name: member.form_text(form, name) for name in ("name", "email", "role")}
    values["email"] = values["email"].lower()
    lang = lang_of(request)
    errors = {name: MESSAGES.get(lang, "m.required") for name in ("name", "email") if not values[name]}
    if values["role"] not in ROLES:
        values["role"] = "member_staff"
    if errors:
        return await _page(request, user, org_id, values, errors)
    body = {"subject": values["email"], "name": values["name"], "email": values["email"], "role": values["role"]}
    try:
        await api_of(request).post(request, f"/api/v1/membership/organisations/{org_id}/users", body)
    except ApiProblem as problem:
        field_errors = {("email" if k == "subject" else k): v for k, v in problem.errors.items()}
        return await _page(request, user, org_id, values, field_errors, problem)
    return redirect(_back(org_id, user, added=values["name"]))


@router.post("/people/remove", response_class=HTMLResponse)
async def remove_person(request: Request) -> Response:
    user = require_user(request)
    form = await request.form()
    org_id = _target(user, form)
    subject = member.form_text(form, "subject")
    if org_id is None or not subject:
        return redirect("/people")
    try:
        await api_of(request).call(
            request, "DELETE", f"/api/v1/membership/organisations/{org_id}/users/{quote(subject, safe='')}"
        )
    except ApiProblem as problem:
        return await _page(request, user, org_id, problem=problem)
    return redirect(_back(org_id, user, removed="1"))
