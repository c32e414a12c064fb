"""The edge's pure rules: request ids, the caller's address behind trusted proxies, response headers,
and the fixed 401 texts of the token verifier."""

from __future__ import annotations

import base64
import hashlib
import time
import uuid
from collections.abc import Callable
from ipaddress import ip_network

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance_common.auth import EXPIRED_TOKEN, INVALID_TOKEN, TokenVerifier, Unauthenticated
from gateway.edge import TrustedProxies, docs_csp, parse_address, response_headers, safe_request_id
from gateway.settings import Settings


@pytest.mark.parametrize("given", [b"req-42", b"A.b_c-9", b"x" * 64, b"0"])
def test_short_plain_request_ids_are_kept(given: bytes) -> None:
    assert safe_request_id([given]) == given


@pytest.mark.parametrize("given", [b"x" * 65, b"x" * 8192, b"", b"a b", b"a\tb", b"<b>", b"a/b", b"\xc3\xa9", b"a\r\n"])
def test_other_request_ids_are_replaced_by_a_new_one(given: bytes) -> None:
    made = safe_request_id([given])
    assert made != given and uuid.UUID(made.decode()).version == 4


def test_the_first_acceptable_of_repeated_request_ids_is_kept() -> None:
    assert safe_request_id([b"x" * 100, b"ok-1", b"ok-2"]) == b"ok-1"


@pytest.mark.parametrize(
    ("text", "address"),
    [("203.0.113.9", "203.0.113.9"), (" 203.0.113.9:443", "203.0.113.9"), ("[2001:db8::1]:80", "2001:db8::1")],
)
def test_forwarded_entries_are_read_as_addresses(text: str, address: str) -> None:
    assert str(parse_address(text)) == address


@pytest.mark.parametrize("text", ["unknown", "", "[::1", "_hidden", "999.1.1.1", "x" * 1000])
def test_entries_that_are_not_addresses_are_none(text: str) -> None:
    assert parse_address(text) is None


PROXIES = TrustedProxies([ip_network("10.0.0.0/8"), ip_network("192.0.2.7/32")])


def test_without_trusted_proxies_the_peer_is_the_caller() -> None:
    assert TrustedProxies([]).client("127.0.0.1", [b"203.0.113.9"]) == "127.0.0.1"


def test_an_untrusted_peer_cannot_name_another_caller() -> None:
    assert PROXIES.client("198.51.100.4", [b"203.0.113.9"]) == "198.51.100.4"


def test_behind_trusted_proxies_the_nearest_untrusted_hop_is_the_caller() -> None:
    # The caller wrote a forged entry first; the trusted proxies appended what they saw.
    assert PROXIES.client("10.1.1.1", [b"1.2.3.4, 203.0.113.9", b"192.0.2.7"]) == "203.0.113.9"


def test_a_malformed_hop_stops_at_the_last_trusted_proxy() -> None:
    assert PROXIES.client("10.1.1.1", [b"203.0.113.9, evil"]) == "10.1.1.1"
    assert PROXIES.client("10.1.1.1", [b"203.0.113.9, 10.2.2.2, x" * 3]) == "10.1.1.1"


def test_only_proxies_all_the_way_gives_the_leftmost() -> None:
    assert PROXIES.client("10.1.1.1", [b"10.9.9.9"]) == "10.9.9.9"
    assert PROXIES.client("10.1.1.1", []) == "10.1.1.1"


def test_the_scheme_is_taken_only_from_a_trusted_proxy() -> None:
    assert PROXIES.scheme("10.1.1.1", "http", b"https") == "https"
    assert PROXIES.scheme("10.1.1.1", "http", b"http, https") == "https"  # the nearest proxy's word
    assert PROXIES.scheme("10.1.1.1", "http", b"gopher") == "http"
    assert PROXIES.scheme("198.51.100.4", "http", b"https") == "http"


def test_trusted_proxies_are_checked_when_the_settings_are_read() -> None:
    assert Settings(trusted_proxies="10.0.0.0/8, 192.0.2.7").trusted_proxy_networks == (
        ip_network("10.0.0.0/8"),
        ip_network("192.0.2.7/32"),
    )
    with pytest.raises(ValueError, match="not-a-network"):
        Settings(trusted_proxies="not-a-network")


def test_dev_login_defaults_to_off() -> None:
    assert Settings.model_fields["dev_login_enabled"].default is False


def test_response_headers_by_kind() -> None:
    api = dict(response_headers("/api/v1/membership/x", https=False))
    docs = dict(response_headers("/docs", https=False))
    auth = dict(response_headers("/auth/token", https=True))
    assert api[b"content-security-policy"].startswith(b"default-src 'none'")
    assert b"script-src 'self'" in docs[b"content-security-policy"]
    assert auth[b"cache-control"] == b"no-store" and auth[b"pragma"] == b"no-cache"
    assert b"cache-control" not in api
    assert b"strict-transport-security" in auth and b"strict-transport-security" not in api
    for headers in (api, docs, auth):
        assert headers[b"x-content-type-options"] == b"nosniff" and headers[b"x-frame-options"] == b"DENY"


def test_the_docs_csp_allows_exactly_the_pages_inline_scripts() -> None:
    page = b"<script src='/docs/ui.js'></script><SCRIPT type='module'>start()</SCRIPT><script>\nb()\n</script>"
    csp = docs_csp(page).decode()
    assert "'sha256-" + base64.b64encode(hashlib.sha256(b"start()").digest()).decode() + "'" in csp
    assert "'sha256-" + base64.b64encode(hashlib.sha256(b"\nb()\n").digest()).decode() + "'" in csp
    assert csp.count("'sha256-") == 2 and "'unsafe-inline'" not in csp.split("style-src")[0]
    assert "script-src 'self';" in docs_csp(b"<p>no scripts</p>").decode()


# --- the verifier's 401 texts ---------------------------------------------------------------


def _key() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


KEY = _key()
OTHER = _key()


def _token(private: str = KEY[0], **claims: object) -> str:
    now = int(time.time())
    body = {"iss": "i", "aud": "a", "sub": "s", "iat": now, "exp": now + 3600, "roles": ["secretariat"], **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, private, algorithm="RS256")


@pytest.mark.parametrize(
    "make",
    [
        lambda: _token(OTHER[0]),
        lambda: _token(aud="b"),
        lambda: _token(iss="j"),
        lambda: _token(sub=None),
        lambda: _token(roles=["emperor"]),
        lambda: _token(nbf=int(time.time()) + 3600),
        lambda: "not.a.jwt",
        lambda: "",
        lambda: jwt.encode({"sub": "s"}, "k" * 32, algorithm="HS256"),
    ],
    ids=["other-key", "audience", "issuer", "no-sub", "unknown-role", "not-yet", "garbage", "empty", "hs256"],
)
def test_every_invalid_token_gets_the_same_fixed_text(make: Callable[[], str]) -> None:
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier(KEY[1], "i", "a").verify(make())  # made now: valid but for the one flaw
    assert refused.value.detail == INVALID_TOKEN
    assert refused.value.__cause__ is not None  # the library's reason stays in the logs' traceback


def test_an_expired_token_is_told_so_in_our_words() -> None:
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier(KEY[1], "i", "a").verify(_token(exp=int(time.time()) - 60))
    assert refused.value.detail == EXPIRED_TOKEN
