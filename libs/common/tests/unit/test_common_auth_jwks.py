"""The JWKS verifier: keys chosen by kid, refetched (rate-limited) for an unknown kid, so a
provider's key rotation breaks nothing; the kind claim; the fixed 401 texts; the cache."""

from __future__ import annotations

import asyncio
import json
import threading
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
        "sub": "8d0c7a6e-1f5b-4a59-9a8c-2b1d3f0e4c11",  # Keycloak's user id: not who the platform knows
        "preferred_username": "member-admin@alliance.example",  # the e-mail (registrationEmailAsUsername)
        "azp": "alliance-portal",
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
    assert p.subject == "member-admin@alliance.example"
    assert p.roles == frozenset({Role.MEMBER_ADMIN})
    assert p.org_id == "org-demo-huaxin"
    assert p.kind == "user"
    assert p.name == "Wang Guanli"


def test_a_machine_token_carries_its_scopes(old_key: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    tok = token(
        old_key,
        "k1",
        kind="machine",
        roles=["agency"],
        scope="licensing:read training:read",
        org=None,
        azp="agency-demo",
        preferred_username="service-account-agency-demo",
    )
    p = v.verify(tok)
    assert (p.subject, p.kind, p.roles, p.scopes) == (
        "agency-demo",  # the client id
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
    assert v.verify(token(new_key_, "k2", preferred_username="after-rotation")).subject == "after-rotation"
    assert provider.calls == 2
    assert v.kids == {"k1", "k2"}
    # Tokens of the old key keep verifying while the provider publishes it, without another fetch.
    assert v.verify(token(old_key, "k1", preferred_username="old-still")).subject == "old-still"
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
    assert refused(v, token(old_key, "k1", preferred_username="signed-with-withdrawn")) == INVALID_TOKEN
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
    assert refused(v, token(old_key, "k1", preferred_username="again")) == INVALID_TOKEN  # no retry within the interval
    clock.now += 31
    assert v.verify(token(old_key, "k1", preferred_username="later")).subject == "later"


def test_known_keys_keep_verifying_while_the_provider_is_down(old_key: rsa.RSAPrivateKey) -> None:
    provider = Provider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock, max_age_s=600)
    v.verify(token(old_key, "k1"))
    provider.down = True
    clock.now += 601  # stale: a refetch is attempted and fails
    assert v.verify(token(old_key, "k1", preferred_username="during-outage")).subject == "during-outage"
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


# --- who the caller is: the e-mail for a person, the client id for a machine ---------------------


def test_the_subject_is_the_email_never_keycloaks_user_id(old_key: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    p = v.verify(token(old_key, "k1", preferred_username="chen.li@huaxing.example", email="other@example.com"))
    assert p.subject == "chen.li@huaxing.example"
    assert "8d0c7a6e" not in p.subject


@pytest.mark.parametrize("claim", [{"preferred_username": None}, {"preferred_username": ""}, {"preferred_username": 7}])
def test_a_person_without_a_username_is_refused(old_key: rsa.RSAPrivateKey, claim: dict[str, Any]) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    assert refused(v, token(old_key, "k1", **claim)) == INVALID_TOKEN


def test_a_machine_is_its_client_id_and_needs_one(old_key: rsa.RSAPrivateKey) -> None:
    v = verifier(Provider(jwk(old_key, "k1")))
    machine = {"kind": "machine", "roles": ["agency"], "org": None, "preferred_username": "service-account-x"}
    assert v.verify(token(old_key, "k1", azp="agency-demo", **machine)).subject == "agency-demo"
    assert refused(v, token(old_key, "k1", azp=None, **machine)) == INVALID_TOKEN


# --- the fetch never runs on the event loop ------------------------------------------------------


class ThreadRecordingProvider(Provider):
    """Records the thread of each fetch; ``gate`` holds a fetch until the test releases it."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        super().__init__(*keys)
        self.threads: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, url: str) -> Any:
        self.threads.append(threading.get_ident())
        assert self.gate.wait(10)
        return super().__call__(url)


async def test_start_fetches_the_keys_off_the_event_loop(old_key: rsa.RSAPrivateKey) -> None:
    provider = ThreadRecordingProvider(jwk(old_key, "k1"))
    v = verifier(provider)
    await v.start()
    assert v.kids == {"k1"} and provider.calls == 1
    assert provider.threads and threading.get_ident() not in provider.threads
    assert (await v.averify(token(old_key, "k1"))).kind == "user"
    assert provider.calls == 1  # the startup fetch serves the first request


async def test_a_provider_down_at_startup_does_not_stop_the_start(old_key: rsa.RSAPrivateKey) -> None:
    provider = ThreadRecordingProvider(jwk(old_key, "k1"))
    provider.down = True
    clock = Clock()
    v = verifier(provider, clock)
    await v.start()
    assert v.kids == frozenset()
    provider.down = False
    clock.now += 31
    assert (await v.averify(token(old_key, "k1"))).kind == "user"


async def test_a_rotation_is_fetched_once_in_a_thread_while_the_loop_keeps_serving(
    old_key: rsa.RSAPrivateKey, new_key_: rsa.RSAPrivateKey
) -> None:
    provider = ThreadRecordingProvider(jwk(old_key, "k1"))
    clock = Clock()
    v = verifier(provider, clock)
    await v.start()
    known = token(old_key, "k1", preferred_username="known@alliance.example")
    provider.keys = [jwk(new_key_, "k2"), jwk(old_key, "k1")]
    clock.now += 60
    provider.gate.clear()  # the provider is slow: the refetch hangs until released
    rotated = [token(new_key_, "k2", preferred_username=f"p{i}@alliance.example") for i in range(5)]
    waiting = [asyncio.create_task(v.averify(t)) for t in rotated]
    await asyncio.sleep(0.05)
    # While the fetch hangs in its thread, the event loop still verifies tokens of known keys.
    assert (await v.averify(known)).subject == "known@alliance.example"
    assert not any(t.done() for t in waiting)
    provider.gate.set()
    principals = await asyncio.gather(*waiting)
    assert [p.subject for p in principals] == [f"p{i}@alliance.example" for i in range(5)]
    assert provider.calls == 2  # one refetch for the five requests that needed it
    assert threading.get_ident() not in provider.threads
