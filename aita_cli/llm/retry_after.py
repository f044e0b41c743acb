"""Reading how long a provider asked us to wait, from its HTTP response headers.

This belongs to the HTTP side: the client reads the headers once, and the error it
raises carries the result as `retry_after` seconds, which the executor's retry policy
honours (capped). Nothing above the client sees a header.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["parse_retry_after", "seconds_until_reset"]

# x-ratelimit-reset values above these are absolute epoch times, not delays.
_EPOCH_MS_THRESHOLD = 1e11
_EPOCH_S_THRESHOLD = 1e8


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the provider asked us to wait, from its response headers, or None.

    Reads, in this order and case-insensitively: ``retry-after-ms`` (milliseconds),
    ``retry-after`` (seconds or an HTTP date) and ``x-ratelimit-reset`` (an epoch time
    in milliseconds, as OpenRouter sends it, or in seconds; a small number is taken as
    a delay in seconds). `now` is the current epoch time (default: `time.time()`).
    The result is never negative.
    """
    lowered = {key.lower(): value.strip() for key, value in headers.items()}
    current = time.time() if now is None else now
    milliseconds = _parse_number(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return max(milliseconds / 1000.0, 0.0)
    retry_after = lowered.get("retry-after")
    if retry_after:
        seconds = _parse_number(retry_after)
        if seconds is None:
            seconds = _parse_http_date(retry_after, current)
        if seconds is not None:
            return max(seconds, 0.0)
    return seconds_until_reset(lowered.get("x-ratelimit-reset"), current)


def _parse_number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _parse_http_date(text: str, now: float) -> float | None:
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": RFC 9110 dates are GMT anyway
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp() - now


def seconds_until_reset(text: str | None, now: float) -> float | None:
    """An `x-ratelimit-reset` value as seconds from `now`: an epoch time in milliseconds
    (OpenRouter) or seconds, or a small number taken as a delay; never negative."""
    value = _parse_number(text)
    if value is None:
        return None
    if value > _EPOCH_MS_THRESHOLD:
        return max(value / 1000.0 - now, 0.0)
    if value > _EPOCH_S_THRESHOLD:
        return max(value - now, 0.0)
    return max(value, 0.0)
