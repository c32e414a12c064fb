"""The verifier's cache of verified tokens: used only until the token's expiry, bounded, never for failures."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance_common.auth import TokenVerifier, Unauthenticated

ISSUER = "alliance-test-issuer"
AUDIENCE = "alliance-platform"


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
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


def token(private_key: str, subject: str = "chen.li@example.com", **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now,
        "exp": now + 300,
        "roles": ["member_admin"],
        "org": "org-1",
        **overrides,
    }
    return jwt.encode(claims, private_key, algorithm="RS256")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Counting(TokenVerifier):
    """Counts the full verifications (signature and claims) behind the cache."""

    full = 0

    def _verify(self, token: str, fetch: bool = True) -> Any:
        self.full += 1
        return super()._verify(token, fetch)


def verifier(public: str, clock: Clock, cache_size: int = 10_000) -> Counting:
    return Counting(public, ISSUER, AUDIENCE, cache_size=cache_size, clock=clock)


def test_a_token_is_verified_once_while_it_is_valid(keys: tuple[str, str]) -> None:
    clock = Clock()
    v = verifier(keys[1], clock)
    t = token(keys[0])
    first = v.verify(t)
    for _ in range(5):
        assert v.verify(t) == first
    assert v.full == 1


def test_at_its_expiry_the_token_is_verified_in_full_again(keys: tuple[str, str]) -> None:
    clock = Clock()
    v = verifier(keys[1], clock)
    t = token(keys[0], exp=int(clock.now) + 60)
    v.verify(t)
    clock.now += 59
    v.verify(t)
    assert v.full == 1
    clock.now += 1  # now == exp: the cached entry no longer counts
    v.verify(t)  # (PyJWT's own clock still says valid, so this passes, but it was checked in full)
    assert v.full == 2


def test_an_expired_token_is_refused_every_time_and_never_cached(keys: tuple[str, str]) -> None:
    v = verifier(keys[1], Clock())
    t = token(keys[0], iat=int(time.time()) - 120, exp=int(time.time()) - 60)
    for _ in range(3):
        with pytest.raises(Unauthenticated, match="expired"):
            v.verify(t)
    assert v.full == 3


def test_a_token_inside_the_leeway_passes_but_is_not_cached(keys: tuple[str, str]) -> None:
    now = int(time.time())
    v = verifier(keys[1], Clock())
    t = token(keys[0], iat=now - 60, exp=now - 2)  # PyJWT's 5 s leeway still accepts it
    v.verify(t)
    v.verify(t)
    assert v.full == 2


def test_an_altered_token_never_hits_the_cached_original(keys: tuple[str, str]) -> None:
    v = verifier(keys[1], Clock())
    t = token(keys[0])
    v.verify(t)
    header, payload, signature = t.split(".")
    forged_payload = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(payload).replace(b"member_admin", b"secretariat")
    ).decode()
    with pytest.raises(Unauthenticated):
        v.verify(f"{header}.{forged_payload}.{signature}")
    flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    with pytest.raises(Unauthenticated):
        v.verify(f"{header}.{payload}.{flipped}")


def test_the_cache_is_bounded_and_drops_its_oldest_entry(keys: tuple[str, str]) -> None:
    clock = Clock()
    v = verifier(keys[1], clock, cache_size=2)
    a, b, c = (token(keys[0], subject=s) for s in ("a", "b", "c"))
    for t in (a, b, c):
        v.verify(t)
    assert v.full == 3
    v.verify(b)
    v.verify(c)
    assert v.full == 3  # the two newest are cached
    assert v.verify(a).subject == "a"
    assert v.full == 4  # the oldest was dropped, so it was verified again
