"""The gateway's own route rules: machine credentials are read-only; one route is anonymous."""

from __future__ import annotations

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Forbidden
from gateway.proxy import HOP_BY_HOP, authorise_route, is_anonymous_route

MACHINE = Principal(subject="agency-1", roles=frozenset({Role.AGENCY}), kind="machine")
USER = Principal(subject="chen.li@example.com", roles=frozenset({Role.MEMBER_ADMIN}), org_id="org-1")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_machines_may_read(method: str) -> None:
    authorise_route(MACHINE, method)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_machines_may_not_write(method: str) -> None:
    with pytest.raises(Forbidden, match="read-only"):
        authorise_route(MACHINE, method)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_machine_holding_a_write_scope_is_left_to_the_service_which_knows_its_routes(method: str) -> None:
    authorise_route(
        Principal(
            subject="agency-1", roles=frozenset({Role.AGENCY}), kind="machine", scopes=frozenset({"webhooks:manage"})
        ),
        method,
    )
    every_read_scope = frozenset(
        {"licensing:read", "standards:read", "training:read", "statistics:read", "events:read"}
    )
    with pytest.raises(Forbidden, match="read-only"):
        authorise_route(
            Principal(subject="agency-1", roles=frozenset({Role.AGENCY}), kind="machine", scopes=every_read_scope),
            method,
        )


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def test_users_are_left_to_the_services(method: str) -> None:
    authorise_route(USER, method)


def test_a_user_with_a_staff_role_is_not_treated_as_a_machine() -> None:
    authorise_route(Principal(subject="s", roles=frozenset({Role.SECRETARIAT})), "DELETE")


def test_hop_by_hop_headers_are_not_forwarded() -> None:
    assert {"connection", "transfer-encoding", "host", "content-length", "upgrade"} <= HOP_BY_HOP
    assert "authorization" not in HOP_BY_HOP
    assert "x-request-id" not in HOP_BY_HOP


@pytest.mark.parametrize(
    ("method", "service", "path"),
    [
        ("GET", "training", "certificates/verify/7KQ4M9XT2HCA"),
        ("HEAD", "training", "certificates/verify/ABC234"),
        ("GET", "integration", "opendata"),
        ("GET", "integration", "opendata/members"),
        ("HEAD", "integration", "opendata/essential-patents"),
    ],
)
def test_only_certificate_verification_and_open_data_are_anonymous(method: str, service: str, path: str) -> None:
    assert is_anonymous_route(method, service, path)


@pytest.mark.parametrize(
    ("method", "service", "path"),
    [
        ("POST", "training", "certificates/verify/7KQ4M9XT2HCA"),
        ("GET", "training", "certificates/verify/7KQ4M9XT2HCA/extra"),
        ("GET", "training", "certificates/verify/"),
        ("GET", "training", "certificates/verify/../../sessions"),
        ("GET", "training", "sessions"),
        ("GET", "membership", "certificates/verify/7KQ4M9XT2HCA"),
        ("POST", "integration", "opendata/members"),
        ("GET", "integration", "opendata/../statistics/members"),
        ("GET", "integration", "opendata/members/extra"),
        ("GET", "integration", "opendata/Members"),
        ("GET", "integration", "statistics/members"),
        ("GET", "integration", "opendatax"),
        ("GET", "standards", "opendata/members"),
    ],
)
def test_every_other_route_needs_a_token(method: str, service: str, path: str) -> None:
    assert not is_anonymous_route(method, service, path)
