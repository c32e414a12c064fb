"""The local token issuer and client-secret matching."""

from __future__ import annotations

import hashlib
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance_common.auth import Role, TokenVerifier
from gateway.issuer import Issuer, secret_matches
from gateway.settings import MachineClient

ISSUER = "alliance-dev-issuer"
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


@pytest.fixture
def issuer(keys: tuple[str, str]) -> Issuer:
    return Issuer(keys[0], ISSUER, AUDIENCE, ttl_s=600)


def claims_of(token: str, public_key: str) -> dict[str, object]:
    return jwt.decode(token, public_key, algorithms=["RS256"], audience=AUDIENCE, issuer=ISSUER)


def test_issued_token_carries_the_standard_claims(issuer: Issuer, keys: tuple[str, str]) -> None:
    before = int(time.time())
    claims = claims_of(issuer.issue("chen.li@example.com", [Role.MEMBER_ADMIN], org_id="org-1"), keys[1])
    after = int(time.time())
    assert (claims["iss"], claims["aud"], claims["sub"]) == (ISSUER, AUDIENCE, "chen.li@example.com")
    assert before <= claims["iat"] <= after  # type: ignore[operator]
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] == claims["iat"] + 600  # type: ignore[operator]
    assert claims["typ"] == "user"
    assert claims["org"] == "org-1"


def test_roles_are_sorted_values(issuer: Issuer, keys: tuple[str, str]) -> None:
    claims = claims_of(issuer.issue("x", [Role.SECRETARIAT, Role.COUNCIL]), keys[1])
    assert claims["roles"] == ["council", "secretariat"]


def test_optional_claims_are_absent_when_not_given(issuer: Issuer, keys: tuple[str, str]) -> None:
    claims = claims_of(issuer.issue("x", [Role.EXPERT]), keys[1])
    assert not {"org", "name", "scope"} & claims.keys()


def test_machine_token_has_kind_name_and_sorted_scopes(issuer: Issuer, keys: tuple[str, str]) -> None:
    token = issuer.issue(
        "agency-1", [Role.AGENCY], name="Patent Office", kind="machine", scopes=["standing:read", "members:read"]
    )
    claims = claims_of(token, keys[1])
    assert claims["typ"] == "machine"
    assert claims["name"] == "Patent Office"
    assert claims["scope"] == "members:read standing:read"


def test_every_token_has_a_unique_id(issuer: Issuer, keys: tuple[str, str]) -> None:
    first = claims_of(issuer.issue("x", [Role.EXPERT]), keys[1])
    second = claims_of(issuer.issue("x", [Role.EXPERT]), keys[1])
    assert first["jti"] != second["jti"]


def test_issued_tokens_pass_the_services_verifier(issuer: Issuer, keys: tuple[str, str]) -> None:
    token = issuer.issue("agency-1", [Role.AGENCY], kind="machine", scopes=["members:read"], name="Agency")
    principal = TokenVerifier(keys[1], ISSUER, AUDIENCE).verify(token)
    assert principal.subject == "agency-1"
    assert principal.roles == {Role.AGENCY}
    assert principal.kind == "machine"
    assert principal.scopes == {"members:read"}
    assert principal.org_id is None


def client(secret: str) -> MachineClient:
    return MachineClient(name="Agency", secret_sha256=hashlib.sha256(secret.encode()).hexdigest(), scopes=[])


def test_the_right_secret_matches() -> None:
    assert secret_matches(client("s3cret-value"), "s3cret-value")


@pytest.mark.parametrize("attempt", ["", "s3cret-valu", "s3cret-value ", "S3CRET-VALUE"])
def test_any_other_secret_does_not_match(attempt: str) -> None:
    assert not secret_matches(client("s3cret-value"), attempt)


def test_the_stored_digest_itself_is_not_a_secret() -> None:
    registered = client("s3cret-value")
    assert not secret_matches(registered, registered.secret_sha256)
