"""One OpenAPI document for the whole platform, merged from the services' own documents."""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from alliance_contracts.asyncapi import asyncapi_document
from gateway.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


def merge_openapi(gateway_doc: dict[str, Any], service_docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Merge paths and schemas; a schema name two services use differently gets a service prefix."""
    merged: dict[str, Any] = json.loads(json.dumps(gateway_doc))
    merged["info"] = {
        "title": "Alliance Platform API",
        "version": "1.0.0",
        "description": "Every service behind the gateway. Authenticate with `Authorization: Bearer <token>` "
        "(POST /auth/dev-login in development; POST /auth/token for machine clients).",
    }
    schemas: dict[str, Any] = merged.setdefault("components", {}).setdefault("schemas", {})
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
        for path, item in doc.get("paths", {}).items():
            if path.startswith("/api/"):
                for operation in item.values():
                    operation.setdefault("security", [{"bearer": []}])
                merged.setdefault("paths", {})[path] = item
    merged["components"].setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
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


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(openapi_url="/openapi.json", title="Alliance Platform API")


@router.get("/events/asyncapi.json")
async def asyncapi() -> JSONResponse:
    return JSONResponse(asyncapi_document())
