"""The gateway's own route rule: machine credentials are read-only."""

from __future__ import annotations

import pytest

from alliance_common.auth import Principal, Role
from alliance_common.errors import Forbidden
from gateway.proxy import HOP_BY_HOP, authorise_route

MACHINE = Principal(subject="agency-1", roles=frozenset({Role.AGENCY}), kind="machine")
USER = Principal(subject="chen.li@example.com", roles=frozenset({Role.MEMBER_ADMIN}), org_id="org-1")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_machines_may_read(method: str) -> None:
    authorise_route(MACHINE, method)


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_machines_may_not_write(method: str) -> None:
    with pytest.raises(Forbidden, match="read-only"):
        authorise_route(MACHINE, method)


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def test_users_are_left_to_the_services(method: str) -> None:
    authorise_route(USER, method)


def test_a_user_with_a_staff_role_is_not_treated_as_a_machine() -> None:
    authorise_route(Principal(subject="s", roles=frozenset({Role.SECRETARIAT})), "DELETE")


def test_hop_by_hop_headers_are_not_forwarded() -> None:
    assert {"connection", "transfer-encoding", "host", "content-length", "upgrade"} <= HOP_BY_HOP
    assert "authorization" not in HOP_BY_HOP
    assert "x-request-id" not in HOP_BY_HOP
