"""What an attempt does around its call for the limits a provider has: reserve and settle
the tokens-per-minute budget, and obey the provider's rate-limit headers.
"""

from __future__ import annotations

import threading

from aita_cli.execution.rate_limiter import TokenBucketRateLimiter
from aita_cli.execution.token_budget import TokenBudget
from aita_cli.llm.base import LLMResponse
from aita_cli.llm.messages import LLMMessage
from aita_cli.llm.tokens import prompt_tokens
from aita_cli.usage import Usage

__all__ = ["obey_headers", "reserve_tokens", "settle_tokens"]

# The provider's headers tighten the pace once less than this share of its limit is left:
# with plenty left, a burst is fine; near empty, its refill rate is all there is.
_LOW_REMAINING = 0.2


def reserve_tokens(
    budget: TokenBudget | None, messages: list[LLMMessage], stop: threading.Event
) -> int | None:
    """Reserve the request's estimated tokens (0 without a budget); None when `stop` was
    set while waiting."""
    if budget is None:
        return 0
    estimate = prompt_tokens(messages) + budget.expected_reply_tokens()
    return estimate if budget.reserve(estimate, stop) else None


def settle_tokens(
    budget: TokenBudget | None, reserved: int, usage: Usage | None, *, counted: bool = True
) -> None:
    """Correct a reservation with what the call reported using. Without usage, a call
    the provider `counted` (a reply without usage, a timeout) keeps its estimate, and
    one it refused gives it back."""
    if budget is None:
        return
    if usage is None or usage.total_tokens <= 0:
        budget.settle(reserved, reserved if counted else None, None)
        return
    budget.settle(reserved, usage.total_tokens, usage.completion_tokens)


def obey_headers(limiter: TokenBucketRateLimiter, response: LLMResponse) -> None:
    """Pace no faster than the provider refills while its headers say little is left."""
    hint = response.rate_limit
    if hint is None:
        return
    requests_per_s, tokens_per_s = hint.refill_rates()
    if _low(hint.remaining_requests, hint.limit_requests) and requests_per_s:
        limiter.obey(requests_per_s, hint.requests_reset_s or 0.0)
    tokens = response.usage.total_tokens
    if _low(hint.remaining_tokens, hint.limit_tokens) and tokens_per_s and tokens > 0:
        limiter.obey(tokens_per_s / tokens, hint.tokens_reset_s or 0.0)


def _low(remaining: int | None, limit: int | None) -> bool:
    return remaining is not None and bool(limit) and remaining < _LOW_REMAINING * (limit or 0)
