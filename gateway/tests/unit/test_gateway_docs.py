"""Merging the services' OpenAPI documents into one."""

from __future__ import annotations

import copy
from typing import Any

from gateway.docs import merge_openapi

GATEWAY = {
    "openapi": "3.1.0",
    "info": {"title": "gateway", "version": "0"},
    "paths": {"/auth/token": {"post": {"summary": "token"}}},
    "components": {"schemas": {"TokenResponse": {"type": "object"}}},
}

VALIDATION = {"type": "object", "properties": {"detail": {"type": "array"}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def service(prefix: str, history: dict[str, Any], extra_path: str | None = None) -> dict[str, Any]:
    paths: dict[str, Any] = {
        f"/api/v1/{prefix}/things": {
            "get": {"responses": {"200": {"content": {"application/json": {"schema": ref("ThingOut")}}}}},
            "post": {"responses": {"422": {"content": {"application/json": {"schema": ref("HTTPValidationError")}}}}},
        },
    }
    if extra_path:
        paths[extra_path] = {"get": {"summary": "not public"}}
    return {
        "openapi": "3.1.0",
        "paths": paths,
        "components": {
            "schemas": {
                "ThingOut": {
                    "type": "object",
                    "properties": {"history": {"type": "array", "items": ref("HistoryPublic")}},
                },
                "HistoryPublic": history,
                "HTTPValidationError": VALIDATION,
            }
        },
    }


HISTORY_A = {"type": "object", "properties": {"by": {"type": "string"}}}
HISTORY_B = {"type": "object", "properties": {"cause": {"type": "string"}}}


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in all_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in all_refs(v)]
    return []


def test_paths_of_every_service_are_merged_with_the_gateways() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A), "beta": service("beta", HISTORY_A)})
    assert set(merged["paths"]) == {"/auth/token", "/api/v1/alpha/things", "/api/v1/beta/things"}


def test_only_api_paths_of_services_are_published() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A, extra_path="/health/ready")})
    assert "/health/ready" not in merged["paths"]


def test_service_operations_require_a_bearer_token() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A)})
    for operation in merged["paths"]["/api/v1/alpha/things"].values():
        assert operation["security"] == [{"bearer": []}]
    assert merged["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }


def test_an_operation_with_its_own_security_keeps_it_and_its_schemes() -> None:
    doc = service("alpha", HISTORY_A)
    requirement = [{"bearer": []}, {"oauth2": ["alpha:read"]}]
    doc["paths"]["/api/v1/alpha/things"]["get"]["security"] = requirement
    oauth2 = {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "/auth/token", "scopes": {}}}}
    doc["components"]["securitySchemes"] = {"oauth2": oauth2}
    merged = merge_openapi(GATEWAY, {"alpha": doc})
    assert merged["paths"]["/api/v1/alpha/things"]["get"]["security"] == requirement
    assert merged["components"]["securitySchemes"]["oauth2"] == oauth2
    assert merged["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_an_anonymous_operation_says_the_gateway_verifies_a_token_that_is_sent() -> None:
    doc = service("alpha", HISTORY_A)
    doc["paths"]["/api/v1/alpha/things"]["get"]["security"] = []
    merged = merge_openapi(GATEWAY, {"alpha": doc})
    operation = merged["paths"]["/api/v1/alpha/things"]["get"]
    assert operation["security"] == [{}, {"bearer": []}]
    assert "401" in operation["responses"]


def test_the_gateway_adds_the_statuses_it_answers_itself() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A)})
    get = merged["paths"]["/api/v1/alpha/things"]["get"]["responses"]
    post = merged["paths"]["/api/v1/alpha/things"]["post"]["responses"]
    assert {"401", "429", "503", "504"} <= set(get) and "403" not in get  # reads: no machine refusal here
    assert {"401", "403", "429", "503", "504"} <= set(post)
    for status in ("401", "429", "503", "504"):
        assert get[status]["content"] == {"application/problem+json": {"schema": ref("Problem")}}


def idempotency_parameters(operation: dict[str, Any]) -> list[dict[str, Any]]:
    parameters = operation.get("parameters", [])
    return [p for p in parameters if p["in"] == "header" and p["name"].lower() == "idempotency-key"]


def test_every_write_declares_the_idempotency_key_the_gateway_accepts() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A)})
    things = merged["paths"]["/api/v1/alpha/things"]
    assert idempotency_parameters(things["get"]) == []
    [key] = idempotency_parameters(things["post"])
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!#-~]+$"}


def test_a_key_the_service_declares_gets_the_gateways_rules_and_the_tighter_length() -> None:
    # FastAPI's `str | None = Header(max_length=200)`: any string, which the gateway would answer 400
    # for a key with a quote or a space in it (found by Schemathesis's stateful phase).
    doc = service("alpha", HISTORY_A)
    declared = {
        "name": "idempotency-key",
        "in": "header",
        "required": False,
        "description": "recorded once",
        "schema": {"anyOf": [{"type": "string", "maxLength": 200}, {"type": "null"}]},
    }
    doc["paths"]["/api/v1/alpha/things"]["post"]["parameters"] = [declared]
    merged = merge_openapi(GATEWAY, {"alpha": doc})
    [key] = idempotency_parameters(merged["paths"]["/api/v1/alpha/things"]["post"])
    assert key["description"] == "recorded once"
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!#-~]+$"}
    assert doc["paths"]["/api/v1/alpha/things"]["post"]["parameters"][0] == declared  # the input is untouched


def test_the_merged_document_describes_the_platform() -> None:
    merged = merge_openapi(GATEWAY, {})
    assert merged["info"]["title"] == "Alliance Platform API"
    assert merged["paths"] == GATEWAY["paths"]


def test_identical_schemas_are_kept_once_under_their_name() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A), "beta": service("beta", HISTORY_A)})
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"TokenResponse", "ThingOut", "HistoryPublic", "HTTPValidationError"} | {
        "Problem",
        "FieldError",
    }
    assert schemas["HTTPValidationError"] == VALIDATION


def test_a_name_two_services_use_differently_gets_a_service_prefix() -> None:
    merged = merge_openapi(GATEWAY, {"alpha": service("alpha", HISTORY_A), "beta": service("beta", HISTORY_B)})
    schemas = merged["components"]["schemas"]
    assert schemas["HistoryPublic"] == HISTORY_A  # the first service (by name) keeps the plain name
    assert schemas["BetaHistoryPublic"] == HISTORY_B
    assert "AlphaHistoryPublic" not in schemas
    assert "BetaHTTPValidationError" not in schemas


def test_references_to_a_renamed_schema_are_rewritten() -> None:
    alpha = service("alpha", HISTORY_A)
    alpha["components"]["schemas"]["ThingOut"] = {
        "type": "object",
        "title": "alpha thing",
        "properties": {"history": {"items": ref("HistoryPublic")}},
    }
    merged = merge_openapi(GATEWAY, {"alpha": alpha, "beta": service("beta", HISTORY_B)})
    schemas = merged["components"]["schemas"]
    assert schemas["ThingOut"]["properties"]["history"]["items"] == ref("HistoryPublic")
    assert schemas["BetaThingOut"]["properties"]["history"]["items"] == ref("BetaHistoryPublic")
    beta_get = merged["paths"]["/api/v1/beta/things"]["get"]
    assert beta_get["responses"]["200"]["content"]["application/json"]["schema"] == ref("BetaThingOut")
    alpha_get = merged["paths"]["/api/v1/alpha/things"]["get"]
    assert alpha_get["responses"]["200"]["content"]["application/json"]["schema"] == ref("ThingOut")


def test_a_schema_clashing_with_the_gateways_gets_a_prefix() -> None:
    doc = service("alpha", HISTORY_A)
    doc["components"]["schemas"]["TokenResponse"] = {"type": "string"}
    merged = merge_openapi(GATEWAY, {"alpha": doc})
    assert merged["components"]["schemas"]["TokenResponse"] == {"type": "object"}
    assert merged["components"]["schemas"]["AlphaTokenResponse"] == {"type": "string"}


def test_every_reference_in_the_merged_document_resolves() -> None:
    alpha = service("alpha", HISTORY_A)
    alpha["components"]["schemas"]["ThingOut"]["title"] = "alpha"
    merged = merge_openapi(GATEWAY, {"alpha": alpha, "beta": service("beta", HISTORY_B)})
    schemas = merged["components"]["schemas"]
    for reference in all_refs(merged["paths"]) + all_refs(schemas):
        assert reference.removeprefix("#/components/schemas/") in schemas, reference


def test_merging_does_not_modify_the_inputs() -> None:
    gateway_doc, alpha, beta = copy.deepcopy(GATEWAY), service("alpha", HISTORY_A), service("beta", HISTORY_B)
    alpha_before, beta_before = copy.deepcopy(alpha), copy.deepcopy(beta)
    merge_openapi(gateway_doc, {"alpha": alpha, "beta": beta})
    assert gateway_doc == GATEWAY
    assert alpha == alpha_before
    assert beta == beta_before


def test_a_schema_that_refers_to_a_renamed_schema_is_renamed_too() -> None:
    def doc(item_field: str) -> dict[str, Any]:
        return {
            "paths": {
                f"/api/v1/{item_field}/things": {
                    "get": {
                        "responses": {
                            "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Page"}}}}
                        }
                    }
                }
            },
            "components": {
                "schemas": {
                    "Item": {"properties": {item_field: {"type": "string"}}},
                    "Page": {"properties": {"items": {"$ref": "#/components/schemas/Item"}}},
                }
            },
        }

    merged = merge_openapi({"paths": {}}, {"alpha": doc("alpha"), "beta": doc("beta")})
    schemas = merged["components"]["schemas"]
    assert schemas["Page"]["properties"]["items"]["$ref"] == "#/components/schemas/Item"
    assert schemas["BetaPage"]["properties"]["items"]["$ref"] == "#/components/schemas/BetaItem"
    alpha_op = merged["paths"]["/api/v1/alpha/things"]["get"]
    beta_op = merged["paths"]["/api/v1/beta/things"]["get"]
    assert alpha_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/Page"
    assert beta_op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/BetaPage"
    )
