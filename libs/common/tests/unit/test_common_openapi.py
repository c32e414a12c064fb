"""The contract a FastAPI app publishes: statuses derived from its routes, problems, operation ids, Allow."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from alliance_common.auth import CurrentPrincipal
from alliance_common.errors import Conflict
from alliance_common.openapi import contract, install_contract, operation_ids, problems
from alliance_common.problems import RequestModel, install_problem_handlers

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


class ThingIn(RequestModel):
    name: str


def app_with(router: APIRouter) -> FastAPI:
    app = FastAPI(generate_unique_id_function=operation_ids("alpha"))
    install_problem_handlers(app)
    app.include_router(router)
    return app


def things() -> APIRouter:
    router = APIRouter(prefix="/api/v1/alpha")

    @router.get("/things", summary="List")
    async def list_things(principal: CurrentPrincipal, limit: int = 10) -> list[str]:
        return []

    @router.post("/things", status_code=201, summary="Add")
    async def add_thing(body: ThingIn, principal: CurrentPrincipal) -> dict[str, str]:
        return {}

    @router.get("/things/{thing_id}", summary="One")
    async def get_thing(thing_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        return {}

    @router.get("/public/{code}", summary="Anonymous", responses=problems(409, s409="already checked"))
    async def check(code: str) -> dict[str, str]:
        raise Conflict("already checked")

    return router


def statuses(doc: dict[str, Any], path: str, method: str) -> set[str]:
    return set(doc["paths"][path][method]["responses"])


def test_statuses_are_derived_from_each_routes_shape() -> None:
    doc = contract(app_with(things()))
    assert statuses(doc, "/api/v1/alpha/things", "get") == {"200", "401", "403", "422", "503"}
    assert statuses(doc, "/api/v1/alpha/things", "post") == {"201", "400", "401", "403", "409", "422", "503"}
    assert statuses(doc, "/api/v1/alpha/things/{thing_id}", "get") == {"200", "401", "403", "404", "422", "503"}
    # Anonymous: no 401/403; its own 409 with the route's description.
    public = doc["paths"]["/api/v1/alpha/public/{code}"]["get"]
    assert set(public["responses"]) == {"200", "404", "409", "422", "503"}
    assert public["responses"]["409"] == {"description": "already checked", "content": PROBLEM}
    assert "security" not in public


def test_errors_are_problems_successes_json_and_the_secured_ones_name_bearer() -> None:
    doc = contract(app_with(things()))
    for item in doc["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    assert response["content"] == PROBLEM
                else:
                    assert list(response["content"]) == ["application/json"]
    assert doc["paths"]["/api/v1/alpha/things"]["get"]["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {"Problem", "FieldError"} <= set(doc["components"]["schemas"])
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert sorted(ids) == ["alpha.add_thing", "alpha.check", "alpha.get_thing", "alpha.list_things"]


def test_two_routes_with_one_operation_id_are_refused() -> None:
    router = APIRouter()

    @router.get("/a", name="same")
    async def a() -> None: ...

    @router.get("/b", name="same")
    async def b() -> None: ...

    with pytest.raises(ValueError, match="alpha.same"), pytest.warns(UserWarning, match="Duplicate Operation ID"):
        contract(app_with(router))


async def test_options_and_405_list_every_method_of_the_path() -> None:
    app = app_with(things())
    install_contract(app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        options = await client.options("/api/v1/alpha/things")
        assert options.status_code == 204
        assert options.headers["allow"] == "GET, OPTIONS, POST"  # two routes share the path
        refused = await client.delete("/api/v1/alpha/things")
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, OPTIONS, POST"
        assert refused.headers["content-type"] == "application/problem+json"
        one = await client.options("/api/v1/alpha/things/7")
        assert one.headers["allow"] == "GET, OPTIONS"
        assert (await client.options("/nowhere")).status_code == 404


def test_a_create_links_to_the_operations_on_what_it_created() -> None:
    from pydantic import BaseModel

    class Created(BaseModel):
        id: str

    router = APIRouter(prefix="/api/v1/alpha")

    @router.post("/boxes/{box_id}/things", status_code=201, response_model=Created)
    async def put_thing(box_id: str, body: ThingIn) -> Created:
        return Created(id="1")

    @router.get("/boxes/{box_id}/things/{thing_id}")
    async def get_boxed(box_id: str, thing_id: str) -> None: ...

    @router.get("/boxes/{box_id}/thingsmore")
    async def unrelated(box_id: str) -> None: ...

    doc = contract(app_with(router))
    links = doc["paths"]["/api/v1/alpha/boxes/{box_id}/things"]["post"]["responses"]["201"]["links"]
    assert links == {
        "alpha.get_boxed": {
            "operationId": "alpha.get_boxed",
            "parameters": {"path.box_id": "$request.path.box_id", "path.thing_id": "$response.body#/id"},
        }
    }
