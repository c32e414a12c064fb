"""The gateway's published document: generated from the services' own, complete, and true.

Against the running platform: the combined ``/openapi.json`` is exactly the merge of what each
service publishes (so the two cannot drift), every error is documented as a problem, operation
ids are unique, ``Allow`` and ``OPTIONS`` give each path's documented methods, and ``/docs``
loads nothing from outside the gateway.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from alliance_common.auth import SCOPES, TOKEN_URL, WRITE_SCOPES
from alliance_local.infra import ensure_chromium
from alliance_local.stack import Stack
from gateway.bootstrap import create_app
from gateway.docs import merge_openapi
from gateway.settings import Settings

SERVICES = ("membership", "licensing", "standards", "training", "notifications", "integration")
METHODS = ("get", "put", "post", "delete", "patch")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def documents(platform: Stack) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """(the gateway's combined document, each service's own document)."""
    with httpx.Client(timeout=30) as client:
        combined = client.get(f"{platform.gateway_url}/openapi.json").json()
        own = {name: client.get(f"{platform.url(name)}/openapi.json").json() for name in SERVICES}
    return combined, own


def differences(a: Any, b: Any, at: str = "") -> list[str]:
    """Where two JSON documents differ, as JSON-pointer-like paths (empty when equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in differences(a.get(k), b.get(k), f"{at}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{at}/{i}")]
    return [] if a == b else [f"{at}: {str(a)[:200]} != {str(b)[:200]}"]


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op) for path, item in doc["paths"].items() for method, op in item.items() if method in METHODS
    ]


def test_the_combined_document_is_the_merge_of_the_services_own(
    platform: Stack, documents: tuple[dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    combined, own = documents
    gateway = create_app(
        Settings(
            jwt_private_key_file=platform.private_key,
            jwt_public_key_file=platform.public_key,
            zipkin_endpoint=None,
            otel_exporter_otlp_endpoint=None,
        )
    )
    assert differences(combined, merge_openapi(gateway.openapi(), own)) == []
    for name, doc in own.items():
        published = {(m, p) for m, p, _ in operations(doc) if p.startswith("/api/")}
        assert published and published <= {(m, p) for m, p, _ in operations(combined)}, name
        for method, path, operation in operations(doc):
            merged = combined["paths"][path][method]
            for status, response in operation["responses"].items():
                assert merged["responses"][status] == response, (method, path, status)


def test_every_operation_documents_its_errors_as_problems(
    documents: tuple[dict[str, Any], dict[str, dict[str, Any]]],
) -> None:
    combined, _ = documents
    ids = [op["operationId"] for _, _, op in operations(combined)]
    assert len(ids) == len(set(ids)) and all(re.fullmatch(r"[a-z]+\.[a-z_]+", i) for i in ids), ids
    assert "HTTPValidationError" not in combined["components"]["schemas"]
    assert set(combined["components"]["schemas"]["Problem"]["properties"]) >= {"type", "title", "status", "errors"}
    for method, path, operation in operations(combined):
        responses = operation["responses"]
        assert operation.get("summary"), (method, path)
        successes = [s for s in responses if s.startswith("2")]
        assert successes, (method, path)
        for status in successes:
            content = responses[status].get("content", {"application/json": {}})
            # JSON, and for statistics and open data the same tables as CSV besides; a page for
            # people (the annual report's printable page) is HTML.
            first = "text/html" if path.endswith("/page") else "application/json"
            assert list(content)[0] == first, (method, path, status)
            assert set(list(content)[1:]) <= {"text/csv"}, (method, path, status)
        errors = {s for s in responses if s[0] in "45"}
        if path.startswith("/api/"):
            # The gateway verifies tokens, limits callers and reaches the service, on every operation.
            assert {"401", "429", "503", "504"} <= errors, (method, path)
            assert operation["security"], (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= errors, (method, path)
            if method != "get":
                assert {"403", "409"} <= errors, (method, path)
        for status in errors:
            assert responses[status]["content"] == PROBLEM, (method, path, status)
            assert responses[status]["description"], (method, path, status)
    assert combined["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def paced(client: httpx.Client, method: str, url: str) -> httpx.Response:
    """The answer to ``method url``, waiting out the gateway's rate limit (three calls per path, over
    every path, is more than one caller's burst): the limit is not what this test checks."""
    for _ in range(10):
        response = client.request(method, url)
        if response.status_code != 429:
            return response
        time.sleep(float(response.headers.get("retry-after", "1")))
    return response


def test_options_and_405_give_each_paths_documented_methods(
    platform: Stack, contract_tokens: dict[str, str], documents: tuple[dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    combined, _ = documents
    headers = {"Authorization": f"Bearer {contract_tokens['secretariat']}"}
    with httpx.Client(base_url=platform.gateway_url, timeout=30, headers=headers) as client:
        for path, item in combined["paths"].items():
            if not path.startswith("/api/"):
                continue
            url = re.sub(r"\{[^}]+\}", "x", path)
            documented = sorted({m.upper() for m in item if m in METHODS} | {"OPTIONS"})
            options = paced(client, "OPTIONS", url)
            assert options.status_code == 204, (path, options.text)
            assert options.headers["allow"].split(", ") == documented, path
            undocumented = next(m for m in ("DELETE", "PATCH", "PUT", "POST") if m not in documented)
            refused = paced(client, undocumented, url)
            assert refused.status_code == 405, (path, undocumented, refused.text)
            assert refused.headers["allow"].split(", ") == documented, path
            assert refused.headers["content-type"] == "application/problem+json"
            unknown = paced(client, "PROPFIND", url)
            assert unknown.status_code == 405 and unknown.headers["allow"].split(", ") == documented, path


def test_the_api_docs_page_loads_nothing_from_outside_the_gateway(platform: Stack) -> None:
    with httpx.Client(base_url=platform.gateway_url, timeout=30) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(r"url: ?'([^']+)'", page.text)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        assert not re.search(r"https?://", page.text), page.text  # no CDN, no validator badge
        for url in urls:
            asset = client.get(url)
            assert asset.status_code == 200, url
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert bundle.headers["content-type"].startswith(("application/javascript", "text/javascript"))
        assert len(bundle.content) > 500_000  # Swagger UI itself, served from the installed package
        assert client.get("/docs/assets/..%2F__init__.py").status_code == 404


def test_swagger_ui_renders_the_document_in_a_browser_that_reaches_nothing_else(
    platform: Stack, tmp_path: Path
) -> None:
    """Headless Chromium with every host but the loopback unresolvable: the page still renders."""
    try:
        browser = str(ensure_chromium())  # installs Debian's chromium where it is missing (as root)
    except RuntimeError as exc:
        pytest.skip(f"no Chromium here and none could be installed ({exc}); the HTML and asset test above still ran")
    run = subprocess.run(
        [
            browser,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
            "--virtual-time-budget=30000",
            "--dump-dom",
            f"{platform.gateway_url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    dom = run.stdout
    assert 'class="swagger-ui' in dom, run.stderr[-3000:]
    assert "/api/v1/licensing/patents" in dom and "opblock" in dom, dom[-3000:]


def test_the_oauth2_client_credentials_scheme_and_its_scopes_are_kept_in_the_combined_document(
    platform: Stack, contract_tokens: dict[str, str], documents: tuple[dict[str, Any], dict[str, dict[str, Any]]]
) -> None:
    combined, _ = documents
    flow = combined["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == TOKEN_URL and flow["scopes"] == SCOPES
    scoped = []
    for method, path, operation in operations(combined):
        for requirement in operation.get("security", []):
            if "oauth2" in requirement:
                assert requirement["oauth2"] and set(requirement["oauth2"]) <= set(SCOPES)
                # Machines read; they write only where the route states a write scope (webhooks:manage).
                assert method == "get" or set(requirement["oauth2"]) <= WRITE_SCOPES, (method, path)
                scoped.append(path)
    assert len(scoped) >= 8, scoped
    # A machine token: 200 where the route states a scope it holds, a documented 403 where none is stated.
    headers = {"Authorization": f"Bearer {contract_tokens['agency']}"}
    with httpx.Client(base_url=platform.gateway_url, timeout=30, headers=headers) as client:
        assert client.get("/api/v1/standards/projects").status_code == 200
        refused = client.get("/api/v1/licensing/licences")
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        assert "403" in combined["paths"]["/api/v1/licensing/licences"]["get"]["responses"]
