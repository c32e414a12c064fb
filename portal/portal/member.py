"""What the member company's pages share (people, invoices, registrations, patents, statements).

Whose organisation a page shows: a member's own (the ``org`` of their token); the secretariat and
the council choose one (``?org=<id>``) from the organisations the API lists them. The shared
messages are merged into each page's catalogue (``catalogue``), and ``names`` turns organisation
ids into names where the API lets the person see them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import Request

from portal.api import api_of
from portal.i18n import Catalogue
from portal.sessions import User
from portal.web import NotAllowed, PageNotFound, pager

MEMBER_ROLES = ("member_admin", "member_staff")

SHARED: dict[str, dict[str, str]] = {
    "en": {
        "m.organisation": "Organisation",
        "m.choose_org": "Choose an organisation",
        "m.choose_org_hint": "As the alliance's staff you may look at any organisation.",
        "m.show": "Show",
        "m.no_orgs": "There are no organisations yet.",
        "m.no_org": "Your account is not linked to a member organisation.",
        "m.for_org": "For {name}",
        "m.other_org": "Another organisation",
        "m.none_value": "—",
        "m.saved": "Saved.",
        "m.required": "Please fill in this field.",
    },
    "zh": {
        "m.organisation": "单位",
        "m.choose_org": "选择单位",
        "m.choose_org_hint": "联盟工作人员可以查看任一单位。",
        "m.show": "显示",
        "m.no_orgs": "尚无单位。",
        "m.no_org": "您的账号未关联会员单位。",
        "m.for_org": "单位：{name}",
        "m.other_org": "其他单位",
        "m.none_value": "—",
        "m.saved": "已保存。",
        "m.required": "请填写此项。",
    },
}


def catalogue(messages: Mapping[str, Mapping[str, str]]) -> Catalogue:
    """A page's catalogue with the shared messages added (``m.`` keys)."""
    return Catalogue({lang: {**SHARED[lang], **messages[lang]} for lang in SHARED})


def is_member(user: User | None) -> bool:
    return user is not None and user.org_id is not None and user.has_any(*MEMBER_ROLES)


def is_member_admin(user: User | None) -> bool:
    return is_member(user) and user is not None and user.has_any("member_admin")


def may_apply(user: User | None) -> bool:
    """Whom "Apply for membership" is offered to: a visitor (who signs in or registers first) and a
    person with no organisation and no role of the platform; not a member's people, a licensee, an
    expert or the alliance's staff (the API stays the authority on who may file one)."""
    return user is None or (user.org_id is None and not user.roles)


def member_or_staff(user: User | None) -> bool:
    return user is not None and (user.is_staff or is_member(user))


def org_id_in_view(request: Request, user: User) -> str | None:
    """The organisation the page is about: the member's own; for staff the one chosen (``?org=``)."""
    if user.is_staff:
        chosen = request.query_params.get("org", "").strip()
        return chosen or None
    return user.org_id


async def organisation(request: Request, org_id: str) -> dict[str, Any]:
    """The organisation's record (404 and 403 pages come from the API's answer)."""
    found: dict[str, Any] = await api_of(request).get(request, f"/api/v1/membership/organisations/{org_id}")
    return found


async def org_choice(request: Request) -> dict[str, Any]:
    """The staff's choice of organisation: one page of the API's list, with its pager."""
    params = {"cursor": request.query_params.get("cursor")}
    page = await api_of(request).get(request, "/api/v1/membership/organisations", params)
    return {"items": page.get("items", []), "pages": pager(request, page.get("next_cursor"))}


async def names(request: Request, org_ids: Iterable[str], known: Mapping[str, str] | None = None) -> dict[str, str]:
    """Organisation names by id, for the ids the person may see (others stay absent)."""
    found: dict[str, str] = dict(known or {})
    api = api_of(request)
    for org_id in dict.fromkeys(org_ids):
        if not org_id or org_id in found:
            continue
        try:
            org = await api.get(request, f"/api/v1/membership/organisations/{org_id}")
        except (NotAllowed, PageNotFound):
            continue
        found[org_id] = str(org.get("name") or org_id)
    return found


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""
