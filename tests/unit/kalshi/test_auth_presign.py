"""Pre-signed request headers: handed out at most once, only while fresh, always later than the
ones before, and valid signatures of both key types."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kalshi_trader.kalshi.auth import (
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    PRESIGNED_MAX_AGE_MS,
    KeyType,
    Signer,
    Verifier,
    generate_private_key,
)

PATH = "/trade-api/v2/portfolio/events/orders"
START_MS = 1_791_000_000_000
KEYS = {kind: generate_private_key(kind) for kind in KeyType}


class Clock:
    def __init__(self) -> None:
        self.now = START_MS

    def __call__(self) -> int:
        return self.now


def signer(kind: KeyType = KeyType.ED25519) -> tuple[Signer, Clock, Verifier]:
    clock = Clock()
    key = KEYS[kind]
    return Signer("key-1", key, clock_ms=clock), clock, Verifier({"key-1": key.public_key()}, clock_ms=clock)


def test_prepared_headers_are_handed_out_once_then_signed_inline() -> None:
    s, clock, verifier = signer()
    s.prepare("POST", PATH)
    assert s.pending_ms("POST", PATH) == START_MS
    clock.now += 60
    first = s.headers("POST", PATH)
    assert first[HEADER_TIMESTAMP] == str(START_MS)  # the pre-signed one
    assert s.pending_ms("POST", PATH) is None
    second = s.headers("POST", PATH)
    assert second[HEADER_TIMESTAMP] == str(START_MS + 60)  # signed inline
    for h in (first, second):
        assert verifier.verify(h, "POST", PATH) == "key-1"


def test_stale_prepared_headers_are_not_used() -> None:
    s, clock, _ = signer()
    s.prepare("POST", PATH)
    clock.now += PRESIGNED_MAX_AGE_MS + 1
    assert s.headers("POST", PATH)[HEADER_TIMESTAMP] == str(clock.now)
    assert s.pending_ms("POST", PATH) is None  # dropped, never handed out later


def test_other_routes_are_signed_inline() -> None:
    s, _, _ = signer()
    s.prepare("POST", PATH)
    assert s.headers("GET", PATH)[HEADER_TIMESTAMP] == str(START_MS)
    assert s.pending_ms("POST", PATH) == START_MS
    assert not s.prepared("GET", PATH)


def test_refresh_signs_again_only_what_is_gone_or_half_stale() -> None:
    s, clock, _ = signer()
    assert s.refresh() == 0  # nothing prepared yet
    s.prepare("POST", PATH)
    clock.now += PRESIGNED_MAX_AGE_MS // 2 - 1
    assert s.refresh() == 0
    clock.now += 1
    assert s.refresh() == 1
    assert s.pending_ms("POST", PATH) == clock.now
    s.headers("POST", PATH)
    assert s.refresh() == 1


def test_a_refill_in_the_same_millisecond_gets_a_later_timestamp() -> None:
    s, _, verifier = signer()
    s.prepare("POST", PATH)
    first = s.headers("POST", PATH)
    s.prepare("POST", PATH)  # the clock has not moved
    second = s.headers("POST", PATH)
    assert int(second[HEADER_TIMESTAMP]) == int(first[HEADER_TIMESTAMP]) + 1
    assert second[HEADER_SIGNATURE] != first[HEADER_SIGNATURE]
    verifier.verify(second, "POST", PATH)


def test_rsa_prepared_headers_verify() -> None:
    s, clock, verifier = signer(KeyType.RSA)
    s.prepare("POST", PATH)
    clock.now += 99
    h = s.headers("POST", PATH)
    assert h[HEADER_TIMESTAMP] == str(START_MS)
    assert verifier.verify(h, "POST", PATH) == "key-1"


OPS = st.lists(
    st.one_of(
        st.tuples(st.just("prepare"), st.just(0)),
        st.tuples(st.just("headers"), st.just(0)),
        st.tuples(st.just("refresh"), st.just(0)),
        st.tuples(st.just("tick"), st.integers(0, 2 * PRESIGNED_MAX_AGE_MS)),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(OPS)
def test_no_headers_are_ever_handed_out_twice_or_stale(ops: list[tuple[str, int]]) -> None:
    s, clock, verifier = signer()
    s.prepare("POST", PATH)  # the route is pre-signed (inline signing alone repeats within a millisecond)
    handed: list[tuple[str, str]] = []
    for op, ms in ops:
        if op == "prepare":
            s.prepare("POST", PATH)
        elif op == "refresh":
            s.refresh()
        elif op == "tick":
            clock.now += ms
        else:
            h = s.headers("POST", PATH)
            assert abs(clock.now - int(h[HEADER_TIMESTAMP])) <= PRESIGNED_MAX_AGE_MS
            verifier.verify(h, "POST", PATH)
            handed.append((h[HEADER_TIMESTAMP], h[HEADER_SIGNATURE]))
    assert len(set(handed)) == len(handed)
    stamps = [int(ts) for ts, _ in handed]
    assert stamps == sorted(set(stamps))  # each later than the one before


def test_preparing_again_without_a_request_does_not_run_ahead_of_the_clock() -> None:
    s, _, _ = signer()
    for _ in range(5):
        s.prepare("POST", PATH)
    assert s.pending_ms("POST", PATH) == START_MS
    s.headers("POST", PATH)
    s.prepare("POST", PATH)
    assert s.pending_ms("POST", PATH) == START_MS + 1
