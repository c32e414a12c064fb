"""The OpenAPI contract every service (and the gateway) publishes: true statuses, problem bodies.

FastAPI documents a route's success response and a 422 with its own validation schema. What a
route can really answer besides is derived here from the route itself, so the document cannot
drift from the code:

- a route that verifies the caller (a dependency on ``get_principal`` or any FastAPI security
  scheme) can answer 401 (no or a bad token) and 403 (a role, scope or organisation rule);
- a path parameter names a record that may not exist: 404;
- a request body can be unparsable (400) or invalid (422); a body size limit on the route: 413;
- any parameter or body can be invalid: 422;
- every operation of a service reads its store, which can be unreachable: 503;
- every write of a service is an optimistic-concurrency update (or an insert under a unique
  index) that can lose to a concurrent one: 409.

A domain error that only some routes raise (409 for a state conflict, a 404 from a lookup of a
body's reference, ...) is declared on the route with ``responses=problems(409)``. Every error is
``application/problem+json`` with the ``Problem`` schema (RFC 9457 plus the ``errors`` list), as
``alliance_common.problems`` answers it. Operations that verify the caller without declaring a
security requirement of their own get the ``bearer`` scheme; requirements that FastAPI emits
from ``Security(...)`` dependencies are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security.base import SecurityBase

from alliance_common.auth import get_principal
from alliance_common.problems import PROBLEM_JSON, FieldError, Problem

PROBLEM_REF = "#/components/schemas/Problem"
BEARER = {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}

# What each status means on this platform (the response's description in the document).
DESCRIPTIONS = {
    400: "The request body could not be parsed (not JSON, or not UTF-8).",
    401: "No bearer token, or one that is invalid or expired.",
    403: "The caller's role, scopes or organisation do not allow this.",
    404: "No such record, or one the caller may not see.",
    405: "The path does not have this method; `Allow` lists those it has.",
    409: "The record's current state does not allow this.",
    413: "The request body is larger than allowed.",
    415: "The request body's media type is not accepted.",
    422: "A parameter or field is invalid; `errors` names each one.",
    429: "Too many requests; `Retry-After` says when to try again.",
    502: "The service behind the gateway answered with an invalid response.",
    503: "A dependency (the service, or its data store) is unreachable; retry after `Retry-After`.",
    504: "The service behind the gateway did not answer in time.",
}

_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")


def problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    """One documented error response: ``application/problem+json`` with the ``Problem`` schema."""
    return {
        "description": description or DESCRIPTIONS.get(status) or HTTPStatus(status).phrase,
        "content": {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}},
    }


def problems(*statuses: int, **descriptions: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route for the domain errors only it can answer (e.g. ``problems(409)``).

    A description specific to the route can be given as ``s409="the ballot is closed"``.
    """
    return {status: problem_response(status, descriptions.get(f"s{status}")) for status in statuses}


def operation_ids(prefix: str) -> Callable[[APIRoute], str]:
    """Operation ids ``<prefix>.<route name>`` (e.g. ``licensing.list_patents``): stable, unique per service."""

    def generate(route: APIRoute) -> str:
        return f"{prefix}.{route.name}"

    return generate


def problem_schemas() -> dict[str, Any]:
    """``Problem`` and ``FieldError`` as components (references rewritten to ``#/components/schemas``)."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {"Problem": schema, "FieldError": defs.get("FieldError", FieldError.model_json_schema())}


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from _dependencies(dependency)


def verifies_caller(dependant: Dependant) -> bool:
    """Whether a route verifies a bearer token (depends on ``get_principal`` or a security scheme)."""
    return any(d.call is get_principal or isinstance(d.call, SecurityBase) for d in _dependencies(dependant))


SERVICE_ALWAYS = (503,)
SERVICE_WRITES = (409,)
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def derived_statuses(
    route: Any, always: Iterable[int] = SERVICE_ALWAYS, writes: Iterable[int] = SERVICE_WRITES
) -> set[int]:
    """The error statuses a route can answer by its shape alone (see the module's docstring).

    ``always``: what every operation of the app can answer (a service's: 503, its store down);
    ``writes``: what every write can answer besides (a service's: 409, a lost concurrent update).
    """
    dependant: Dependant = route.dependant
    statuses = set(always)
    if set(route.methods or ()) & _WRITES:
        statuses.update(writes)
    params = [
        p
        for d in (dependant, *_dependencies(dependant))
        for p in (*d.path_params, *d.query_params, *d.header_params, *d.cookie_params)
    ]
    if verifies_caller(dependant):
        statuses |= {401, 403}
    if dependant.path_params:
        statuses.add(404)
    if route.body_field is not None:
        statuses |= {400, 422}
        if getattr(route, "max_body_size", None) is not None:
            statuses.add(413)
    if params:
        statuses.add(422)
    return statuses


def complete_operation(operation: dict[str, Any], statuses: Iterable[int], *, secured: bool) -> None:
    """Add ``statuses`` as problem responses, turn FastAPI's 422 into a problem, add ``bearer`` if secured."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status in sorted(statuses):
        existing = responses.get(str(status))
        if existing is None or "HTTPValidationError" in str(existing):
            responses[str(status)] = problem_response(status)
        else:  # declared on the route: keep its description, make sure of the media type and schema
            existing.setdefault("description", DESCRIPTIONS.get(status, HTTPStatus(status).phrase))
            existing["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
    if secured and "security" not in operation:
        operation["security"] = [{"bearer": []}]


def contract(
    app: FastAPI, *, always: Iterable[int] = SERVICE_ALWAYS, writes: Iterable[int] = SERVICE_WRITES
) -> dict[str, Any]:
    """The app's OpenAPI document with every status each operation can answer (see the module's docstring)."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    seen: dict[str, str] = {}
    secured_any = False
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        item = doc["paths"][route.path_format]
        secured = verifies_caller(route.dependant)
        secured_any = secured_any or secured
        statuses = derived_statuses(route, always, writes)
        declared = {int(code) for code in getattr(route, "responses", {}) if str(code).isdigit()}
        for method in sorted(route.methods or ()):
            operation = item[method.lower()]
            complete_operation(operation, statuses | {s for s in declared if s >= 400}, secured=secured)
            operation_id = operation.get("operationId", "")
            if operation_id in seen:
                raise ValueError(
                    f"operationId {operation_id!r} of {method} {route.path_format} is also {seen[operation_id]}"
                )
            seen[operation_id] = f"{method} {route.path_format}"
    add_links(doc)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _FRAMEWORK_SCHEMAS:
        schemas.pop(name, None)
    schemas.update(problem_schemas())
    if secured_any:
        components.setdefault("securitySchemes", {}).setdefault("bearer", BEARER)
    return doc


def add_links(doc: dict[str, Any]) -> None:
    """OpenAPI links from each create (``POST <collection>`` answering 201 with an ``id``) to the
    operations on what it created (``<collection>/{param}...``): the new id fills ``param``, the
    create's own path parameters carry over. For clients, and for the fuzzer's stateful phase."""
    schemas = doc.get("components", {}).get("schemas", {})
    for path, item in doc["paths"].items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if created is None:
            continue
        ref = created.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        if "id" not in schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}):
            continue
        inherited = {f"path.{name}": f"$request.path.{name}" for name in re.findall(r"\{([^}]+)\}", path)}
        links: dict[str, Any] = {}
        for other, other_item in doc["paths"].items():
            match = re.fullmatch(re.escape(path) + r"/\{([^}]+)\}(/.*)?", other)
            if match is None:
                continue
            for operation in other_item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    links[operation["operationId"]] = {
                        "operationId": operation["operationId"],
                        "parameters": {**inherited, f"path.{match.group(1)}": "$response.body#/id"},
                    }
        if links:
            created["links"] = links


def install_contract(
    app: FastAPI, *, always: Iterable[int] = SERVICE_ALWAYS, writes: Iterable[int] = SERVICE_WRITES
) -> None:
    """Serve ``contract(app)`` as the app's ``/openapi.json`` (built once, on first use)."""
    always, writes = tuple(always), tuple(writes)
    built: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not built:
            built.append(contract(app, always=always, writes=writes))
        return built[0]

    app.openapi = openapi  # type: ignore[method-assign]
