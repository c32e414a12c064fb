"""The JWKS verifier: keys chosen by kid, refetched (rate-limited) for an unknown kid, so a
provider's key rotation breaks nothing; the kind claim; the fixed 401 texts; the cache."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from alliance_common.auth import (
    EXPIRED_TOKEN,
    INVALID_TOKEN,
    JwksTokenVerifier,
    Role,
    TokenVerifier,
    Unauthenticated,
    verifier_for,
)
from alliance_common.settings import ServiceSettings

ISSUER = "http://127.0.0.1:8180/realms/alliance"
AUDIENCE = "alliance-platform"
JWKS_URL = ISSUER + "/protocol/openid-connect/certs"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def old_key() -> rsa.RSAPrivateKey:
    return new_key()


@pytest.fixture(scope="module")
def new_key_() -> rsa.RSAPrivateKey:
    return new_key()


def jwk(key: rsa.RSAPrivateKey, kid: str, **extra: str) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "use": "sig", "alg": "RS256", **extra}


def token(key: rsa.RSAPrivateKey, kid: str | None, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "sub": "8d0c7a6e-1f5b-4a59-9a8c-2b1d3f0e4c11",
        "iat": now,
        "exp": now + 300,
        "typ": "Bearer",  # Keycloak's own claim: says nothing about the caller
        "kind": "user",
        "roles": ["member_admin"],
        "org": "org-demo-huaxin",
        "scope": "openid",
        "name": "Wang Guanli",
        **overrides,
    }
    headers = {} if kid is None else {"kid": kid}
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


class Provider:
    """The provider's JWKS endpoint, as a function: what it serves now, and how often it was asked."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.calls = 0
        self.down = False

    def __call__(self, url: str) -> Any:
        assert url == JWKS_URL
        self.calls += 1
        if self.down:
            raise OSError("connection refused")
        return {"keys": self.keys}


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def verifier(provider: Provider, clock: Clock | None = None, **options: Any) -> JwksTokenVerifier:
    return JwksTokenVerifier(JWKS_URL, ISSUER, AUDIENCE, fetch=provider, clock=clock or Clock(), **options)


def refused(v: TokenVerifier, tok: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        v.verify(tok)
    return str(caught.value.detail)


def test_a_user_token_becomes_its_principal(old_key: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    p = v.verify(token(old_key, "k1"))
    assert p.subject == "8d0c7a6e-1f5b-4a59-9a8c-2b1d3f0e4c11"
    assert p.roles == frozenset({Role.MEMBER_ADMIN})
    assert p.org_id == "org-demo-huaxin"
    assert p.kind == "user"
    assert p.name == "Wang Guanli"


def test_a_machine_token_carries_its_scopes(old_key: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    tok = token(old_key, "k1", kind="machine", roles=["agency"], scope="licensing:read training:read", org=None)
    p = v.verify(tok)
    assert (p.kind, p.roles, p.scopes) == (
        "machine",
        frozenset({Role.AGENCY}),
        frozenset({"licensing:read", "training:read"}),
    )


def test_rotation_old_kid_then_new_kid_both_verify(old_key: rsa.RSAPrivateKey, new_key_: rsa.RSAPrivateKey) -> None:
    provider = Provider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock)
    assert v.verify(token(old_key, "k1")).kind == "user"
    assert provider.calls == 1
    # The provider rotates: its JWKS now holds the new key (and still the old one, as Keycloak does).
    provider.keys = [jwk(new_key_, "k2"), jwk(old_key, "k1")]
    clock.now += 60  # past the refetch interval
    assert v.verify(token(new_key_, "k2", sub="after-rotation")).subject == "after-rotation"
    assert provider.calls == 2
    assert v.kids == {"k1", "k2"}
    # Tokens of the old key keep verifying while the provider publishes it, without another fetch.
    assert v.verify(token(old_key, "k1", sub="old-still")).subject == "old-still"
    assert provider.calls == 2


def test_a_withdrawn_key_stops_verifying_new_tokens_after_a_refetch(
    old_key: rsa.RSAPrivateKey, new_key_: rsa.RSAPrivateKey
) -> None:
    provider = Provider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock, max_age_s=600)
    v.verify(token(old_key, "k1"))
    provider.keys = [jwk(new_key_, "k2")]
    clock.now += 601  # the key set is stale: refetched on the next token
    assert refused(v, token(old_key, "k1", sub="signed-with-withdrawn")) == INVALID_TOKEN
    assert provider.calls == 2
    assert v.kids == {"k2"}


def test_unknown_kids_refetch_at_most_once_per_interval(
    old_key: rsa.RSAPrivateKey, new_key_: rsa.RSAPrivateKey
) -> None:
    provider = Provider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock, refetch_interval_s=30)
    v.verify(token(old_key, "k1"))
    for i in range(20):  # a flood of made-up kids
        assert refused(v, token(new_key_, f"forged-{i}")) == INVALID_TOKEN
    assert provider.calls == 1  # the first fetch was just now: no refetch within the interval
    clock.now += 31
    provider.keys = [jwk(old_key, "k1"), jwk(new_key_, "k2")]
    assert v.verify(token(new_key_, "k2")).kind == "user"
    assert provider.calls == 2


def test_a_provider_that_is_down_refuses_with_the_fixed_text_and_recovers(old_key: rsa.RSAPrivateKey) -> None:
    provider = Provider(jwk(old_key, "k1"))
    provider.down = True
    clock = Clock()
    v = verifier(provider, clock)
    assert refused(v, token(old_key, "k1")) == INVALID_TOKEN
    provider.down = False
    assert refused(v, token(old_key, "k1", sub="again")) == INVALID_TOKEN  # no retry within the interval
    clock.now += 31
    assert v.verify(token(old_key, "k1", sub="later")).subject == "later"


def test_known_keys_keep_verifying_while_the_provider_is_down(old_key: rsa.RSAPrivateKey) -> None:
    provider = Provider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock, max_age_s=600)
    v.verify(token(old_key, "k1"))
    provider.down = True
    clock.now += 601  # stale: a refetch is attempted and fails
    assert v.verify(token(old_key, "k1", sub="during-outage")).subject == "during-outage"
    assert provider.calls == 2 and v.kids == {"k1"}


def test_the_kind_claim_is_required_and_closed(old_key: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    assert refused(v, token(old_key, "k1", kind=None)) == INVALID_TOKEN
    assert refused(v, token(old_key, "k1", kind="admin")) == INVALID_TOKEN


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "http://elsewhere/realms/alliance"},
        {"aud": "account"},
        {"roles": ["offline_access"]},
        {"sub": None},
    ],
)
def test_bad_claims_get_the_fixed_text(old_key: rsa.RSAPrivateKey, overrides: dict[str, Any]) -> None:
    claims = {k: v for k, v in overrides.items() if v is not None}
    tok = token(old_key, "k1", **claims)
    if "sub" in overrides:
        payload = jwt.decode(tok, options={"verify_signature": False})
        del payload["sub"]
        tok = jwt.encode(payload, old_key, algorithm="RS256", headers={"kid": "k1"})
    assert refused(verifier(Provider(jwk(old_key, "k1"))), tok) == INVALID_TOKEN


def test_forged_and_kidless_tokens_are_refused(old_key: rsa.RSAPrivateKey, new_key_: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    assert refused(v, token(new_key_, "k1")) == INVALID_TOKEN  # the right kid, someone else's key
    assert refused(v, token(old_key, None)) == INVALID_TOKEN
    assert refused(v, "not-a-jwt") == INVALID_TOKEN


def test_expired_tokens_get_the_expired_text(old_key: rsa.RSAPrivateKey) -> None:
    now = int(time.time())
    tok = token(old_key, "k1", iat=now - 600, exp=now - 60)
    assert refused(verifier(Provider(jwk(old_key, "k1"))), tok) == EXPIRED_TOKEN


def test_encryption_keys_in_the_jwks_are_ignored(old_key: rsa.RSAPrivateKey, new_key_: rsa.RSAPrivateKey) -> None:
    # Keycloak publishes an RSA-OAEP key (use "enc") next to its signing key.
    provider = Provider(jwk(old_key, "sig1"), jwk(new_key_, "enc1", use="enc", alg="RSA-OAEP"))
    v = verifier(provider)
    assert v.verify(token(old_key, "sig1")).kind == "user"
    assert v.kids == {"sig1"}
    assert refused(v, token(new_key_, "enc1")) == INVALID_TOKEN


def test_verified_tokens_are_cached_until_exp(old_key: rsa.RSAPrivateKey) -> None:
    provider = Provider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock)
    tok = token(old_key, "k1", exp=int(clock.now) + 100)
    first = v.verify(tok)
    provider.keys = []  # even with the key gone, the verified token is served from the cache ...
    assert v.verify(tok) is first
    clock.now += 101  # ... until it expires: then it is verified again, in full
    clock.now += 3600
    assert refused(v, tok) == INVALID_TOKEN  # the key set was refetched (stale) and no longer holds k1


def test_settings_choose_the_verifier(old_key: rsa.RSAPrivateKey, tmp_path: Any) -> None:
    settings = ServiceSettings(service_name="svc", oidc_issuer=ISSUER, oidc_jwks_url=JWKS_URL)
    chosen = verifier_for(settings)
    assert isinstance(chosen, JwksTokenVerifier) and chosen.jwks_url == JWKS_URL and chosen.issuer == ISSUER
    with pytest.raises(ValueError, match="oidc_issuer"):
        ServiceSettings(service_name="svc", oidc_jwks_url=JWKS_URL)
    with pytest.raises(RuntimeError):
        verifier_for(ServiceSettings(service_name="svc"))
    # Production may run on the provider alone (no PEM file).
    assert ServiceSettings(service_name="svc", environment="production", oidc_issuer=ISSUER).oidc_issuer == ISSUER


def test_from_issuer_reads_the_discovery_document(old_key: rsa.RSAPrivateKey) -> None:
    provider = Provider(jwk(old_key, "k1"))

    def fetch(url: str) -> Any:
        if url == ISSUER + "/.well-known/openid-configuration":
            return {"issuer": ISSUER, "jwks_uri": JWKS_URL}
        return provider(url)

    v = JwksTokenVerifier.from_issuer(ISSUER, AUDIENCE, fetch=fetch)
    assert v.jwks_url == JWKS_URL
    assert v.verify(token(old_key, "k1")).org_id == "org-demo-huaxin"
