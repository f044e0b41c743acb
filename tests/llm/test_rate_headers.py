"""Rate-limit headers, OpenAI's and OpenRouter's, read into one hint."""

from __future__ import annotations

import pytest

from aita_cli.llm.rate_headers import RateLimitHint, parse_rate_limit_headers

NOW = 1_700_000_000.0


def test_openai_style_headers() -> None:
    hint = parse_rate_limit_headers(
        {
            "x-ratelimit-limit-requests": "60",
            "x-ratelimit-remaining-requests": "6",
            "x-ratelimit-reset-requests": "54s",
            "x-ratelimit-limit-tokens": "150000",
            "x-ratelimit-remaining-tokens": "149000",
            "x-ratelimit-reset-tokens": "400ms",
        }
    )
    assert hint == RateLimitHint(60, 6, 54.0, 150000, 149000, 0.4)
    requests, tokens = hint.refill_rates()
    assert requests == pytest.approx(1.0)  # 54 missing, full again in 54 s
    assert tokens == pytest.approx(2500.0)


def test_openrouter_style_headers_and_durations() -> None:
    hint = parse_rate_limit_headers(
        {"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0",
         "X-RateLimit-Reset": str(int((NOW + 2.5) * 1000))},
        now=NOW,
    )  # fmt: skip
    assert hint is not None
    assert (hint.limit_requests, hint.remaining_requests) == (20, 0)
    assert hint.requests_reset_s == pytest.approx(2.5)
    assert parse_rate_limit_headers({"x-ratelimit-reset-requests": "6m0s"}) == RateLimitHint(
        requests_reset_s=360.0
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-ratelimit-remaining-requests": "lots"}, {"x-ratelimit-reset-requests": "soon"}],
)
def test_no_hint_in_headers_without_usable_values(headers: dict[str, str]) -> None:
    assert parse_rate_limit_headers(headers) is None
