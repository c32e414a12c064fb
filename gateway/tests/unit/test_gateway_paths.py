"""Which proxied paths the gateway forwards, and the one upstream path it builds for each."""

from __future__ import annotations

import random

import pytest

from gateway.proxy import BadPath, checked_target, normalised_target


@pytest.mark.parametrize(
    "raw",
    [
        "/api/v1/membership/../../../readyz",
        "/api/v1/membership/..",
        "/api/v1/membership/./organisations",
        "/api/v1/membership/organisations/../../licensing/licences",
        "/api/v1/membership/%2e%2e/%2e%2e/%2e%2e/readyz",
        "/api/v1/membership/%2E%2E/readyz",
        "/api/v1/membership/.%2e/readyz",
        "/api/v1/membership/%2e./readyz",
        "/api/v1/membership/%2e/organisations",
        "/api/v1/membership/..%2f..%2f..%2freadyz",
        "/api/v1/membership/x%2F..%2F..%2F..%2Freadyz",
        "/api/v1/membership/..%5c..%5creadyz",
        "/api/v1/membership/..%5C..%5Creadyz",
        "/api/v1/membership%2f..%2f..%2freadyz",
        "/api/v1/membership/..\\..\\readyz",
        "/api/v1/membership/organisations\\x",
        "/api/v1/membership/organisations;jsessionid=1",
        "/api/v1/membership/..;/..;/readyz",
        "/api/v1/membership/organisations;/x",
        "/api/v1/membership//readyz",
        "/api/v1/membership/organisations//x",
        "/api/v1//membership/x",
        "/api/v1/%2e%2e/readyz",
    ],
)
def test_paths_that_could_leave_the_service_are_refused(raw: str) -> None:
    with pytest.raises(BadPath) as refused:
        normalised_target(raw)
    assert refused.value.status == 400


@pytest.mark.parametrize(
    ("raw", "service", "upstream"),
    [
        ("/api/v1/membership/organisations", "membership", "/api/v1/membership/organisations"),
        ("/api/v1/membership/organisations/", "membership", "/api/v1/membership/organisations/"),
        ("/api/v1/membership/", "membership", "/api/v1/membership/"),
        # An encoded slash inside a segment is data, and stays encoded (one canonical form).
        ("/api/v1/membership/things/a%2Fb", "membership", "/api/v1/membership/things/a%2Fb"),
        ("/api/v1/membership/things/a%2fb", "membership", "/api/v1/membership/things/a%2Fb"),
        # Needless escapes are undone; what must be escaped is, once.
        ("/api/v1/training/certificates/verify/%41BC", "training", "/api/v1/training/certificates/verify/ABC"),
        ("/api/v1/licensing/patents/CN%20123", "licensing", "/api/v1/licensing/patents/CN%20123"),
        ("/api/v1/licensing/patents/%C3%B6%F2", "licensing", "/api/v1/licensing/patents/%C3%B6%F2"),
        ("/api/v1/licensing/patents/a%3Bb", "licensing", "/api/v1/licensing/patents/a%3Bb"),
        ("/api/v1/licensing/patents/a%5Cb", "licensing", "/api/v1/licensing/patents/a%5Cb"),
        # Dots inside a segment are not dot segments.
        ("/api/v1/standards/projects/v1.2", "standards", "/api/v1/standards/projects/v1.2"),
        ("/api/v1/standards/projects/...", "standards", "/api/v1/standards/projects/..."),
        ("/api/v1/standards/projects/.hidden", "standards", "/api/v1/standards/projects/.hidden"),
        ("/api/v1/standards/projects/a:b@c", "standards", "/api/v1/standards/projects/a:b@c"),
    ],
)
def test_ordinary_paths_are_forwarded_in_one_canonical_form(raw: str, service: str, upstream: str) -> None:
    assert normalised_target(raw) == (service, upstream)


def test_an_encoded_slash_in_the_service_segment_names_no_service() -> None:
    service, _ = normalised_target("/api/v1/membership%2Fx/organisations")
    assert service == "membership/x"  # not a configured upstream: the proxy answers 404


def test_the_fast_path_agrees_with_the_full_check() -> None:
    """Plain paths skip decoding; whatever they are, the answer is the full check's."""
    rng = random.Random(9)
    alphabet = "aZ09._-~!$&'()*+,=:@%2e%2F;\\/"
    for _ in range(20_000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        raw = f"/api/v1/membership/{tail}"
        try:
            expected: tuple[str, str] | str = checked_target(raw)
        except BadPath:
            expected = "refused"
        try:
            got: tuple[str, str] | str = normalised_target(raw)
        except BadPath:
            got = "refused"
        assert got == expected, raw
