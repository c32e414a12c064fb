"""Certificate check (anyone): is a training certificate genuine? The API's public verification."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.api import api_of
from portal.i18n import Catalogue
from portal.web import ApiProblem, PageNotFound, page_router, register_nav, render

router = page_router()
CODE = re.compile(r"^[A-Za-z0-9]{6,32}$")  # the API's rule for a verification code
MESSAGES = Catalogue(
    {
        "en": {
            "title": "Certificate check",
            "intro": "Enter the verification code printed on a training certificate.",
            "code": "Verification code",
            "code_hint": "6 to 32 letters and digits",
            "check": "Check",
            "bad_code": "A code is 6 to 32 letters and digits.",
            "not_found": "No certificate has this code.",
            "genuine": "This certificate is genuine.",
            "attendee": "Issued to",
            "course": "Course",
            "dates": "Dates",
            "hours": "Credit hours",
            "issued": "Issued on",
        },
        "zh": {
            "title": "证书查验",
            "intro": "请输入培训证书上印的验证码。",
            "code": "验证码",
            "code_hint": "6 至 32 位字母或数字",
            "check": "查验",
            "bad_code": "验证码为 6 至 32 位字母或数字。",
            "not_found": "没有与此验证码对应的证书。",
            "genuine": "此证书真实有效。",
            "attendee": "持证人",
            "course": "课程",
            "dates": "日期",
            "hours": "学时",
            "issued": "颁发日期",
        },
    }
)
register_nav("/certificates", "Certificate check", "证书查验", order=50)


@router.get("/certificates", response_class=HTMLResponse)
async def check(request: Request, code: str = "") -> HTMLResponse:
    code = code.strip()
    errors: dict[str, str] = {}
    found: dict[str, Any] | None = None
    missing = False
    if code:
        if not CODE.match(code):
            errors["code"] = MESSAGES.get(request.state.lang, "bad_code")
        else:
            try:
                found = await api_of(request).get(
                    request, f"/api/v1/training/certificates/verify/{code}", anonymous=True
                )
            except PageNotFound:
                missing = True
            except ApiProblem as problem:
                errors["code"] = problem.errors.get("code") or problem.detail
    status = 404 if missing else 422 if errors else 200
    return render(
        request,
        "certificates/index.html",
        MESSAGES,
        status_code=status,
        code=code,
        errors=errors,
        found=found,
        missing=missing,
    )
