"""Which failures deserve another attempt, and how long to wait before it.

Retry only what can succeed next time (the error class says so through its `retryable`
attribute: 408/409/429/5xx, timeouts, connection errors, malformed replies, and the
task's own validation failures), never a rejected key or a wrong request. The wait is
the provider's own hint when it gave one (capped, so a hostile or broken header cannot
park a worker for an hour), otherwise capped exponential backoff with full jitter, which
spreads retries of many workers apart instead of synchronising them. Reading that hint
from HTTP headers is the HTTP client's job (`aita_cli.llm.retry_after`); it arrives here
as the error's `retry_after`.
"""

from __future__ import annotations

import math
import random

from aita_cli.errors import AitaError

__all__ = ["RetryPolicy"]


class RetryPolicy:
    """Decides whether a failed attempt is retried and how long to back off first.

    The one owner of the retry cap: `max_retries` retries after the first attempt, for
    every kind of retry (a provider error, a re-ask after a bad reply, a member asked
    again on its own after it went missing from a combined reply).
    """

    def __init__(
        self,
        max_retries: int = 3,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        max_retry_after: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {max_retries}")
        if base_delay < 0 or max_delay < 0 or max_retry_after < 0:
            raise ValueError("delays must be 0 or more")
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self._rng = rng if rng is not None else random.Random()

    def is_retryable(self, error: BaseException) -> bool:
        """True only for aita errors whose class declares ``retryable = True``."""
        return isinstance(error, AitaError) and getattr(type(error), "retryable", False) is True

    def should_retry(self, error: BaseException, retries: int) -> bool:
        """Whether to retry after `error` when `retries` retries were made already: the
        cap is not reached and the error can succeed next time."""
        return retries < self.max_retries and self.is_retryable(error)

    def backoff_delay(self, error: BaseException, retry_number: int) -> float:
        """Seconds to wait before retry number `retry_number` (1 for the first retry).

        The error's `retry_after` (set from the provider's headers) wins, capped at
        `max_retry_after`; otherwise ``uniform(0, min(max_delay, base * 2**(n-1)))``.
        """
        if retry_number < 1:
            raise ValueError(f"retry_number starts at 1, got {retry_number}")
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and math.isfinite(retry_after):
            return min(max(float(retry_after), 0.0), self.max_retry_after)
        # Cap the exponent before computing it: 2 ** 2000 would overflow a float.
        exponential = self.base_delay * 2.0 ** min(retry_number - 1, 64)
        return self._rng.uniform(0.0, min(self.max_delay, exponential))
