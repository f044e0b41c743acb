"""Running totals of what model calls cost, safe to update from many threads.

Every attempt is charged, failed ones included: a provider error may still carry usage
and cost, and a reply the task rejected was paid for all the same. One ledger lives as
long as the executor (the budget spans all batches of a command); each batch keeps a
second one for its own metrics.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aita_cli.usage import Usage

__all__ = ["CostLedger"]


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """A consistent snapshot of a ledger."""

    usage: Usage
    cost: float
    cost_is_estimate: bool
    attempts: int


class CostLedger:
    """Thread-safe sums of usage and cost over every charged attempt."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        self._cost = 0.0
        self._estimate = False
        self._attempts = 0

    def charge(self, usage: Usage | None, cost: float, cost_is_estimate: bool = False) -> None:
        """Add one attempt. `cost_is_estimate` marks a price-table figure (sticky)."""
        with self._lock:
            if usage is not None:
                self._usage = self._usage + usage
            self._cost += cost
            self._estimate = self._estimate or (cost_is_estimate and cost > 0)
            self._attempts += 1

    @property
    def spent(self) -> float:
        """USD charged so far."""
        return self._cost

    @property
    def attempts(self) -> int:
        """Attempts charged so far."""
        return self._attempts

    @property
    def cost_is_estimate(self) -> bool:
        """Whether any charged cost came from a price table rather than the provider."""
        return self._estimate

    def reached(self, max_cost: float | None) -> bool:
        """Whether the spent cost has reached `max_cost` (never, when it is None)."""
        return max_cost is not None and self._cost >= max_cost

    def totals(self) -> LedgerTotals:
        """Usage, cost, estimate flag and attempt count, read together."""
        with self._lock:
            return LedgerTotals(self._usage, self._cost, self._estimate, self._attempts)
