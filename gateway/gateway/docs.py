"""One OpenAPI document for the whole platform, merged from the services' own documents.

The services document their operations (statuses, problem bodies, security, examples: see
``alliance_common.openapi``); the gateway adds only what it answers itself in front of them
(``GATEWAY_STATUSES``), so the combined document cannot drift from the services'. The API docs
page is Swagger UI from the ``swagger-ui-bundle-v2`` package, served by the gateway: no CDN.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from swagger_ui_bundle import swagger_ui_path

from alliance_common.errors import NotFound
from alliance_common.openapi import BEARER, problem_response, problem_schemas
from alliance_contracts.asyncapi import asyncapi_document
from gateway.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


# What the gateway itself can answer on every operation it forwards: a bad or missing token
# (verified before forwarding; on the anonymous route only when one is sent), its rate limit,
# and the service being unreachable (503) or too slow (504). Writes: machine clients are
# refused (403); bodies: the gateway's size limit (413).
GATEWAY_STATUSES = frozenset({401, 429, 503, 504})
GATEWAY_WRITE_STATUSES = frozenset({403})
GATEWAY_BODY_STATUSES = frozenset({413})
# A path parameter can make a path the gateway refuses to forward (``.``, ``..``, an empty
# segment, a backslash or ';': see ``proxy.normalised_target``): 400, before any service sees it.
GATEWAY_PATH_STATUSES = frozenset({400})
BAD_PATH = (
    "The path is not forwarded: a path parameter is a dot segment (`.`, `..`), empty, or holds a "
    "backslash or `;`; or the request body could not be parsed (not JSON, or not UTF-8)."
)
# Every write may carry an Idempotency-Key (``gateway.idempotency``): declared on each write
# operation of the combined document, with the answers the gateway gives about it. Where a service
# declares it itself (it also honours the key on its own: licensing's royalty payment, standards'
# proposal), its description stays and its schema becomes the gateway's.
# The bare form only: a quoted Structured Field string is accepted too, but a schema for both
# would let generators send `""`, which is empty.
IDEMPOTENCY_KEY_SCHEMA: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!#-~]+$"}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Optional, any write: a unique key (1-255 printable ASCII characters; a Structured Field "
        'string `"..."` or a bare value without spaces) that makes the request safe to retry. The gateway '
        "keeps the first final answer (2xx, 4xx) for 24 hours per caller, method, path and key: a retry "
        "with the same key and body gets it again with `Idempotent-Replayed: true`, whichever gateway "
        "replica it reaches; the same key with a different body is 422; a retry while the first is "
        "still in progress is 409 with Retry-After. A 5xx or a lost answer is not kept: the retry is "
        "forwarded again. A malformed key is 400."
    ),
    "schema": IDEMPOTENCY_KEY_SCHEMA,
}
IDEMPOTENCY_STATUSES = {
    400: "A malformed Idempotency-Key header (or two of them).",
    409: "A request with this Idempotency-Key is still in progress (Retry-After), or its answer was too "
    "large to keep for replay; or the service's own conflict.",
    422: "This Idempotency-Key was used with a different request body; or the service's own validation error.",
}
_READS = frozenset({"get", "head", "options"})
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def _idempotency_key_schema(declared: dict[str, Any]) -> dict[str, Any]:
    """The key a service declares, as the gateway in front of it accepts it.

    The gateway refuses (400) a key outside its own rules before the service sees it, so the
    service's looser ``str | None`` (any string) would publish keys that are answered 400: the
    published schema is the gateway's, with the service's tighter length limit if it has one.
    """
    schema = dict(IDEMPOTENCY_KEY_SCHEMA)
    alternatives = [declared, *(s for s in declared.get("anyOf", []) if isinstance(s, dict))]
    limits = [s["maxLength"] for s in alternatives if isinstance(s.get("maxLength"), int)]
    schema["maxLength"] = min([schema["maxLength"], *limits])
    return schema


def add_gateway_statuses(method: str, path: str, operation: dict[str, Any]) -> None:
    """Document the statuses the gateway answers in front of a forwarded operation."""
    statuses = set(GATEWAY_STATUSES)
    if method not in _READS:
        statuses |= GATEWAY_WRITE_STATUSES
    if "requestBody" in operation:
        statuses |= GATEWAY_BODY_STATUSES
    if "{" in path:
        statuses |= GATEWAY_PATH_STATUSES
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(statuses):
        responses.setdefault(str(status), problem_response(status, BAD_PATH if status == 400 else None))
    if method not in _READS:
        parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
        own = [p for p in parameters if p.get("in") == "header" and str(p.get("name", "")).lower() == "idempotency-key"]
        if not own:
            own = [dict(IDEMPOTENCY_KEY)]
            parameters.extend(own)
        for parameter in own:  # each its own schema dict (no operation shares the module's)
            parameter["schema"] = _idempotency_key_schema(parameter.get("schema", {}))
        for status, detail in IDEMPOTENCY_STATUSES.items():
            responses.setdefault(str(status), problem_response(status, detail))


def merge_openapi(gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge paths, schemas, security schemes and tags; add the gateway's statuses to forwarded operations.

    A schema name two services use differently gets a service prefix. An operation keeps the
    security requirements its service declares; one that declares none gets ``bearer``.
    """
    merged: dict[str, Any] = json.loads(json.dumps(gateway_doc))
    merged["info"] = {
        "title": "Alliance Platform API",
        "version": "1.0.0",
        "description": "Every service behind the gateway. Authenticate with `Authorization: Bearer <token>` "
        "(POST /auth/dev-login in development; POST /auth/token for machine clients).",
    }
    components: dict[str, Any] = merged.setdefault("components", {})
    schemas: dict[str, Any] = components.setdefault("schemas", {})
    for name, schema in problem_schemas().items():  # the body of the gateway's own errors
        schemas.setdefault(name, schema)
    security_schemes: dict[str, Any] = components.setdefault("securitySchemes", {})
    tags: dict[str, Any] = {tag["name"]: tag for tag in merged.get("tags", [])}
    for service, doc in sorted(service_docs.items()):
        own = doc.get("components", {}).get("schemas", {})
        # Rename every schema that would clash: first those that differ, then, until nothing
        # changes, those that differ only because a schema they refer to was renamed.
        renames: dict[str, str] = {}
        while True:
            rewritten = _rewrite_refs(own, renames)
            clashes = {
                name
                for name, schema in rewritten.items()
                if name in schemas and schemas[name] != schema and name not in renames
            }
            if not clashes:
                break
            renames.update({name: f"{service.capitalize()}{name}" for name in clashes})
        doc = _rewrite_refs(doc, renames)
        for name, schema in doc.get("components", {}).get("schemas", {}).items():
            schemas[renames.get(name, name)] = schema
        for name, scheme in doc.get("components", {}).get("securitySchemes", {}).items():
            security_schemes.setdefault(name, scheme)
        for tag in doc.get("tags", []):
            tags.setdefault(tag["name"], tag)
        for path, item in doc.get("paths", {}).items():
            if path.startswith("/api/"):
                for method, operation in item.items():
                    if method not in _METHODS:
                        continue  # path-level parameters, summary, ...
                    security = operation.setdefault("security", [{"bearer": []}])
                    if not security or {} in security:
                        # Anonymous at the service; the gateway still verifies a token that is sent.
                        operation["security"] = [{}, *([r for r in security if r] or [{"bearer": []}])]
                    add_gateway_statuses(method, path, operation)
                merged.setdefault("paths", {})[path] = item
    security_schemes.setdefault("bearer", BEARER)
    if tags:
        merged["tags"] = list(tags.values())
    return merged


def _rewrite_refs(value: Any, renames: dict[str, str]) -> Any:
    text = json.dumps(value)
    for old, new in renames.items():
        text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    return json.loads(text)


@router.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    session: aiohttp.ClientSession = request.app.state.http
    service_docs: dict[str, dict[str, Any]] = {}
    for name, url in settings.upstreams.items():
        try:
            async with session.get(f"{url}/openapi.json", timeout=aiohttp.ClientTimeout(total=3)) as response:
                response.raise_for_status()
                service_docs[name] = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            # A service that is down is missing from the docs, not fatal.
            log.warning("no OpenAPI document from %s: %s", name, exc)
    return JSONResponse(merge_openapi(request.app.openapi(), service_docs))


# The files of the Swagger UI distribution the page loads, served from the installed package.
DOCS_ASSETS = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
DOCS_ASSETS_PATH = "/docs/assets"


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Alliance Platform API",
        swagger_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_PATH}/favicon-32x32.png",
        oauth2_redirect_url=None,
        # No badge from the public validator service: the page loads nothing from outside.
        swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
    )


@router.get(DOCS_ASSETS_PATH + "/{name}")
async def swagger_ui_asset(name: str) -> FileResponse:
    if name not in DOCS_ASSETS:
        raise NotFound(f"no asset named {name!r}")
    return FileResponse(str(swagger_ui_path / name), headers={"Cache-Control": "public, max-age=86400"})


@router.get("/events/asyncapi.json")
async def asyncapi() -> JSONResponse:
    return JSONResponse(asyncapi_document())
