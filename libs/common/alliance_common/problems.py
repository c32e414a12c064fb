"""RFC 9457 problem details for every error a service or the gateway returns.

Validation errors name each field and the reason; nothing is ever answered with a
stack trace, and unexpected errors become a plain 500 problem (logged with the trace).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from decimal import Decimal
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    ValidationInfo,
    field_validator,
)
from pymongo.errors import ConnectionFailure, ServerSelectionTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from alliance_common.errors import DomainError, InvalidInput

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "credit_code: check characters do not match",
                    "instance": "/api/v1/membership/applications",
                    "errors": [{"field": "credit_code", "reason": "check characters do not match"}],
                }
            ]
        },
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(title=title, status=status, detail=detail, instance=request.url.path, errors=errors)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


_REASONS = {
    "extra_forbidden": "unknown field",
    "missing": "field required",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def field_errors(errors: list[Any]) -> list[FieldError]:
    return [
        FieldError(
            field=_field_name(tuple(e.get("loc", ()))),
            # A validator's own message, without pydantic's "Value error, " in front of it.
            reason=_REASONS.get(e.get("type", ""), str(e.get("msg", "invalid")).removeprefix("Value error, ")),
        )
        for e in errors
    ]


def install_problem_handlers(app: FastAPI) -> None:
    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(list(exc.errors()))
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
        return problem_response(request, 422, "Invalid request", detail, errors)

    async def on_domain(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        errors = [FieldError(field=exc.field, reason=exc.detail)] if exc.field else None
        headers = {"WWW-Authenticate": 'Bearer realm="alliance"'} if exc.status == 401 else None
        return problem_response(request, exc.status, exc.title, exc.detail, errors, headers)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            return method_not_allowed(request)
        return problem_response(
            request,
            exc.status_code,
            _title(exc.status_code),
            str(exc.detail),
            headers=dict(exc.headers) if exc.headers else None,
        )

    async def on_store_down(request: Request, exc: Exception) -> JSONResponse:
        log.error("store unavailable: %s", exc)
        return problem_response(
            request,
            503,
            "Service unavailable",
            "the data store is unreachable; retry later",
            headers={"Retry-After": "2"},
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(request, 500, "Internal server error", "an unexpected error occurred")

    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ServerSelectionTimeoutError, on_store_down)
    app.add_exception_handler(ConnectionFailure, on_store_down)
    app.add_exception_handler(Exception, on_unexpected)


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods ``path`` has: those of every route whose pattern matches it (several routes
    can share a path, one per method), plus OPTIONS."""
    methods = {"OPTIONS"}
    for route in iter_route_contexts(app.routes):
        pattern = getattr(route, "path_regex", None)
        if pattern is not None and pattern.match(path):
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


def method_not_allowed(request: Request) -> Response:
    """``OPTIONS``: 204 with ``Allow``; any other method the path lacks: a 405 problem with ``Allow``.

    Starlette answers 405 from the first route whose path matches, with that route's methods
    only; ``Allow`` here lists what the path really has."""
    allow = ", ".join(allowed_methods(request.app, request.scope["path"]))
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Allow": allow})
    return problem_response(
        request, 405, "Method not allowed", f"{request.method} is not allowed here", headers={"Allow": allow}
    )


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _scalar_types(annotation: Any) -> set[Any]:
    """The plain types an annotation admits (through ``X | None``, ``Annotated`` and unions)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _scalar_types(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return {t for arg in get_args(annotation) for t in _scalar_types(arg)}
    return {annotation}


_NUMBERS = (int, float, Decimal)
_TIMES = (datetime, date, time, AwareDatetime, NaiveDatetime, FutureDate, PastDate, FutureDatetime, PastDatetime)


def strict_scalar(annotation: Any, value: Any) -> None:
    """Refuse what pydantic's lax mode would convert but the published JSON Schema does not allow.

    The document says ``integer``, ``boolean`` or a ``date-time`` string; lax mode would take
    ``false`` as 0, ``"7"`` as 7, ``1`` as true, and a number as seconds since 1970.
    """
    kinds = _scalar_types(annotation)
    if isinstance(value, bool):
        if bool not in kinds and kinds & set(_NUMBERS):
            raise ValueError("must be a number, not true or false")
        return
    if bool in kinds and not kinds & {str, *_NUMBERS}:
        raise ValueError("must be true or false")
    if isinstance(value, str) and int in kinds and not kinds & {str, float, Decimal, *_TIMES}:
        raise ValueError("must be an integer, not a string")
    if isinstance(value, (int, float)) and kinds & set(_TIMES) and not kinds & set(_NUMBERS):
        raise ValueError("must be a date or date-time string")


def text_problem(value: str) -> str | None:
    """Why a text cannot be stored, or None: NUL characters (PostgreSQL's JSON refuses them, so
    the local store did too, with a 500) and lone surrogates (not encodable as UTF-8 at all)."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (no lone surrogates)"
    return None


def check_text(value: Any) -> None:
    """``text_problem`` for every string in a JSON value (dict keys too); raises ValueError."""
    if isinstance(value, str):
        reason = text_problem(value)
        if reason:
            raise ValueError(reason)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key)
            check_text(item)
    elif isinstance(value, list):
        for item in value:
            check_text(item)


async def text_parameters(request: Request) -> None:
    """An app-wide dependency: the route's path and query parameters are storable text (422 otherwise)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    declared: set[str] = set()
    pending = [dependant] if dependant is not None else []
    while pending:  # the route's own query parameters and its dependencies'
        current = pending.pop()
        declared.update(p.alias for p in current.query_params)
        pending.extend(current.dependencies)
    candidates = [
        *request.path_params.items(),
        *((k, v) for k, v in request.query_params.multi_items() if k in declared),
    ]
    for name, value in candidates:
        reason = text_problem(value) if isinstance(value, str) else None
        if reason:
            raise InvalidInput(reason, field=name)


class RequestModel(BaseModel):
    """Base of every request body: unknown fields are rejected, strings are trimmed, and scalars
    are taken only in the JSON types the document publishes (see ``strict_scalar``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _published_types_only(cls, value: Any, info: ValidationInfo) -> Any:
        check_text(value)
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and value is not None:
            strict_scalar(field.annotation, value)
        return value
