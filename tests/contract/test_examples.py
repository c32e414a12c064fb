"""The examples the document publishes are accepted by the models they illustrate (no infrastructure)."""

from __future__ import annotations

import importlib
import inspect

import pytest

from alliance_common.problems import Problem, RequestModel

SCHEMA_MODULES = (
    "membership.entrypoints.schemas",
    "licensing.entrypoints.schemas",
    "licensing.entrypoints.pool_schemas",
    "licensing.entrypoints.royalty_schemas",
    "standards.entrypoints.schemas",
    "training.entrypoints.schemas",
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

    from licensing.entrypoints import api as licensing_api
    from licensing.entrypoints import pool_api, royalty_api
    from membership.entrypoints import api as membership_api
    from standards.entrypoints import api as standards_api
    from training.entrypoints import api as training_api

    missing = []
    for router in (membership_api, licensing_api, pool_api, royalty_api, standards_api, training_api):
        for route in iter_route_contexts(router.router.routes):
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
