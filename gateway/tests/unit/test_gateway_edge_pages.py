"""A page a service renders for people (``/api/v1/<service>/.../page``, e.g. the integration service's
annual report) keeps the API's headers, except its CSP: its own inline styles by hash, no script,
nothing fetched, never framed."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gateway.edge import CSP_API, _kind, page_csp, response_headers


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/api/v1/integration/annual-reports/2026/page", "page"),
        ("/api/v1/integration/annual-reports/2026", "api"),
        ("/api/v1/integration/annual-reports/2026/pages", "api"),
        ("/page", "api"),
        ("/docs", "docs"),
    ],
)
def test_which_paths_are_pages(path: str, kind: str) -> None:
    assert _kind(path) == kind


def test_a_page_starts_with_the_apis_headers() -> None:
    headers = dict(response_headers("/api/v1/integration/annual-reports/2026/page", False))
    assert headers[b"content-security-policy"] == CSP_API and headers[b"x-frame-options"] == b"DENY"


def test_the_page_csp_allows_exactly_the_pages_inline_styles() -> None:
    style = b"\nbody { color: #111; }\n"
    other = b"h1 { font-size: 2em; }"
    html = b"<html><head><style>" + style + b"</style><STYLE media='print'>" + other + b"</STYLE></head></html>"
    csp = page_csp(html).decode()
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() + "'" for s in (style, other)}
    directives = dict(d.split(" ", 1) for d in csp.split("; "))
    assert set(directives["style-src"].split()) == hashes
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "script-src" not in directives and "'unsafe-inline'" not in csp
    assert "style-src 'none'" in page_csp(b"<html><body>plain</body></html>").decode()
