"""Webhooks' pure rules: signatures verified by the specification's own library (``standardwebhooks``),
rotation, the retry schedule with jitter, disabling after a day, and the SSRF address policy."""

from __future__ import annotations

import base64
import ipaddress
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
import standardwebhooks

from alliance_common.errors import InvalidInput
from integration.domain.archive import ArchivedEvent
from integration.domain.feed import types_for_scopes
from integration.domain.webhook_targets import RefusedUrl, UrlPolicy, address_refusal, check_addresses, check_url
from integration.domain.webhooks import (
    DELIVERED,
    FAILED,
    PENDING,
    RETRY_DELAYS_S,
    Attempt,
    RetryPolicy,
    after_attempt,
    check_event_types,
    matches,
    new_delivery,
    new_secret,
    payload,
    rotate,
    signature_header,
    subscribe,
    subscription_after,
    webhook_id_of,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
STRICT = UrlPolicy()
DEV = UrlPolicy(allow_http=True, allow_loopback=True)


def event(seq: int = 1, type_: str = "alliance.standards.standard.published.v1") -> ArchivedEvent:
    return ArchivedEvent(
        id=f"0b8f2a8e-0000-4000-8000-{seq:012d}",
        seq=seq,
        type=type_,
        source="/alliance/standards",
        subject="proj-1",
        time=NOW,
        data={"project_id": "proj-1", "title": "标准 LED", "n": seq},
    )


def secret() -> str:
    return new_secret(random.Random(7).randbytes)


def test_a_secret_is_whsec_and_base64_of_at_least_24_bytes() -> None:
    s = new_secret(lambda n: bytes(range(n)))
    assert s.startswith("whsec_")
    assert len(base64.b64decode(s[len("whsec_") :])) >= 24
    with pytest.raises(ValueError):
        new_secret(lambda n: b"short")


def test_the_reference_library_verifies_our_signature_and_refuses_a_changed_body() -> None:
    s = secret()
    body = payload(event())
    ts = int(time.time())
    headers = {
        "webhook-id": webhook_id_of(event().id),
        "webhook-timestamp": str(ts),
        "webhook-signature": signature_header([s], webhook_id_of(event().id), ts, body),
    }
    parsed = standardwebhooks.Webhook(s).verify(body, headers)
    assert parsed["type"] == "alliance.standards.standard.published.v1"
    assert parsed["data"]["title"] == "标准 LED"
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(s).verify(body.replace(b"proj-1", b"proj-2"), headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret(random.Random(8).randbytes)).verify(body, headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):  # another webhook-id
        standardwebhooks.Webhook(s).verify(body, {**headers, "webhook-id": "other"})


def test_during_a_rotation_either_secret_verifies_and_after_the_overlap_only_the_new_one() -> None:
    old = secret()
    new = new_secret(random.Random(9).randbytes)
    sub = subscribe(
        subscription_id="wh_1",
        owner="agency",
        url="https://x.example",
        event_types=("alliance.standards.*",),
        secret=old,
        now=NOW,
        from_seq=0,
    )
    rotated = rotate(sub, new, NOW + timedelta(hours=1), timedelta(hours=24))
    during = rotated.signing_secrets(NOW + timedelta(hours=2))
    assert during == [new, old]
    body = payload(event())
    ts = int(time.time())
    headers = {"webhook-id": "e1", "webhook-timestamp": str(ts)}
    headers["webhook-signature"] = signature_header(during, "e1", ts, body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    standardwebhooks.Webhook(old).verify(body, headers)
    standardwebhooks.Webhook(new).verify(body, headers)
    after = rotated.signing_secrets(NOW + timedelta(hours=25, seconds=1))
    assert after == [new]
    headers["webhook-signature"] = signature_header(after, "e1", ts, body)
    standardwebhooks.Webhook(new).verify(body, headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(body, headers)
    # A second rotation within the overlap: the first secret keeps its own end, the second gets one.
    third = new_secret(random.Random(10).randbytes)
    twice = rotate(rotated, third, NOW + timedelta(hours=3), timedelta(hours=24))
    assert twice.signing_secrets(NOW + timedelta(hours=4)) == [third, new, old]
    assert twice.signing_secrets(NOW + timedelta(hours=26)) == [third, new]


def test_the_payload_is_the_same_bytes_for_the_same_event() -> None:
    assert payload(event()) == payload(event())
    assert b'"timestamp":"2026-11-27T12:00:00Z"' in payload(event())


def test_a_webhook_id_never_carries_a_dot_and_is_stable() -> None:
    assert webhook_id_of("abc-1") == "abc-1"
    dotted = webhook_id_of("a.b")
    assert "." not in dotted and dotted == webhook_id_of("a.b")


def test_backoff_follows_the_schedule_with_bounded_jitter_then_stops() -> None:
    policy = RetryPolicy()
    rng = random.Random(1)
    for n, base in enumerate(RETRY_DELAYS_S, start=1):
        for _ in range(50):
            d = policy.delay(n, rng)
            assert d is not None and base * 0.8 <= d <= base * 1.2
    assert policy.delay(len(RETRY_DELAYS_S) + 1, rng) is None
    spread = {round(policy.delay(3, random.Random(i)) or 0) for i in range(20)}
    assert len(spread) > 5  # jittered, not one fixed value


def test_a_delivery_retries_then_fails_for_good_and_succeeds_on_2xx() -> None:
    sub = subscribe(
        subscription_id="wh_1",
        owner="a",
        url="https://x.example",
        event_types=("alliance.standards.*",),
        secret=secret(),
        now=NOW,
        from_seq=0,
    )
    policy = RetryPolicy((1.0, 10.0), jitter=0)
    rng = random.Random(0)
    d = new_delivery(sub, event(), NOW)
    d = after_attempt(d, Attempt(NOW, 500, "answered 500", 3), policy, rng)
    assert (d.status, d.next_attempt_at, d.failures) == (PENDING, NOW + timedelta(seconds=1), 1)
    d = after_attempt(d, Attempt(NOW, None, "timeout", 3), policy, rng)
    assert d.next_attempt_at == NOW + timedelta(seconds=10)
    done = after_attempt(d, Attempt(NOW, 204, None, 3), policy, rng)
    assert done.status == DELIVERED and done.next_attempt_at is None and len(done.attempts) == 3
    d = after_attempt(d, Attempt(NOW, 502, "answered 502", 3), policy, rng)
    assert d.status == FAILED and d.next_attempt_at is None
    # Retry-After is honoured when longer than the schedule's step; 3xx is a failure.
    d2 = after_attempt(new_delivery(sub, event(2), NOW), Attempt(NOW, 503, "x", 1, retry_after_s=120), policy, rng)
    assert d2.next_attempt_at == NOW + timedelta(seconds=120)
    d3 = after_attempt(new_delivery(sub, event(3), NOW), Attempt(NOW, 302, "x", 1), policy, rng)
    assert d3.status == PENDING and d3.failures == 1
    gone = after_attempt(new_delivery(sub, event(4), NOW), Attempt(NOW, 410, "gone", 1), policy, rng)
    assert gone.status == FAILED


def test_a_day_of_failures_disables_and_a_success_resets_the_clock() -> None:
    sub = subscribe(
        subscription_id="wh_1",
        owner="a",
        url="https://x.example",
        event_types=("alliance.standards.*",),
        secret=secret(),
        now=NOW,
        from_seq=0,
    )
    h = subscription_after(sub, Attempt(NOW, 500, "x", 1))
    assert h.subscription.failing_since == NOW and not h.disabled_now
    h = subscription_after(h.subscription, Attempt(NOW + timedelta(hours=23), 500, "x", 1))
    assert h.subscription.enabled
    ok = subscription_after(h.subscription, Attempt(NOW + timedelta(hours=23, minutes=30), 200, None, 1))
    assert ok.subscription.failing_since is None
    h = subscription_after(h.subscription, Attempt(NOW + timedelta(hours=24), 500, "x", 1))
    assert h.disabled_now and not h.subscription.enabled
    assert h.subscription.disabled_reason is not None and "24.0 h" in h.subscription.disabled_reason
    gone = subscription_after(sub, Attempt(NOW, 410, "gone", 1))
    assert gone.disabled_now and "410" in (gone.subscription.disabled_reason or "")


def test_event_types_within_scopes() -> None:
    known = {
        "alliance.standards.standard.published.v1",
        "alliance.standards.project.proposed.v1",
        "alliance.licensing.licence.granted.v1",
        "alliance.licensing.royalty.reported.v1",  # one licensee's sales: never to an agency
        "alliance.membership.member.admitted.v1",
        "alliance.membership.dues.paid.v1",
    }
    standards = types_for_scopes({"standards:read"})
    assert matches("alliance.standards.*", "alliance.standards.standard.published.v1")
    assert not matches("alliance.standards.*", "alliance.standardsx.a.v1")
    assert check_event_types(["alliance.standards.*", "alliance.standards.project.proposed.v1"], standards, known) == (
        "alliance.standards.project.proposed.v1",
        "alliance.standards.standard.published.v1",
    )
    with pytest.raises(InvalidInput, match="scopes do not allow"):
        check_event_types(["alliance.licensing.licence.granted.v1"], standards, known)
    with pytest.raises(InvalidInput, match="no event type"):
        check_event_types(["alliance.nothing.v1"], standards, known)
    licensing = types_for_scopes({"licensing:read"})
    with pytest.raises(InvalidInput, match="scopes do not allow"):
        check_event_types(["alliance.licensing.royalty.reported.v1"], licensing, known)
    # A prefix stands for what the scopes allow under it: never the royalty report, never dues.
    assert check_event_types(["alliance.licensing.*"], licensing, known) == ("alliance.licensing.licence.granted.v1",)
    statistics = types_for_scopes({"statistics:read"})
    assert check_event_types(["alliance.membership.*"], statistics, known) == (
        "alliance.membership.member.admitted.v1",
    )
    assert types_for_scopes({"webhooks:manage"}) == frozenset()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must use https"),
        ("ftp://hooks.example.com/x", "must be an https URL"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https:///x", "no host"),
        ("https://hooks.example.com:99999/", "not a valid URL"),
        ("https://hooks.example.com/x#frag", "fragment"),
        ("https://hooks.example.com/\nx", "whitespace"),
        ("https://" + "a" * 2000 + ".example/", "longer than"),
    ],
)
def test_url_forms_refused(url: str, reason: str) -> None:
    with pytest.raises(RefusedUrl, match=reason) as refused:
        check_url(url, STRICT)
    assert refused.value.field == "url"


def test_url_forms_accepted() -> None:
    t = check_url("https://Hooks.Example.com/in?x=1", STRICT)
    assert (t.host, t.port, t.scheme) == ("hooks.example.com", 443, "https")
    assert check_url("http://127.0.0.1:8080/in", DEV).port == 8080
    assert check_url("https://[2606:4700::1]:8443/", STRICT).host == "2606:4700::1"


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "not public"),  # carrier-grade NAT
        ("192.0.2.10", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("64:ff9b:1::1", "private"),  # local-use NAT64
        ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
        ("2001:db8::1", "private"),  # documentation
    ],
)
def test_addresses_refused(address: str, kind: str) -> None:
    reason = address_refusal(ipaddress.ip_address(address), STRICT)
    assert reason is not None and kind in reason
    with pytest.raises(RefusedUrl, match=kind):
        check_addresses([address], STRICT)


def test_public_addresses_accepted_and_one_bad_address_refuses_all() -> None:
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert address_refusal(ipaddress.ip_address(address), STRICT) is None
    with pytest.raises(RefusedUrl, match="private"):
        check_addresses(["8.8.8.8", "10.0.0.1"], STRICT)
    with pytest.raises(RefusedUrl, match="does not resolve"):
        check_addresses([], STRICT)
    with pytest.raises(RefusedUrl, match="scoped"):
        check_addresses(["fe80::1%eth0"], DEV)


def test_development_allows_loopback_only() -> None:
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), DEV) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), DEV) is None
    assert address_refusal(ipaddress.ip_address("10.0.0.1"), DEV) is not None
    assert address_refusal(ipaddress.ip_address("169.254.169.254"), DEV) is not None
