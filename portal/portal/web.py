"""What every page module uses: its router (with the CSRF check), rendering, the signed-in person,
the navigation, and the errors a page raises.

A page module (``portal/pages/<name>.py``) defines ``router = page_router()`` and a ``MESSAGES``
catalogue; the app includes every module of ``portal.pages`` that has a ``router``. Its templates
live in ``portal/templates/<name>/`` and extend ``base.html`` (blocks ``title`` and ``main``, and
``scripts`` for a page's own script file).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData

from portal.i18n import Catalogue, Translator
from portal.sessions import Session, User

TEMPLATES = Path(__file__).parent / "templates"
environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True
)


def options(keys: Any, t: Callable[[str], str], prefix: str) -> list[tuple[str, str]]:
    """``(key, label)`` pairs of a select's options: ``keys | options(t, 'tier.')`` in a template."""
    return [(str(key), t(prefix + str(key))) for key in keys]


environment.filters["options"] = options

LAYOUT = Catalogue(
    {
        "en": {
            "site": "Alliance Platform",
            "skip": "Skip to the main content",
            "nav": "Main menu",
            "sign_in": "Sign in",
            "sign_out": "Sign out",
            "signed_in_as": "Signed in as {name}",
            "language": "Language",
            "other_language": "中文",
            "other_language_name": "Switch to Chinese",
            "footer": "LED Industry Alliance · member portal",
            "previous": "Previous page",
            "next": "Next page",
            "pages": "Pages",
            "error_title": "Something went wrong",
            "error_text": "The portal could not complete this request. Please try again in a moment.",
            "unavailable_title": "Temporarily unavailable",
            "unavailable_text": "A service the portal needs does not answer. Please try again in a moment.",
            "forbidden_title": "Not allowed",
            "forbidden_text": "Your account is not allowed to see or do this.",
            "not_found_title": "Not found",
            "not_found_text": "There is nothing at this address, or it is not yours to see.",
            "home_link": "Back to the home page",
            "form_errors": "Please correct the fields marked below.",
            "csrf_title": "The form has expired",
            "csrf_text": "Please go back, reload the page and send the form again.",
            "sign_in_failed_title": "Sign-in did not complete",
            "sign_in_failed_text": "The sign-in was cancelled or took too long. Please try again.",
            "try_again": "Sign in again",
            "working": "Working…",
        },
        "zh": {
            "site": "联盟平台",
            "skip": "跳到正文",
            "nav": "主菜单",
            "sign_in": "登录",
            "sign_out": "退出",
            "signed_in_as": "当前用户：{name}",
            "language": "语言",
            "other_language": "English",
            "other_language_name": "切换到英文",
            "footer": "LED 产业联盟 · 会员门户",
            "previous": "上一页",
            "next": "下一页",
            "pages": "分页",
            "error_title": "出错了",
            "error_text": "门户未能完成此请求，请稍后再试。",
            "unavailable_title": "暂时无法使用",
            "unavailable_text": "门户所需的服务没有响应，请稍后再试。",
            "forbidden_title": "无权访问",
            "forbidden_text": "您的账号无权查看或执行此操作。",
            "not_found_title": "未找到",
            "not_found_text": "此地址没有内容，或您无权查看。",
            "home_link": "返回首页",
            "form_errors": "请更正下面标出的字段。",
            "csrf_title": "表单已过期",
            "csrf_text": "请返回、刷新页面后重新提交表单。",
            "sign_in_failed_title": "登录未完成",
            "sign_in_failed_text": "登录已取消或耗时过长，请重试。",
            "try_again": "重新登录",
            "working": "处理中…",
        },
    }
)


# --- errors a page raises (the app turns them into pages) -------------------------------------


class SignInRequired(Exception):
    """No signed-in person, or the API refused their token (401): sign in (again)."""


class NotAllowed(Exception):
    """The API answered 403: a plain "not allowed" page."""


class PageNotFound(Exception):
    """The API answered 404 for the page's subject."""


class Unavailable(Exception):
    """The gateway or the provider does not answer (or answered 5xx)."""


class CsrfFailure(Exception):
    """A POST without the session's CSRF token, or from another origin."""


@dataclass
class ApiProblem(Exception):
    """The API's problem+json for a request a person made (400, 409, 422, ...): shown on the form,
    each field's reason next to that field (``errors``: field name -> reason)."""

    status: int
    title: str
    detail: str
    errors: dict[str, str]

    @classmethod
    def of(cls, status: int, body: Any) -> ApiProblem:
        body = body if isinstance(body, dict) else {}
        errors: dict[str, str] = {}
        for item in body.get("errors") or []:
            if isinstance(item, dict) and item.get("field"):
                errors.setdefault(str(item["field"]), str(item.get("reason", "")))
        return cls(status, str(body.get("title", "")), str(body.get("detail", "")), errors)


# --- navigation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    path: str
    label: dict[str, str]  # by language
    visible: Callable[[User | None], bool]
    order: int = 100


NAV: list[NavItem] = []


def register_nav(
    path: str, en: str, zh: str, visible: Callable[[User | None], bool] = lambda user: True, order: int = 100
) -> None:
    """Add a link to the main menu (a page module calls this once, at import)."""
    NAV.append(NavItem(path, {"en": en, "zh": zh}, visible, order))


def signed_in(user: User | None) -> bool:
    return user is not None


# --- the request's session and person --------------------------------------------------------


def session_of(request: Request) -> Session | None:
    session: Session | None = getattr(request.state, "session", None)
    return session


def user_of(request: Request) -> User | None:
    session = session_of(request)
    return session.user if session is not None and session.signed_in else None


def require_user(request: Request) -> User:
    user = user_of(request)
    if user is None:
        raise SignInRequired()
    return user


def lang_of(request: Request) -> str:
    return str(getattr(request.state, "lang", "en"))


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site (no open redirects), else ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def sign_in_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/auth/sign-in?" + urlencode({"next": here})


# --- rendering -------------------------------------------------------------------------------


def render(
    request: Request, template: str, catalogue: Catalogue | None = None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    lang = lang_of(request)
    user = user_of(request)
    session = session_of(request)
    t = Translator(lang, *(c for c in (catalogue, LAYOUT) if c is not None))
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    nav = [
        {"path": item.path, "label": item.label[lang], "current": request.url.path == item.path}
        for item in sorted(NAV, key=lambda item: (item.order, item.path))
        if item.visible(user)
    ]
    values = {
        "request": request,
        "t": t,
        "lang": lang,
        "user": user,
        "csrf_token": session.csrf if session is not None else "",
        "nav": nav,
        "here": here,
        "other_lang": "zh" if lang == "en" else "en",
        "sign_in_href": "/auth/sign-in?" + urlencode({"next": here}),
        **context,
    }
    html = environment.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code)


def redirect(path: str, status_code: int = 303) -> RedirectResponse:
    return RedirectResponse(path, status_code=status_code)


def pager(request: Request, next_cursor: str | None) -> dict[str, str | None]:
    """Next/previous links for a list paged with the API's cursors.

    The API gives only ``next_cursor``; the way back is kept in the link itself: ``trail`` holds
    the cursors of the pages before this one (cursors are URL-safe base64, never a comma).
    """
    cursor = request.query_params.get("cursor") or ""
    trail = [c for c in request.query_params.get("trail", "").split(",") if c] if cursor else []
    keep = {k: v for k, v in request.query_params.items() if k not in ("cursor", "trail")}

    def link(to_cursor: str, to_trail: list[str]) -> str:
        query = dict(keep)
        if to_cursor:
            query["cursor"] = to_cursor
            if to_trail:
                query["trail"] = ",".join(to_trail)
        return request.url.path + ("?" + urlencode(query) if query else "")

    previous = link(trail[-1], trail[:-1]) if cursor and trail else (link("", []) if cursor else None)
    following = link(next_cursor, [*trail, cursor] if cursor else []) if next_cursor else None
    return {"previous": previous, "next": following}


# --- the CSRF check on every POST ------------------------------------------------------------


async def check_csrf(request: Request) -> FormData:
    """A state-changing request must come from our own pages: its Origin (or, failing that, its
    Referer) is the portal's, and its form carries the session's CSRF token."""
    settings = request.app.state.settings
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}"
    if origin != settings.public_origin:
        raise CsrfFailure()
    form = await request.form()
    session = session_of(request)
    token = form.get("csrf_token")
    if session is None or not isinstance(token, str) or not secrets.compare_digest(token, session.csrf):
        raise CsrfFailure()
    return form


class PortalRoute(APIRoute):
    """Every unsafe method of every page passes the CSRF check before its handler runs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def checked(request: Request) -> Response:
            if request.method not in ("GET", "HEAD", "OPTIONS"):
                await check_csrf(request)  # the parsed form stays cached on the request
            return await handler(request)

        return checked


def page_router() -> APIRouter:
    return APIRouter(route_class=PortalRoute, include_in_schema=False)
