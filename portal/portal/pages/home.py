"""The home page: what the portal offers, to anyone and to the signed-in person."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from portal.i18n import Catalogue
from portal.web import page_router, register_nav, render

router = page_router()
MESSAGES = Catalogue(
    {
        "en": {
            "title": "Welcome",
            "intro": "The member portal of the LED Industry Alliance: membership, standards, patents and training.",
            "anyone": "What you can do here",
            "signed_in_intro": "Welcome back, {name}.",
            "sign_in_intro": "Members, licensees, experts and the secretariat sign in with their alliance account.",
            "nav_home": "Home",
        },
        "zh": {
            "title": "欢迎",
            "intro": "LED 产业联盟会员门户：会员、标准、专利与培训。",
            "anyone": "可用功能",
            "signed_in_intro": "欢迎回来，{name}。",
            "sign_in_intro": "会员、被许可方、专家和秘书处请使用联盟账号登录。",
            "nav_home": "首页",
        },
    }
)
register_nav("/", "Home", "首页", order=0)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    return render(request, "home/index.html", MESSAGES)
