"""Reading the limits a provider reports in its response headers.

OpenAI (and vLLM, LiteLLM and others after it) send `x-ratelimit-remaining-requests`,
`x-ratelimit-reset-requests` and the same for `-tokens`, with resets as durations
("1s", "6m0s", "20ms"); OpenRouter sends `X-RateLimit-Remaining` and
`X-RateLimit-Reset` (epoch milliseconds). The client reads them once into a
`RateLimitHint`; the executor's rate limiter obeys it while it holds.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aita_cli.llm.retry_after import seconds_until_reset

__all__ = ["RateLimitHint", "parse_rate_limit_headers"]

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_MAX_RESET_S = 3600.0  # a longer "reset" is not a hint worth pacing to


@dataclass(frozen=True, slots=True)
class RateLimitHint:
    """What the provider says is left, and in how many seconds it is full again."""

    limit_requests: int | None = None
    remaining_requests: int | None = None
    requests_reset_s: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    tokens_reset_s: float | None = None

    def refill_rates(self) -> tuple[float | None, float | None]:
        """(requests/s, tokens/s) the provider refills at, where the headers say: what
        is missing from the limit over the time until it is full again."""
        return (
            _refill(self.limit_requests, self.remaining_requests, self.requests_reset_s),
            _refill(self.limit_tokens, self.remaining_tokens, self.tokens_reset_s),
        )


def _refill(limit: int | None, remaining: int | None, reset: float | None) -> float | None:
    if limit is None or remaining is None or not reset or reset <= 0 or remaining >= limit:
        return None
    return (limit - remaining) / reset


def parse_rate_limit_headers(
    headers: Mapping[str, str], now: float | None = None
) -> RateLimitHint | None:
    """The hint in `headers`, or None when they carry none. `now` is the epoch time."""
    lowered = {key.lower(): value.strip() for key, value in headers.items()}
    current = time.time() if now is None else now
    hint = RateLimitHint(
        limit_requests=_int(
            lowered.get("x-ratelimit-limit-requests") or lowered.get("x-ratelimit-limit")
        ),
        remaining_requests=_int(
            lowered.get("x-ratelimit-remaining-requests") or lowered.get("x-ratelimit-remaining")
        ),
        requests_reset_s=_duration(lowered.get("x-ratelimit-reset-requests"))
        or _capped(seconds_until_reset(lowered.get("x-ratelimit-reset"), current)),
        limit_tokens=_int(lowered.get("x-ratelimit-limit-tokens")),
        remaining_tokens=_int(lowered.get("x-ratelimit-remaining-tokens")),
        tokens_reset_s=_duration(lowered.get("x-ratelimit-reset-tokens")),
    )
    return None if hint == RateLimitHint() else hint


def _int(text: str | None) -> int | None:
    try:
        value = float(text) if text else math.nan
    except ValueError:
        return None
    return int(value) if math.isfinite(value) and value >= 0 else None


def _duration(text: str | None) -> float | None:
    """ "1.5s", "6m0s", "250ms", or a bare number of seconds."""
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            return None
        seconds = sum(float(number) * _UNIT_S[unit] for number, unit in parts)
    return _capped(seconds)


def _capped(seconds: float | None) -> float | None:
    return seconds if seconds is not None and 0 <= seconds <= _MAX_RESET_S else None
