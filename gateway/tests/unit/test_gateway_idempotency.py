"""The pure logic of ``Idempotency-Key``: key syntax, fingerprint, record ids and the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.idempotency import (
    BadKey,
    Claims,
    MemoryIdempotencyStore,
    Record,
    State,
    Verdict,
    decide,
    fingerprint,
    is_final,
    parse_key,
    record_id,
    storable_headers,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b"8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        (b'"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        (b'"with space and \\" quote \\\\ slash"', 'with space and " quote \\ slash'),
        (b"  padded  ", "padded"),
        (b"k" * 255, "k" * 255),
    ],
)
def test_valid_keys_bare_or_as_structured_field_strings(raw: bytes, key: str) -> None:
    assert parse_key([raw]) == key


@pytest.mark.parametrize(
    "values",
    [
        [b""],
        [b'""'],
        [b"k" * 256],
        [b"two words"],
        [b"caf\xc3\xa9"],
        [b"tab\there"],
        [b'"unterminated'],
        [b'"bad \\n escape"'],
        [b'"inner " quote"'],
        [b'"ctl \x01"'],
        [b"a", b"b"],
    ],
)
def test_bad_keys_are_refused_naming_the_header(values: list[bytes]) -> None:
    with pytest.raises(BadKey, match="Idempotency-Key"):
        parse_key(values)


def test_fingerprint_and_ids() -> None:
    assert fingerprint(b'{"a": 1}') == fingerprint(b'{"a": 1}')
    assert fingerprint(b'{"a": 1}') != fingerprint(b'{"a": 2}')
    assert fingerprint(None) == fingerprint(b"")
    rid = record_id("alice", "POST", "/api/v1/membership/x", "k1")
    assert rid == record_id("alice", "POST", "/api/v1/membership/x", "k1")
    # never shared between callers, methods, paths or keys
    assert len({rid, *(record_id(*p) for p in [
        ("bob", "POST", "/api/v1/membership/x", "k1"),
        ("alice", "PUT", "/api/v1/membership/x", "k1"),
        ("alice", "POST", "/api/v1/membership/y", "k1"),
        ("alice", "POST", "/api/v1/membership/x", "k2"),
        ("alice", "POST", "/api/v1/membership/x\x00k1", ""),
    ])}) == 6  # fmt: skip


@pytest.mark.parametrize(
    ("status", "final"),
    [(200, True), (201, True), (204, True), (400, True), (404, True), (409, True), (422, True),
     (408, False), (429, False), (500, False), (503, False), (504, False), (302, False)],
)  # fmt: skip
def test_only_2xx_and_4xx_are_final(status: int, final: bool) -> None:
    assert is_final(status) is final


def record(
    state: State, fp: str = "f", expires: timedelta = timedelta(hours=1), lease: timedelta = timedelta(seconds=30)
) -> Record:
    return Record("id", "t", state, fp, NOW + expires, NOW + lease)


@pytest.mark.parametrize(
    ("found", "fp", "verdict"),
    [
        (record(State.DONE), "f", Verdict.REPLAY),
        (record(State.DONE), "other", Verdict.MISMATCH),
        (record(State.IN_PROGRESS), "f", Verdict.IN_PROGRESS),
        (record(State.IN_PROGRESS), "other", Verdict.MISMATCH),
        (record(State.TOO_LARGE), "f", Verdict.TOO_LARGE),
        (record(State.DONE, expires=timedelta(seconds=-1)), "f", Verdict.PROCEED),  # expired: checked on read
        (record(State.DONE, expires=timedelta(seconds=-1)), "other", Verdict.PROCEED),
        (record(State.IN_PROGRESS, lease=timedelta(seconds=-1)), "f", Verdict.PROCEED),  # its holder died
    ],
)
def test_decide(found: Record, fp: str, verdict: Verdict) -> None:
    assert decide(found, fp, NOW) is verdict


async def test_claims_state_machine_on_one_store() -> None:
    store = MemoryIdempotencyStore()
    claims = Claims(store, ttl_s=3600, lease_s=30, max_response_bytes=10)
    verdict, mine = await claims.claim("r", "f", NOW)
    assert verdict is Verdict.PROCEED and mine.state is State.IN_PROGRESS
    verdict, found = await claims.claim("r", "f", NOW)  # a concurrent duplicate loses the insert
    assert verdict is Verdict.IN_PROGRESS and found.token == mine.token
    assert (await claims.claim("r", "g", NOW))[0] is Verdict.MISMATCH
    headers = [(b"content-type", b"application/json"), (b"x-request-id", b"old"), (b"location", b"/x/1")]
    await claims.settle(mine, 201, headers, b'{"id":1}')
    assert mine.settled
    verdict, found = await claims.claim("r", "f", NOW + timedelta(minutes=59))
    assert verdict is Verdict.REPLAY
    assert (found.status, found.body) == (201, b'{"id":1}')
    assert found.headers == [(b"content-type", b"application/json"), (b"location", b"/x/1")]
    # after the ttl the key is free again
    verdict, again = await claims.claim("r", "g", NOW + timedelta(minutes=61))
    assert verdict is Verdict.PROCEED and again.token != mine.token


async def test_a_5xx_releases_the_claim_and_a_large_answer_is_marked() -> None:
    claims = Claims(MemoryIdempotencyStore(), ttl_s=3600, lease_s=30, max_response_bytes=10)
    _, first = await claims.claim("r", "f", NOW)
    await claims.settle(first, 503, [], b"busy")
    verdict, second = await claims.claim("r", "f", NOW)
    assert verdict is Verdict.PROCEED  # the retry goes through
    await claims.settle(second, 200, [], b"x" * 11)
    verdict, found = await claims.claim("r", "f", NOW)
    assert verdict is Verdict.TOO_LARGE and found.status == 200 and found.body == b""
    _, streamed = await claims.claim("s", "f", NOW)
    await claims.settle(streamed, 200, [], None)
    assert (await claims.claim("s", "f", NOW))[0] is Verdict.TOO_LARGE


async def test_a_dead_holder_is_taken_over_and_cannot_overwrite_afterwards() -> None:
    claims = Claims(MemoryIdempotencyStore(), ttl_s=3600, lease_s=30)
    _, dead = await claims.claim("r", "f", NOW)
    verdict, taker = await claims.claim("r", "f", NOW + timedelta(seconds=31))
    assert verdict is Verdict.PROCEED and taker.token != dead.token
    await claims.settle(dead, 200, [], b"late")  # the old holder's answer is not kept over the new claim
    await claims.release(dead)
    verdict, found = await claims.claim("r", "f", NOW + timedelta(seconds=32))
    assert verdict is Verdict.IN_PROGRESS and found.token == taker.token


def test_replayed_headers_leave_out_framing_and_request_id() -> None:
    kept = storable_headers(
        [(b"content-type", b"a"), (b"content-length", b"3"), (b"x-request-id", b"r"), (b"date", b"d"), (b"etag", b"e")]
    )
    assert kept == [(b"content-type", b"a"), (b"etag", b"e")]


async def test_the_memory_table_is_bounded() -> None:
    # Claimed now: the store cleans up by the wall clock when full, so records claimed at the fixed
    # NOW (past) would all have expired by the time this runs (see the test below).
    store = MemoryIdempotencyStore(max_records=3)
    claims = Claims(store)
    for n in range(5):
        assert (await claims.claim(f"r{n}", "f", datetime.now(UTC)))[0] is Verdict.PROCEED
    assert list(store.records) == ["r2", "r3", "r4"]


async def test_a_full_memory_table_drops_expired_records_before_live_ones() -> None:
    store = MemoryIdempotencyStore(max_records=3)
    claims = Claims(store)
    for n in range(3):  # expired long ago
        assert (await claims.claim(f"old{n}", "f", datetime.now(UTC) - timedelta(days=30)))[0] is Verdict.PROCEED
    assert (await claims.claim("live", "f", datetime.now(UTC)))[0] is Verdict.PROCEED
    assert list(store.records) == ["live"]
