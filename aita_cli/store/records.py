"""The rows the store keeps: ledger attempts, cached replies and cost totals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = ["STATUSES", "CachedReply", "CostTotal", "LedgerRow", "LedgerStatus"]

LedgerStatus = Literal["success", "failed", "retried", "cache_hit"]
STATUSES: Final = frozenset({"success", "failed", "retried", "cache_hit"})


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One attempt at a task, as charged.

    `status` is "success" (the reply was used), "retried" (this attempt failed and
    another followed), "failed" (the last attempt failed) or "cache_hit" (no provider
    was called). A cache hit is never counted as spent: it may carry the original
    reply's tokens and cost for information. `at` is unix time.
    """

    run_id: str
    assignment: str
    operation: str
    task_id: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost: float
    cost_is_estimate: bool
    status: LedgerStatus
    at: float
    error: str | None = None

    def __post_init__(self) -> None:
        # A typo here would silently vanish from every total, so refuse it at once.
        if self.status not in STATUSES:
            raise ValueError(f"unknown ledger status {self.status!r}")

    @property
    def paid(self) -> bool:
        """Whether this attempt reached a provider (and so counts as spent)."""
        return self.status != "cache_hit"


@dataclass(frozen=True, slots=True)
class CachedReply:
    """A successful, validated reply kept for an identical request.

    `cost` is what the original call cost, for reporting what a hit saved; a hit
    itself costs nothing.
    """

    content: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float


@dataclass(frozen=True, slots=True)
class CostTotal:
    """Ledger sums for one model, operation or day.

    `calls` counts attempts that reached a provider (failed ones included) and
    `cache_hits` the attempts answered from the cache. Tokens and `cost` sum the calls
    only; `estimated_cost` is the part of `cost` that came from a price table rather
    than from the provider.
    """

    key: str
    calls: int
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    cost: float
    estimated_cost: float
