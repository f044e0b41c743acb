"""TokenBucketRateLimiter: exact grant times on a fake clock, FIFO order, cancellation."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

from aita_cli.execution.rate_limiter import RateLimitCancelled, TokenBucketRateLimiter


class FakeClock:
    """A clock whose sleep advances it, so waiting costs no real time."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def grant_times(limiter: TokenBucketRateLimiter, clock: FakeClock, count: int) -> list[float]:
    """The moment each of `count` back-to-back acquisitions was granted."""
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(clock())
    return times


@pytest.mark.parametrize(("rate", "count"), [(0.2, 50), (10.0, 2_000), (200.0, 10_000)])
def test_grants_are_spaced_exactly_one_interval_apart(rate: float, count: int) -> None:
    clock = FakeClock(start=1000.0)
    limiter = TokenBucketRateLimiter(rate, clock=clock, sleep=clock.sleep)
    times = grant_times(limiter, clock, count)
    for index, granted in enumerate(times):
        assert granted == pytest.approx(1000.0 + index / rate, abs=1e-9)
    # The long-run rate is exact: no drift after many grants.
    assert (count - 1) / (times[-1] - times[0]) == pytest.approx(rate, rel=1e-12)


def test_point_two_per_second_is_one_grant_every_five_seconds() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0.2, clock=clock, sleep=clock.sleep)
    assert grant_times(limiter, clock, 4) == [0.0, 5.0, 10.0, 15.0]


def test_acquire_returns_the_seconds_waited() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(2.0, clock=clock, sleep=clock.sleep)
    assert limiter.acquire() == 0.0
    clock.advance(0.2)
    assert limiter.acquire() == pytest.approx(0.3)


def test_burst_grants_at_once_after_idle_then_paces() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(1.0, burst=3, clock=clock, sleep=clock.sleep)
    assert grant_times(limiter, clock, 5) == pytest.approx([0.0, 0.0, 0.0, 1.0, 2.0])
    clock.advance(10.0)  # idle: the bucket refills, but never beyond the burst
    assert grant_times(limiter, clock, 4) == pytest.approx([12.0, 12.0, 12.0, 13.0])


def test_idle_time_does_not_bank_more_than_one_token_by_default() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.advance(100.0)
    assert grant_times(limiter, clock, 3) == [100.0, 101.0, 102.0]


def test_unlimited_never_waits() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0, clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(1000)] == [0.0] * 1000
    assert clock() == 0.0
    assert limiter.rate == 0


def test_an_infinite_rate_is_unlimited() -> None:
    # AITA_RATE_LIMIT_RPS=inf parses as a float; it must mean "no limit", not a crash.
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(float("inf"), clock=clock, sleep=clock.sleep)
    assert [limiter.acquire() for _ in range(100)] == [0.0] * 100
    assert limiter.rate == 0
    with pytest.raises(ValueError, match="nan"):
        TokenBucketRateLimiter(float("nan"))


def test_burst_below_one_is_rejected() -> None:
    with pytest.raises(ValueError, match="burst"):
        TokenBucketRateLimiter(1.0, burst=0.5)


def test_threads_are_granted_in_arrival_order() -> None:
    # The clock is read exactly once per reservation, under the limiter's lock, so a
    # clock that notes the calling thread records the order and moment of arrival.
    arrivals: list[tuple[str, float]] = []

    def noting_clock() -> float:
        now = time.monotonic()
        arrivals.append((threading.current_thread().name, now))
        return now

    limiter = TokenBucketRateLimiter(200.0, clock=noting_clock)
    waited: dict[str, float] = {}
    start = threading.Barrier(8)

    def caller() -> None:
        start.wait()
        waited[threading.current_thread().name] = limiter.acquire()

    threads = [threading.Thread(target=caller, name=f"caller-{n}") for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5)
    assert len(waited) == 8
    # First come, first served: grant times rise in order of arrival, at least 1/rate apart.
    granted = [now + waited[name] for name, now in arrivals]
    gaps = [later - earlier for earlier, later in itertools.pairwise(granted)]
    assert all(gap >= 0.005 - 1e-9 for gap in gaps)


def test_waiting_counts_blocked_callers() -> None:
    limiter = TokenBucketRateLimiter(0.1)  # the second caller waits 10 s unless stopped
    limiter.acquire()
    stop = threading.Event()
    errors: list[BaseException] = []

    def blocked() -> None:
        try:
            limiter.acquire(stop)
        except RateLimitCancelled as exc:
            errors.append(exc)

    thread = threading.Thread(target=blocked)
    thread.start()
    deadline = time.monotonic() + 5.0
    while limiter.waiting() == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert limiter.waiting() == 1
    stop.set()
    thread.join(timeout=1)
    assert not thread.is_alive()
    assert len(errors) == 1
    assert limiter.waiting() == 0


def test_cancelled_reservation_is_given_back() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(1.0, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # granted at 0; the next slot is 1.0
    stop = threading.Event()
    stop.set()
    with pytest.raises(RateLimitCancelled):
        limiter.acquire(stop)
    # The slot at 1.0 was returned, so the next caller gets it, not 2.0.
    limiter.acquire()
    assert clock() == 1.0


def test_cancelled_reservation_behind_a_later_one_is_not_reused() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0.1, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # slot 0
    stop = threading.Event()
    cancelled: list[RateLimitCancelled] = []

    def early_caller() -> None:  # books slot 1 (10 s away in real time), then is stopped
        try:
            limiter.acquire(stop)
        except RateLimitCancelled as exc:
            cancelled.append(exc)

    thread = threading.Thread(target=early_caller)
    thread.start()
    deadline = time.monotonic() + 5.0
    while limiter.waiting() == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert limiter.acquire() == 20.0  # slot 2, booked behind the early caller
    stop.set()
    thread.join(timeout=1)
    assert len(cancelled) == 1
    # Slot 1 cannot be handed back without moving slot 2, so the schedule continues.
    assert limiter.acquire() == 10.0
    assert clock() == 30.0


def test_stop_is_ignored_when_the_grant_is_immediate() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(1.0, clock=clock, sleep=clock.sleep)
    stop = threading.Event()
    stop.set()
    assert limiter.acquire(stop) == 0.0


def test_pause_holds_every_caller_then_restarts_at_the_steady_rate() -> None:
    # A burst of 4 would let four callers through at once after an idle spell; after a
    # provider's 429 they must instead resume one interval apart from the deadline.
    clock = FakeClock(start=100.0)
    limiter = TokenBucketRateLimiter(10.0, burst=4, clock=clock, sleep=clock.sleep)
    limiter.pause_until(102.0)
    assert grant_times(limiter, clock, 4) == pytest.approx([102.0, 102.1, 102.2, 102.3])


def test_pause_applies_to_an_unlimited_limiter_and_never_shortens() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0.0, clock=clock, sleep=clock.sleep)
    limiter.pause_until(3.0)
    limiter.pause_until(1.0)  # an earlier deadline does not cut the pause short
    assert limiter.acquire() == pytest.approx(3.0)
    assert limiter.acquire() == 0.0


def test_throttle_without_a_measure_halves_the_pace_then_climbs_back_to_the_exact_rate() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.throttle(granted_at=clock())  # no replies measured and no Retry-After: halve
    assert limiter.current_rate() == pytest.approx(5.0)
    assert grant_times(limiter, clock, 3) == pytest.approx([0.0, 0.2, 0.4])
    clock.advance(5.0 - clock())
    assert limiter.current_rate() == pytest.approx(5.25)  # +1% of the cut rate per second
    clock.advance(100.0)
    assert limiter.current_rate() == 10.0  # recovered: the exact schedule again
    start = clock()
    assert grant_times(limiter, clock, 3) == pytest.approx([start, start + 0.1, start + 0.2])


def test_refusals_of_requests_sent_before_a_cut_or_just_after_it_do_not_cut_again() -> None:
    clock = FakeClock(start=10.0)
    limiter = TokenBucketRateLimiter(8.0, clock=clock, sleep=clock.sleep)
    limiter.throttle(granted_at=10.0)
    limiter.throttle(granted_at=9.9)  # in flight before the cut
    clock.advance(0.5)
    limiter.throttle(granted_at=10.4)  # within a second: the provider's window is still full
    assert limiter.current_rate() == pytest.approx(4.0 * 1.005)
    clock.advance(0.5)
    limiter.throttle(granted_at=11.0)
    assert limiter.current_rate() == pytest.approx(4.0 * 1.01 / 2)


def test_throttling_an_unlimited_limiter_starts_from_the_rate_it_granted() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(20):
        limiter.acquire()
    clock.advance(2.0)
    limiter.throttle(granted_at=clock())
    assert limiter.current_rate() == pytest.approx(5.0)  # 20 grants in 2 s, halved
    start = clock()
    assert grant_times(limiter, clock, 2) == pytest.approx([start, start + 0.2])


def test_a_caller_already_sleeping_books_again_after_a_later_pause() -> None:
    # The second caller booked 0.1 s ahead; while it sleeps a 429 pauses everyone until
    # 3.0: it must not go at 0.1 (into the provider's refusal) but at 3.0.
    clock = FakeClock()
    limiter: TokenBucketRateLimiter

    def sleep(seconds: float) -> None:
        limiter.pause_until(3.0)
        clock.sleep(seconds)

    limiter = TokenBucketRateLimiter(10.0, clock=clock, sleep=sleep)
    assert limiter.acquire() == 0.0
    assert limiter.acquire() == pytest.approx(3.0)
    assert clock() == pytest.approx(3.0)


def test_a_refused_first_request_after_a_pause_doubles_the_next_pause() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.throttle(granted_at=0.0, retry_after=0.2)
    limiter.acquire()
    assert clock() == pytest.approx(0.2)
    limiter.throttle(granted_at=clock(), retry_after=0.2)  # the hint was too short
    limiter.acquire()
    assert clock() == pytest.approx(0.6)


def test_a_refusal_before_any_reply_paces_by_its_retry_after() -> None:
    # Nothing measured yet (a refused first burst): a bucket that has just refused asks
    # for about the time one request refills, so the pace starts 10% under 1 / 0.2 s.
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.throttle(granted_at=0.0, retry_after=0.2)
    assert limiter.current_rate() == pytest.approx(4.5)
    assert limiter.acquire() == pytest.approx(0.2)


def test_the_pace_is_cut_under_the_rate_the_provider_accepted() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(20):  # 20 replies in 2 s: the provider takes 10 a second
        limiter.acquire()
        limiter.note_accepted()
        clock.advance(0.1)
    limiter.throttle(granted_at=clock(), retry_after=0.01)
    assert limiter.current_rate() == pytest.approx(0.9 * 10)


def test_a_providers_headers_cap_the_pace_while_they_hold() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(0, clock=clock, sleep=clock.sleep)
    limiter.obey(5.0, holds_for=2.0)  # little left: it refills 5 a second
    assert limiter.current_rate() == pytest.approx(5.0)
    start = clock()
    assert grant_times(limiter, clock, 3) == pytest.approx([start, start + 0.2, start + 0.4])
    clock.advance(2.0)
    assert limiter.current_rate() == 0  # the hint has passed: unlimited again


def test_a_looser_hint_never_replaces_a_tighter_one_that_still_holds() -> None:
    clock = FakeClock()
    limiter = TokenBucketRateLimiter(10.0, clock=clock, sleep=clock.sleep)
    limiter.obey(1.0, holds_for=5.0)  # requests: 1 a second
    limiter.obey(3.0, holds_for=2.0)  # tokens allow 3 a second
    assert limiter.current_rate() == pytest.approx(1.0)
    clock.advance(5.0)
    assert limiter.current_rate() == pytest.approx(10.0)
