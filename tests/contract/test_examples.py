"""The examples the document publishes are accepted by the models they illustrate (no infrastructure)."""

from __future__ import annotations

import importlib
import inspect
import json
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, TypeAdapter

from alliance_common.pagination import Page, decode_cursor
from alliance_common.problems import Problem, RequestModel

SCHEMA_MODULES = (
    "membership.entrypoints.schemas",
    "licensing.entrypoints.schemas",
    "licensing.entrypoints.pool_schemas",
    "licensing.entrypoints.royalty_schemas",
    "standards.entrypoints.schemas",
    "training.entrypoints.schemas",
    "notifications.entrypoints.schemas",
    "integration.entrypoints.schemas",
)


def request_models() -> list[type[RequestModel]]:
    found: list[type[RequestModel]] = []
    for name in SCHEMA_MODULES:
        module = importlib.import_module(name)
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, RequestModel) and cls.__module__ == name
        ]
    return found


@pytest.mark.parametrize("model", request_models(), ids=lambda m: m.__name__)
def test_each_request_example_is_valid(model: type[RequestModel]) -> None:
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples", []) if isinstance(extra, dict) else []
    for example in examples:
        model.model_validate(example)


def test_request_bodies_of_every_route_have_examples() -> None:
    # Nested models (a contact, a tier) are illustrated by their parent's example.
    from fastapi.routing import APIRoute, iter_route_contexts

    from integration.entrypoints.api import routers as integration_routers
    from licensing.entrypoints import api as licensing_api
    from licensing.entrypoints import pool_api, royalty_api
    from membership.entrypoints import api as membership_api
    from notifications.entrypoints import api as notifications_api
    from standards.entrypoints import api as standards_api
    from training.entrypoints import api as training_api

    missing = []
    modules = (membership_api, licensing_api, pool_api, royalty_api, standards_api, training_api, notifications_api)
    routers = [module.router for module in modules] + integration_routers
    for router in routers:
        for route in iter_route_contexts(router.routes):
            if not isinstance(route.original_route, APIRoute) or route.body_field is None:
                continue
            model = route.body_field.field_info.annotation
            extra = model.model_config.get("json_schema_extra")
            if not (isinstance(extra, dict) and extra.get("examples")):
                missing.append(f"{route.path_format}: {model.__name__}")
    assert missing == []


def test_the_problem_example_is_a_problem() -> None:
    extra = Problem.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    for example in extra["examples"]:
        Problem.model_validate(example)


def response_models() -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for name in SCHEMA_MODULES:
        module = importlib.import_module(name)
        found += [
            cls
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, BaseModel) and not issubclass(cls, RequestModel) and cls.__module__ == name
        ]
    return found


@pytest.mark.parametrize("model", response_models(), ids=lambda m: f"{m.__module__.split('.')[-1]}.{m.__name__}")
def test_each_response_example_is_valid(model: type[BaseModel]) -> None:
    # Validated in JSON mode: the example is what the API writes (Decimal strings, ISO dates).
    extra = model.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    for example in examples if isinstance(examples, list) else []:
        model.model_validate_json(json.dumps(example))


def services() -> dict[str, FastAPI]:
    from integration.entrypoints.api import routers as integration_routers
    from licensing.entrypoints import api as licensing_api
    from licensing.entrypoints import pool_api, royalty_api
    from membership.entrypoints import api as membership_api
    from notifications.entrypoints import api as notifications_api
    from standards.entrypoints import api as standards_api
    from training.entrypoints import api as training_api

    routers = {
        "membership": (membership_api,),
        "licensing": (licensing_api, pool_api, royalty_api),
        "standards": (standards_api,),
        "training": (training_api,),
        "notifications": (notifications_api,),
    }
    apps = {}
    for service, modules in routers.items():
        app = FastAPI()
        for module in modules:
            app.include_router(module.router)
        apps[service] = app
    apps["integration"] = FastAPI()
    for router in integration_routers:  # its features' routers, as the service includes them
        apps["integration"].include_router(router)
    return apps


def example_of(schema: dict[str, Any], document: dict[str, Any]) -> object:
    """The example a document gives for a body of ``schema`` (a list's from its items' schema)."""
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("type") == "array" and "items" in schema:
        item = example_of(schema["items"], document)
        return [item] if item is not None else None
    return None


def test_success_responses_of_every_route_have_examples() -> None:
    missing, checked = [], 0
    for service, app in services().items():
        document = app.openapi()
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                for status, response in operation.get("responses", {}).items():
                    schema = response.get("content", {}).get("application/json", {}).get("schema")
                    if not status.startswith("2") or not schema:
                        continue
                    checked += 1
                    if example_of(schema, document) is None:
                        missing.append(f"{service}: {method.upper()} {path} {status}")
    assert checked > 50  # the routers were found and their responses documented
    assert missing == []


def without_nulls(value: object) -> object:
    """``value`` as FastAPI's document writes it: its generator drops every null (``exclude_none``)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def test_each_routes_example_is_a_valid_response_of_that_route() -> None:
    # What the route's response model documents (a page, a list, one object) is a response it accepts,
    # and it is the example the service's document shows (less the nulls FastAPI's generator drops).
    from fastapi.routing import APIRoute, iter_route_contexts

    checked = 0
    for app in services().values():
        document = app.openapi()
        for route in iter_route_contexts(app.routes):
            original = route.original_route
            if not isinstance(original, APIRoute) or original.response_model is None or not original.include_in_schema:
                continue  # (a route left out of the document, e.g. integration's internal one, has no example there)
            adapter: TypeAdapter[Any] = TypeAdapter(original.response_model)
            schema = adapter.json_schema(mode="serialization")
            example = example_of(schema, {"components": {"schemas": schema.get("$defs", {})}})
            assert example is not None, route.path_format
            adapter.validate_json(json.dumps(example))
            for method in route.methods or ():
                response = document["paths"][route.path_format][method.lower()]["responses"]
                shown = response[str(original.status_code or 200)]["content"]["application/json"]["schema"]
                assert example_of(shown, document) == without_nulls(example), f"{method} {route.path_format}"
                checked += 1
    assert checked > 50


def test_a_page_example_is_a_page_of_the_item_example() -> None:
    from licensing.entrypoints.pool_schemas import PatentPublic

    (page,) = Page[PatentPublic].model_json_schema()["examples"]
    extra = PatentPublic.model_config.get("json_schema_extra")
    examples = extra.get("examples") if isinstance(extra, dict) else None
    assert isinstance(examples, list)
    assert page["items"] == [examples[0]]
    assert decode_cursor(page["next_cursor"]) == page["items"][0]["id"]
    Page[PatentPublic].model_validate_json(json.dumps(page))
