"""The limits `aita simulate` enforces, as real providers do: requests per second, tokens
per minute, and requests in flight, each refused with a 429; and the OpenAI-style
`x-ratelimit-*` headers that report them.

The request and token limits are token buckets (continuous refill, like OpenAI's). The
client is never told the limits unless it reads the headers: that is what aita's
admission control is measured against.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "ARRIVAL_TOLERANCE_S",
    "TOKEN_BURST_S",
    "BucketState",
    "RequestRateLimiter",
    "TokenBucket",
    "rate_limit_headers",
]

# How early a request may arrive, against a steady pace of `rps`, without a 429.
ARRIVAL_TOLERANCE_S = 0.05
# A token bucket holds this many seconds of its rate: a client may send a burst worth a
# few seconds of tokens, not a whole minute's, so a token limit binds within seconds.
TOKEN_BURST_S = 6.0


@dataclass(frozen=True, slots=True)
class BucketState:
    """What a bucket holds now: its size, what is left, and when it is full again."""

    capacity: float
    remaining: float
    reset_s: float


class TokenBucket:
    """Refilled at `rate` units a second, holding up to `capacity`; thread-safe."""

    def __init__(
        self, rate: float, capacity: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._capacity = capacity
        self._tokens = capacity
        self._clock = clock
        self._updated = clock()
        self._lock = threading.Lock()

    def try_take(self, amount: float = 1.0) -> float | None:
        """Take `amount`: None when allowed, else the seconds until it would be. A request
        larger than the whole bucket is let through once the bucket is full."""
        with self._lock:
            self._refill()
            needed = min(amount, self._capacity)
            if self._tokens >= needed:
                self._tokens -= amount  # all of it: a request larger than the bucket owes
                return None
            return (needed - self._tokens) / self._rate

    def state(self) -> BucketState:
        with self._lock:
            self._refill()
            reset = (self._capacity - self._tokens) / self._rate
            return BucketState(self._capacity, max(self._tokens, 0.0), reset)

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self._capacity, self._tokens + elapsed * self._rate)
        self._updated = now


class RequestRateLimiter(TokenBucket):
    """A request-rate bucket refilled at `rps`, holding `burst` requests.

    The default burst is a tenth of a second's worth (at least 1), plus
    `ARRIVAL_TOLERANCE_S` of slack: tight enough that a client sending faster than `rps`
    meets 429s at once, loose enough that a client pacing itself at exactly `rps` is not
    refused because one request arrived a few milliseconds early (thread wake-ups and
    the network jitter every arrival; with a bare burst of 1, about a third of a
    perfectly paced client's requests at 3-10 req/s were refused).
    """

    def __init__(
        self, rps: float, burst: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        default_burst = max(1.0, rps / 10) + rps * ARRIVAL_TOLERANCE_S
        super().__init__(rps, burst if burst is not None else default_burst, clock)

    def try_acquire(self) -> float | None:
        """Take one request: None when allowed, else the seconds until one is available."""
        return self.try_take(1.0)


def _duration(seconds: float) -> str:
    """OpenAI's duration format: "250ms", "1.5s", "6m0s"."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.0f}s"


def rate_limit_headers(requests: BucketState | None, tokens: BucketState | None) -> dict[str, str]:
    """OpenAI-style `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers."""
    headers: dict[str, str] = {}
    for name, state in (("requests", requests), ("tokens", tokens)):
        if state is None:
            continue
        headers[f"x-ratelimit-limit-{name}"] = str(math.floor(state.capacity))
        headers[f"x-ratelimit-remaining-{name}"] = str(max(0, math.floor(state.remaining)))
        headers[f"x-ratelimit-reset-{name}"] = _duration(state.reset_s)
    return headers
