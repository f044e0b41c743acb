"""Adaptive concurrency: how many requests may be in flight to one endpoint and model.

Some providers limit the requests in flight rather than the requests per second. They
refuse the one too many with a 429 that cannot say when a slot will free (no
Retry-After), or, at OpenRouter, with a 402 `in_flight_budget_exhausted`. aita learns
such a limit the way TCP learns a path's capacity: a refusal cuts the limit to a
fraction of what was in flight when the refused request left (multiplicative decrease),
and a long run of clean replies lets it grow by one (additive increase), between a
ceiling of `--workers` and a floor of 1. A 429 *with* Retry-After speaks of a rate
(requests or tokens per period): the shared rate limiter answers it by pausing and
slowing down (`rate_limiter.throttle`), so it does not cut concurrency too.

One `ConcurrencyLimit` per model (an executor talks to one endpoint), shared by every
worker of the command, so all batches of a run learn together.
"""

from __future__ import annotations

import math
import threading
from typing import Literal

from aita_cli.errors import RateLimitError, ResponseValidationError

__all__ = ["AdmissionControl", "ConcurrencyLimit", "Signal", "signal_of"]

# A refused request was the one too many: 0.9 of what was in flight when it left lands
# at or just below the provider's limit (7 in flight refused: 6), instead of halving
# towards a limit far below it.
_DECREASE = 0.9
# A probe above a limit costs one refusal. Growing by one only after 16 full rounds of
# clean replies keeps probes to about one request in 16 x the limit (1% at 6 in flight),
# and a limit with room to grow still gains one every 16 rounds.
_ROUNDS_PER_INCREASE = 16
# Refusals of requests sent within a learnt limit that it takes, in one round, to cut it.
_STRIKES_AT_LIMIT = 2
_WAIT_STEP_S = 0.1  # how often a waiting worker checks its stop event


Signal = Literal["ok", "refused", "neutral"]
"""How a sent request ended, for admission."""


def signal_of(error: BaseException | None) -> Signal:
    """What a call's outcome says about concurrency: a reply (even one the task then
    rejects) is "ok"; a refusal without Retry-After, or OpenRouter's in-flight 402, is
    "refused"; anything else says nothing about how many calls may run ("neutral")."""
    if error is None or isinstance(error, ResponseValidationError):
        return "ok"
    if isinstance(error, RateLimitError) and (
        error.retry_after is None or error.status_code == 402
    ):
        return "refused"
    return "neutral"


class ConcurrencyLimit:
    """An adaptive bound on the requests in flight; thread-safe."""

    def __init__(self, ceiling: int, *, adaptive: bool = True) -> None:
        self._ceiling = max(1, ceiling)
        self._adaptive = adaptive  # False: always the ceiling (the benchmark's baseline)
        self._limit = float(self._ceiling)
        self._in_flight = 0
        self._clean = 0  # clean replies since the last change
        self._strikes = 0  # refusals within the limit since the last clean round
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        """How many requests may be in flight now."""
        return max(1, math.floor(self._limit))

    @property
    def ceiling(self) -> int:
        return self._ceiling

    def acquire(self, stop: threading.Event) -> int | None:
        """Wait for a slot; return how many are in flight with this one, or None when
        `stop` was set first."""
        with self._cond:
            while self._in_flight >= self.limit:
                if stop.is_set():
                    return None
                self._cond.wait(_WAIT_STEP_S)
            if stop.is_set():
                return None
            self._in_flight += 1
            return self._in_flight

    def release(self, signal: Signal, sent_with: int) -> None:
        """Free a slot taken by `acquire` (which returned `sent_with`) and learn from how
        the request ended."""
        with self._cond:
            self._in_flight -= 1
            before = self.limit
            if self._adaptive:
                self._learn(signal, sent_with)
            # One waiter per slot that opened, not all of them: sixteen workers woken
            # to find one slot cost every call a round of thread switches.
            self._cond.notify(1 + max(0, self.limit - before))

    def _learn(self, signal: Signal, sent_with: int) -> None:
        if signal == "refused":
            self._refused(sent_with)
        elif signal == "ok":
            self._clean += 1
            if self._clean >= self.limit:
                self._strikes = 0  # a clean round: an earlier refusal was a fluke
            if self._limit < self._ceiling and self._clean >= _ROUNDS_PER_INCREASE * self.limit:
                self._limit = min(float(self._ceiling), math.floor(self._limit) + 1.0)
                self._clean = 0

    def _refused(self, sent_with: int) -> None:
        # A request sent within a learnt limit may be refused by a race (the provider
        # had not yet counted calls that had just ended): it takes two in one round to
        # cut a limit the provider has been taking. A probe above the limit cuts at
        # once, and so does the first refusal ever (at the ceiling: nothing learnt yet).
        if sent_with <= self.limit < self._ceiling:
            self._strikes += 1
            if self._strikes < _STRIKES_AT_LIMIT:
                return
        lowered = max(1.0, _DECREASE * sent_with)
        self._limit = min(self._limit, lowered)
        self._clean = self._strikes = 0


class AdmissionControl:
    """The concurrency limits of one executor, one per model; thread-safe."""

    def __init__(self, ceiling: int, *, adaptive: bool = True) -> None:
        self._ceiling = ceiling
        self._adaptive = adaptive
        self._limits: dict[str, ConcurrencyLimit] = {}
        self._lock = threading.Lock()

    @property
    def adaptive(self) -> bool:
        """Whether limits are learnt (False: always the ceiling)."""
        return self._adaptive

    def for_model(self, model: str) -> ConcurrencyLimit:
        with self._lock:
            found = self._limits.get(model)
            if found is None:
                found = self._limits[model] = ConcurrencyLimit(
                    self._ceiling, adaptive=self._adaptive
                )
            return found

    def lowest_limit(self) -> int | None:
        """The tightest limit learnt so far, when any is below the ceiling (progress
        shows it)."""
        with self._lock:
            limits = [limit.limit for limit in self._limits.values()]
        lowest = min(limits, default=self._ceiling)
        return lowest if lowest < self._ceiling else None
