"""Retry-After parsing from a provider's response headers."""

from __future__ import annotations

import pytest

from aita_cli.llm.retry_after import parse_retry_after

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "250.5"}, 0.2505),
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"Retry-After": "Tue, 14 Nov 2023 22:13:30 GMT"}, 10.0),
        ({"retry-after": "Tue, 14 Nov 2023 22:13:30 -0000"}, 10.0),
        ({"X-RateLimit-Reset": str(int((NOW + 4) * 1000))}, 4.0),  # OpenRouter: epoch ms
        ({"x-ratelimit-reset": str(int(NOW + 9))}, 9.0),  # epoch seconds
        ({"x-ratelimit-reset": "3"}, 3.0),  # a plain delay
        ({"x-ratelimit-reset": str(int((NOW - 5) * 1000))}, 0.0),  # already past
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after-ms": "2000", "retry-after": "9"}, 2.0),  # ms wins
        ({"retry-after": "9", "x-ratelimit-reset": "3"}, 9.0),
        ({"retry-after": "soon", "x-ratelimit-reset": "3"}, 3.0),  # unreadable, fall through
        ({"retry-after": "nan"}, None),
        ({"content-type": "application/json"}, None),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    result = parse_retry_after(headers, now=NOW)
    if expected is None:
        assert result is None
    else:
        assert result == pytest.approx(expected, abs=1e-6)
