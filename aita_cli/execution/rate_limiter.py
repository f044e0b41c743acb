"""A thread-safe, first-come-first-served token bucket that backs off when refused.

Every model request, retries included, passes one shared limiter. Callers do not poll:
under a lock each caller *reserves* its grant time from the bucket (the generic cell rate
algorithm, which is a token bucket written in terms of time), then sleeps outside the
lock until that time. Reservations are handed out in arrival order, so the order of
grants is the order of arrival and nobody can starve.

Grant times are computed as ``anchor + n / rate`` rather than by adding ``1 / rate``
again and again, so they stay exact over any number of grants (``0.1`` is not exact in
binary; ten thousand additions of it drift, one multiplication does not).

When the provider refuses a request (a 429 with Retry-After), its limit is lower than
ours: `throttle` sets the pace just below the rate the provider has been accepting
(`note_accepted` counts its replies; at most one cut a second, and requests sent before
a cut do not cut it again), then lets it climb back slowly, so a run settles just under
the provider's real limit instead of walking into a 429 after every pause. With too few
replies yet to measure (a refused first burst), the Retry-After itself is the estimate:
a bucket that has just refused asks for about the time one request takes to refill.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["RateLimitCancelled", "TokenBucketRateLimiter"]

# After a cut, the pace regains this fraction of the cut rate per second: from 0.9 of a
# limit back to the limit takes about 11 s, so probing above it costs a refusal or two
# every ten seconds or so, not every second (at 10%, 7% of requests were refused).
_RECOVERY_PER_S = 0.01
# A cut sets the pace to this share of the rate the provider was accepting: 10% below
# what it just allowed, so the next probe is seconds away, not the next request.
_CUT_TO_ACCEPTED = 0.9
# The accepted rate is measured over the replies of this many seconds, once there are
# at least _MIN_ACCEPTED of them (fewer say little about a pace).
_ACCEPTED_WINDOW_S = 2.0
_MIN_ACCEPTED = 8
_MIN_HINT_S = 0.05
# Never throttle below one request per 20 s: a provider that keeps refusing is left to
# the retry budget, not to an ever slower limiter.
_MIN_THROTTLED_RATE = 0.05
# At most one cut per this many seconds: refusals right after a cut mostly mean that the
# provider's window has not cleared yet, not that the new pace is still too fast.
_CUT_COOLDOWN_S = 1.0
_MAX_PAUSE_S = 60.0
_MIN_OBSERVATION_S = 0.25
# A request granted this soon after a pause ended is its probe: when the probe is refused
# again, the provider's Retry-After was too short.
_PROBE_WINDOW_S = 0.05
_MAX_PAUSE_DOUBLINGS = 4


class RateLimitCancelled(Exception):
    """`acquire` was stopped (its stop event was set) before the grant.

    Internal control flow for the executor, deliberately not an `AitaError`.
    """


class TokenBucketRateLimiter:
    """Grants at most `rate` acquisitions per second, with bursts of up to `burst`.

    `rate <= 0` (or infinite) means unlimited. `burst` (default 1) is how many grants may
    be handed out at once after the limiter has been idle; with the default the spacing
    between grants is exactly ``1 / rate`` seconds, so any positive rate, 0.2/s included,
    is exact.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        adaptive: bool = True,
    ) -> None:
        if burst is not None and burst < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        if math.isnan(rate):
            raise ValueError("rate must be a number, got nan")
        self._rate = float(rate) if math.isfinite(rate) else 0.0  # infinite: unlimited
        self._burst = float(burst) if burst is not None else 1.0
        self._clock = clock
        self._sleep = sleep
        self._adaptive = adaptive  # False: a 429 only pauses (the benchmark's baseline)
        self._lock = threading.Lock()
        # The theoretical arrival time of the next request is anchor + count / pace.
        self._anchor = 0.0
        self._count = 0
        self._pace = self._rate  # the rate the current schedule runs at
        self._epoch = 0  # bumped when the schedule restarts, so a stale give-back is a no-op
        self._waiting = 0
        self._hold_until = float("-inf")  # nothing is granted before this (a provider's 429)
        self._cut_rate: float | None = None  # the throttled rate after a 429, if any
        self._cut_at = float("-inf")
        self._cut_pause_end = float("-inf")  # when the pause after the last cut ended
        self._pause_streak = 0  # refusals in a row of the first request after a pause
        self._booked = 0  # for the observed rate of an unlimited limiter
        self._first_booking: float | None = None
        self._accepted: deque[float] = deque()  # when recent replies came back
        self._cap = math.inf  # a pace the provider's headers imposed, until _cap_until
        self._cap_until = -math.inf

    @property
    def rate(self) -> float:
        """Grants per second; 0 or less means unlimited."""
        return self._rate

    @property
    def burst(self) -> float:
        """How many grants may be handed out at once after an idle period."""
        return self._burst

    def current_rate(self) -> float:
        """The pace allowed right now: `rate`, or less while throttled after a 429."""
        with self._lock:
            return self._rate_at(self._clock())

    def waiting(self) -> int:
        """How many callers are blocked in `acquire` right now."""
        return self._waiting

    def acquire(self, stop: threading.Event | None = None) -> float:
        """Block until this caller's turn; return the seconds it waited.

        With `stop`, the wait is ``stop.wait(timeout)``; if the event is set before the
        grant, the reservation is returned when no later caller holds one, and
        `RateLimitCancelled` is raised. A reservation that a later `pause_until` falls
        over is booked again after the pause.
        """
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                grant, index = self._book(now)
                epoch = self._epoch
                delay = grant - now
                if delay <= 0:
                    return waited
                self._waiting += 1
            try:
                self._wait(delay, stop, epoch, index)
            finally:
                with self._lock:
                    self._waiting -= 1
                    paused_since = self._hold_until > grant
            waited += delay
            if not paused_since:
                return waited

    def _wait(self, delay: float, stop: threading.Event | None, epoch: int, index: int) -> None:
        if stop is None:
            self._sleep(delay)
        elif stop.wait(delay):
            self._give_back(epoch, index)
            raise RateLimitCancelled("stopped while waiting for the rate limiter")

    def _book(self, now: float) -> tuple[float, int]:
        """Book the next grant (not before a pause); return its time and schedule index."""
        start = max(now, self._hold_until)
        self._booked += 1
        if self._first_booking is None:
            self._first_booking = now
        rate = self._rate_at(now)
        if rate <= 0:
            return start, 0
        if rate != self._pace:
            self._rebase(rate)
        return self._reserve(start)

    def obey(self, refill_per_s: float | None, holds_for: float) -> None:
        """The provider's headers say it refills at `refill_per_s` requests a second and
        little is left: pace no faster than that for `holds_for` seconds."""
        if refill_per_s is None or refill_per_s <= 0 or holds_for <= 0:
            return
        with self._lock:
            now = self._clock()
            cap = max(refill_per_s, _MIN_THROTTLED_RATE)
            if now < self._cap_until:  # an earlier hint still holds: the tighter one wins
                cap = min(cap, self._cap)
            self._cap = cap
            self._cap_until = max(self._cap_until, now + holds_for)

    def _rate_at(self, now: float) -> float:
        """The pace now: the provider's cap from its headers while it holds, else the
        configured rate or the throttled one while it climbs back."""
        rate = self._unheaded_rate_at(now)
        if now < self._cap_until:
            return min(rate, self._cap) if rate > 0 else self._cap
        return rate

    def _unheaded_rate_at(self, now: float) -> float:
        """The configured rate, or the throttled one while it climbs back."""
        if self._cut_rate is None:
            return self._rate
        recovered = self._cut_rate * (1.0 + max(now - self._cut_at, 0.0) * _RECOVERY_PER_S)
        if 0 < self._rate <= recovered:
            self._cut_rate = None  # fully recovered: back to the exact configured schedule
            return self._rate
        return recovered

    def _rebase(self, rate: float) -> None:
        """Continue the schedule from its next arrival time at a new pace."""
        if self._pace > 0:
            self._anchor += self._count / self._pace
        self._count = 0
        self._pace = rate
        self._epoch += 1

    def _tolerance(self) -> float:
        # No bursts while throttled: the provider has just said we were too fast.
        if self._cut_rate is not None or self._pace <= 0:
            return 0.0
        return (self._burst - 1.0) / self._pace

    def _reserve(self, now: float) -> tuple[float, int]:
        """Book the next grant; return its time and its index in the current schedule."""
        due = self._anchor + self._count / self._pace  # theoretical arrival time (TAT)
        if due <= now:
            # Idle: the bucket refilled, the schedule restarts from now.
            self._anchor, self._count = now, 1
            self._epoch += 1
            return now, 0
        # Up to burst - 1 intervals ahead of the schedule may be granted at once.
        index = self._count
        self._count += 1
        return max(now, due - self._tolerance()), index

    def pause_until(self, deadline: float) -> None:
        """Grant nothing before `deadline` (on this limiter's clock), for every caller.

        A provider's 429 with Retry-After speaks for the whole account, not one request:
        holding every worker, and restarting at the steady rate with no burst, keeps the
        retries from arriving together and being refused together. Callers already
        sleeping towards an earlier grant book again after the deadline.
        """
        with self._lock:
            if deadline <= self._hold_until:
                return
            self._hold_until = deadline
            if self._pace > 0:
                tolerance = self._tolerance()
                if self._anchor + self._count / self._pace < deadline + tolerance:
                    self._anchor, self._count = deadline + tolerance, 0
                    self._epoch += 1

    def throttle(self, granted_at: float, retry_after: float | None = None) -> None:
        """The provider refused a request granted at `granted_at` (on this clock).

        Cut the pace (see the module docstring), then let it climb back. A refusal of a
        request granted before the last cut, or within a second of it while the pause
        after the cut had not yet ended, does not cut again: that cut already answered it.
        Works for an unlimited limiter too.
        With the provider's `retry_after` (seconds), every caller is held that long; when
        the first request after such a pause (its probe) is refused again, the hint was
        too short and the next pause doubles (up to 16 times, and at most a minute).
        """
        with self._lock:
            now = self._clock()
            # Refused though sent after the pause that followed the last cut: the
            # provider's window had cleared, so the new pace itself is too fast.
            fresh = granted_at >= self._cut_pause_end > self._cut_at
            cooled = now >= self._cut_at + _CUT_COOLDOWN_S
            if self._adaptive and granted_at >= self._cut_at and (fresh or cooled):
                cut = self._cut_for(now, retry_after)
                if cut is not None:
                    self._cut_rate = max(cut, _MIN_THROTTLED_RATE)
                    self._cut_at = now
                    self._cut_pause_end = now + (retry_after or 0.0)
            probe = retry_after is not None and _just_after(
                granted_at, self._hold_until, _PROBE_WINDOW_S
            )
            self._pause_streak = min(self._pause_streak + 1, _MAX_PAUSE_DOUBLINGS) if probe else 0
            streak = self._pause_streak
        if retry_after is not None:
            pause = min(max(retry_after, 0.0) * 2.0**streak, _MAX_PAUSE_S)
            self.pause_until(now + pause)

    def note_accepted(self) -> None:
        """The provider answered a request: its accepted rate is what a cut aims under."""
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            while self._accepted[0] < now - _ACCEPTED_WINDOW_S:
                self._accepted.popleft()

    def _cut_for(self, now: float, retry_after: float | None) -> float | None:
        """The pace after a refusal: under the accepted rate, or the Retry-After's."""
        current: float | None = self._rate_at(now)
        if current is not None and current <= 0:
            current = self._observed_rate(now)
        # Replies since the last cut first: before it, a provider's initial burst may
        # have let far more through than its steady rate.
        estimate = self._accepted_rate(now, since=self._cut_at) or self._accepted_rate(now)
        # A Retry-After of a few milliseconds says little about a pace: 50 ms at least.
        hinted = (
            1.0 / max(retry_after, _MIN_HINT_S)
            if retry_after is not None and retry_after > 0
            else None
        )
        if estimate is None:
            estimate = hinted
        elif hinted is not None:
            # A bucket that refused asks for the time one request refills: trust that
            # down to a quarter of the measured rate, not below (a fixed window's
            # Retry-After is the time to its reset, far longer than one request's).
            estimate = min(estimate, max(hinted, estimate / 4))
        if estimate is None:
            return current / 2.0 if current is not None else None
        target = _CUT_TO_ACCEPTED * estimate
        return min(target, current) if current is not None else target

    def _accepted_rate(self, now: float, since: float = -math.inf) -> float | None:
        start = max(now - _ACCEPTED_WINDOW_S, since)
        recent = [moment for moment in self._accepted if moment >= start]
        if len(recent) < _MIN_ACCEPTED:
            return None
        return len(recent) / max(now - recent[0], _MIN_OBSERVATION_S)

    def _observed_rate(self, now: float) -> float | None:
        """Grants per second so far (over at least 0.25 s), or None after a single one:
        one request says nothing about a pace."""
        if self._first_booking is None or self._booked < 2:
            return None
        return self._booked / max(now - self._first_booking, _MIN_OBSERVATION_S)

    def _give_back(self, epoch: int, index: int) -> None:
        """Return a cancelled reservation if no later caller has booked after it."""
        with self._lock:
            if self._epoch == epoch and self._count == index + 1:
                self._count = index


def _just_after(moment: float, pause_end: float, window: float) -> bool:
    """Whether `moment` falls in the `window` seconds after a pause ended."""
    return pause_end <= moment < pause_end + window
