"""Apply for membership (a signed-in person, for their organisation).

The form checks the credit code as the API does before sending, and shows the API's own field
errors next to their fields (the API names nested fields ``contact.email``; list items
``segments.0`` are shown at their list).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from portal import creditcode, member
from portal.api import api_of
from portal.i18n import Catalogue
from portal.terms import with_terms
from portal.web import ApiProblem, lang_of, page_router, redirect, register_nav, render, require_user

router = page_router()
ORG_TYPES = ("enterprise", "university", "research_institute", "ip_service_agency")
SEGMENTS = ("substrate", "epitaxy", "chip", "packaging", "application", "equipment", "materials")
TIERS = ("ordinary_member", "council_member", "observer")
FIELDS = ("name", "credit_code", "org_type", "region", "tier", "contact.name", "contact.email", "contact.phone")
MESSAGES = Catalogue(
    with_terms(
        {
            "en": {
                "title": "Apply for membership",
                "intro": (
                    "Apply for your organisation. The secretariat reviews the application and the council decides."
                ),
                "organisation": "Your organisation",
                "name": "Organisation name",
                "credit_code": "Unified social credit code",
                "credit_code_hint": "18 characters, as on the business licence",
                "org_type": "Kind of organisation",
                "segments": "Industry segments",
                "region": "Region",
                "region_hint": "ISO 3166 code, e.g. CN-GD",
                "tier": "Membership tier",
                "contact": "Contact person",
                "contact.name": "Name",
                "contact.email": "E-mail",
                "contact.phone": "Phone (optional)",
                "submit": "Send the application",
                "required": "required",
                "choose_segment": "choose at least one segment",
            },
            "zh": {
                "title": "申请入会",
                "intro": "为您的单位提交入会申请。秘书处审核后由理事会决定。",
                "organisation": "申请单位",
                "name": "单位名称",
                "credit_code": "统一社会信用代码",
                "credit_code_hint": "18 位，见营业执照",
                "org_type": "单位类型",
                "segments": "产业环节",
                "region": "地区",
                "region_hint": "ISO 3166 代码，例如 CN-GD",
                "tier": "会员级别",
                "contact": "联系人",
                "contact.name": "姓名",
                "contact.email": "电子邮箱",
                "contact.phone": "电话（可选）",
                "submit": "提交申请",
                "required": "必填",
                "choose_segment": "请至少选择一个环节",
            },
        }
    )
)
register_nav("/apply", "Apply", "申请入会", member.may_apply, order=60)


def _form_page(
    request: Request, values: dict[str, Any], errors: dict[str, str], problem: ApiProblem | None
) -> HTMLResponse:
    return render(
        request,
        "apply/form.html",
        MESSAGES,
        status_code=422 if errors or problem else 200,
        values=values,
        errors=errors,
        problem=problem,
        org_types=ORG_TYPES,
        segments=SEGMENTS,
        tiers=TIERS,
    )


@router.get("/apply", response_class=HTMLResponse)
async def apply_form(request: Request) -> Response:
    user = require_user(request)
    values = {"tier": "ordinary_member", "org_type": "enterprise", "segments": [], "contact.name": user.name}
    return _form_page(request, values, {}, None)


def _field_of(api_field: str) -> str:
    """The form field an API error names: ``segments.0`` -> ``segments``."""
    return re.sub(r"(\.\d+)+$", "", api_field)


@router.post("/apply", response_class=HTMLResponse)
async def apply(request: Request) -> Response:
    require_user(request)
    form = await request.form()
    lang = lang_of(request)
    values: dict[str, Any] = {name: str(form.get(name, "")).strip() for name in FIELDS}
    values["credit_code"] = values["credit_code"].upper()
    values["segments"] = [str(s) for s in form.getlist("segments")]
    errors: dict[str, str] = {}
    for name in ("name", "credit_code", "region", "contact.name", "contact.email"):
        if not values[name]:
            errors[name] = MESSAGES.get(lang, "required")
    if not values["segments"]:
        errors["segments"] = MESSAGES.get(lang, "choose_segment")
    if values["credit_code"] and (reason := creditcode.problem(values["credit_code"], lang)):
        errors["credit_code"] = reason
    if errors:
        return _form_page(request, values, errors, None)
    body = {
        "name": values["name"],
        "credit_code": values["credit_code"],
        "org_type": values["org_type"],
        "segments": values["segments"],
        "region": values["region"],
        "tier": values["tier"],
        "contact": {
            "name": values["contact.name"],
            "email": values["contact.email"],
            **({"phone": values["contact.phone"]} if values["contact.phone"] else {}),
        },
    }
    try:
        await api_of(request).post(request, "/api/v1/membership/applications", body)
    except ApiProblem as problem:
        field_errors = {_field_of(k): v for k, v in problem.errors.items()}
        return _form_page(request, values, field_errors, problem)
    return redirect("/organisation?applied=1")
