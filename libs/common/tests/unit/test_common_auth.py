"""Bearer token verification and the organisation access rules."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from alliance_common.auth import Principal, Role, TokenVerifier, Unauthenticated, require_roles
from alliance_common.errors import Forbidden

ISSUER = "alliance-test-issuer"
AUDIENCE = "alliance-platform"


def keypair() -> tuple[str, str]:
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


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return keypair()


@pytest.fixture(scope="module")
def other_keys() -> tuple[str, str]:
    return keypair()


@pytest.fixture
def verifier(keys: tuple[str, str]) -> TokenVerifier:
    return TokenVerifier(keys[1], ISSUER, AUDIENCE)


def token(private_key: str, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "chen.li@example.com",
        "iat": now,
        "exp": now + 300,
        "roles": ["member_admin"],
        "org": "org-1",
        "scope": "members:read standing:read",
        "typ": "user",
        "name": "Chen Li",
    }
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, private_key, algorithm="RS256")


# --- TokenVerifier -------------------------------------------------------------------------


def test_a_valid_token_gives_the_principal(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    principal = verifier.verify(token(keys[0]))
    assert principal == Principal(
        subject="chen.li@example.com",
        roles=frozenset({Role.MEMBER_ADMIN}),
        org_id="org-1",
        scopes=frozenset({"members:read", "standing:read"}),
        kind="user",
        name="Chen Li",
    )


def test_a_token_without_optional_claims_gives_defaults(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    principal = verifier.verify(token(keys[0], roles=None, org=None, scope=None, typ=None, name=None))
    assert principal.roles == frozenset()
    assert principal.org_id is None
    assert principal.scopes == frozenset()
    assert principal.kind == "user"
    assert principal.name is None


def test_several_roles_are_all_kept(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    principal = verifier.verify(token(keys[0], roles=["secretariat", "council"], org=None))
    assert principal.roles == {Role.SECRETARIAT, Role.COUNCIL}


def test_a_machine_token_keeps_its_kind(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    principal = verifier.verify(token(keys[0], typ="machine", roles=["agency"], org=None))
    assert principal.kind == "machine"
    assert principal.roles == {Role.AGENCY}


def test_an_expired_token_is_unauthenticated(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    now = int(time.time())
    with pytest.raises(Unauthenticated, match="expired") as excinfo:
        verifier.verify(token(keys[0], iat=now - 600, exp=now - 60))
    assert excinfo.value.status == 401


def test_a_token_for_another_audience_is_unauthenticated(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(token(keys[0], aud="some-other-api"))


def test_a_token_from_another_issuer_is_unauthenticated(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(token(keys[0], iss="https://evil.example.com"))


def test_a_token_signed_with_another_key_is_unauthenticated(
    verifier: TokenVerifier, other_keys: tuple[str, str]
) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(token(other_keys[0]))


def test_a_token_with_an_unknown_role_is_unauthenticated(verifier: TokenVerifier, keys: tuple[str, str]) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(token(keys[0], roles=["member_admin", "superuser"]))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
def test_a_token_missing_a_required_claim_is_unauthenticated(
    verifier: TokenVerifier, keys: tuple[str, str], claim: str
) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(token(keys[0], **{claim: None}))


def test_an_unsigned_token_is_unauthenticated(verifier: TokenVerifier) -> None:
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60}, None, algorithm="none"
    )
    with pytest.raises(Unauthenticated):
        verifier.verify(unsigned)


def test_a_token_signed_with_an_hmac_algorithm_is_unauthenticated(verifier: TokenVerifier) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": now, "exp": now + 60}
    forged = jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    with pytest.raises(Unauthenticated):
        verifier.verify(forged)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c"])
def test_garbage_is_unauthenticated(verifier: TokenVerifier, garbage: str) -> None:
    with pytest.raises(Unauthenticated):
        verifier.verify(garbage)


# --- Principal -----------------------------------------------------------------------------


def principal(*roles: Role, org_id: str | None = None) -> Principal:
    return Principal(subject="someone", roles=frozenset(roles), org_id=org_id)


@pytest.mark.parametrize("role", [Role.SECRETARIAT, Role.COUNCIL])
def test_staff_see_every_organisation(role: Role) -> None:
    staff = principal(role)
    assert staff.is_staff
    assert staff.can_access_org("org-1")
    assert staff.can_access_org("org-2")


def test_only_the_secretariat_acts_for_any_organisation() -> None:
    """Issue 9: the council counted as staff everywhere, and could act for any organisation."""
    principal(Role.SECRETARIAT).require_org("org-2")
    assert principal(Role.SECRETARIAT).may_act_for("org-2")
    council = principal(Role.COUNCIL)
    assert not council.may_act_for("org-2") and not council.is_secretariat
    with pytest.raises(Forbidden):
        council.require_org("org-2")
    assert principal(Role.COUNCIL, org_id="org-2").may_act_for("org-2")  # a council member's own company


@pytest.mark.parametrize("role", [Role.MEMBER_ADMIN, Role.MEMBER_STAFF, Role.LICENSEE])
def test_organisation_users_see_only_their_own(role: Role) -> None:
    member = principal(role, org_id="org-1")
    assert not member.is_staff
    assert member.can_access_org("org-1")
    assert not member.can_access_org("org-2")
    member.require_org("org-1")
    with pytest.raises(Forbidden):
        member.require_org("org-2")


@pytest.mark.parametrize("role", [Role.EXPERT, Role.AGENCY, Role.MEMBER_ADMIN])
def test_a_non_staff_principal_without_organisation_sees_none(role: Role) -> None:
    nobody = principal(role)
    assert not nobody.can_access_org("org-1")
    with pytest.raises(Forbidden):
        nobody.require_org("org-1")


def test_staff_role_beside_a_member_role_sees_every_organisation() -> None:
    assert principal(Role.MEMBER_ADMIN, Role.COUNCIL, org_id="org-1").can_access_org("org-9")


def test_has_any_and_require_roles() -> None:
    member = principal(Role.MEMBER_ADMIN, org_id="org-1")
    assert member.has_any(Role.COUNCIL, Role.MEMBER_ADMIN)
    assert not member.has_any(Role.COUNCIL, Role.SECRETARIAT)
    require_roles(member, Role.MEMBER_ADMIN)
    with pytest.raises(Forbidden, match="council, secretariat"):
        require_roles(member, Role.SECRETARIAT, Role.COUNCIL)
