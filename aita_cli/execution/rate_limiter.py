"""A thread-safe, first-come-first-served token bucket.

Every model request, retries included, passes one shared limiter. Callers do not poll:
under a lock each caller *reserves* its grant time from the bucket (the generic cell rate
algorithm, which is a token bucket written in terms of time), then sleeps outside the
lock until that time. Reservations are handed out in arrival order, so the order of
grants is the order of arrival and nobody can starve.

Grant times are computed as ``anchor + n / rate`` rather than by adding ``1 / rate``
again and again, so they stay exact over any number of grants (``0.1`` is not exact in
binary; ten thousand additions of it drift, one multiplication does not).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimitCancelled", "TokenBucketRateLimiter"]


class RateLimitCancelled(Exception):
    """`acquire` was stopped (its stop event was set) before the grant.

    Internal control flow for the executor, deliberately not an `AitaError`.
    """


class TokenBucketRateLimiter:
    """Grants at most `rate` acquisitions per second, with bursts of up to `burst`.

    `rate <= 0` means unlimited. `burst` (default 1) is how many grants may be handed out
    at once after the limiter has been idle; with the default the spacing between grants
    is exactly ``1 / rate`` seconds, so any positive rate, 0.2/s included, is exact.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._rate = float(rate)
        self._burst = float(burst) if burst is not None else 1.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # The theoretical arrival time of the next request is anchor + count / rate.
        self._anchor = 0.0
        self._count = 0
        self._epoch = 0  # bumped when the schedule restarts, so a stale give-back is a no-op
        self._waiting = 0
        self._hold_until = float("-inf")  # nothing is granted before this (a provider's 429)

    @property
    def rate(self) -> float:
        """Grants per second; 0 or less means unlimited."""
        return self._rate

    @property
    def burst(self) -> float:
        """How many grants may be handed out at once after an idle period."""
        return self._burst

    def waiting(self) -> int:
        """How many callers are blocked in `acquire` right now."""
        return self._waiting

    def acquire(self, stop: threading.Event | None = None) -> float:
        """Block until this caller's turn; return the seconds it waited.

        With `stop`, the wait is ``stop.wait(timeout)``; if the event is set before the
        grant, the reservation is returned when no later caller holds one, and
        `RateLimitCancelled` is raised.
        """
        with self._lock:
            now = self._clock()
            start = max(now, self._hold_until)
            if self._rate <= 0:
                grant, index = start, 0
            else:
                grant, index = self._reserve(start)
            epoch = self._epoch
            delay = grant - now
            if delay <= 0:
                return 0.0
            self._waiting += 1
        try:
            if stop is None:
                self._sleep(delay)
            elif stop.wait(delay):
                self._give_back(epoch, index)
                raise RateLimitCancelled("stopped while waiting for the rate limiter")
        finally:
            with self._lock:
                self._waiting -= 1
        return delay

    def _reserve(self, now: float) -> tuple[float, int]:
        """Book the next grant; return its time and its index in the current schedule."""
        due = self._anchor + self._count / self._rate  # theoretical arrival time (TAT)
        if due <= now:
            # Idle: the bucket refilled, the schedule restarts from now.
            self._anchor, self._count = now, 1
            self._epoch += 1
            return now, 0
        # Up to burst - 1 intervals ahead of the schedule may be granted at once.
        tolerance = (self._burst - 1.0) / self._rate
        index = self._count
        self._count += 1
        return max(now, due - tolerance), index

    def pause_until(self, deadline: float) -> None:
        """Grant nothing before `deadline` (on this limiter's clock), for every caller.

        A provider's 429 with Retry-After speaks for the whole account, not one request:
        holding every worker, and restarting at the steady rate with no burst, keeps the
        retries from arriving together and being refused together.
        """
        with self._lock:
            if deadline <= self._hold_until:
                return
            self._hold_until = deadline
            if self._rate > 0:
                tolerance = (self._burst - 1.0) / self._rate
                if self._anchor + self._count / self._rate < deadline + tolerance:
                    self._anchor, self._count = deadline + tolerance, 0
                    self._epoch += 1

    def _give_back(self, epoch: int, index: int) -> None:
        """Return a cancelled reservation if no later caller has booked after it."""
        with self._lock:
            if self._epoch == epoch and self._count == index + 1:
                self._count = index
