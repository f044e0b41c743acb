"""Tests of aita_cli.store, and the one row factory they share."""

from __future__ import annotations

from typing import Any

from aita_cli.store import LedgerRow

T0 = 1_764_000_000.0  # a fixed unix time, so orderings and days do not depend on now


def ledger_row(**fields: Any) -> LedgerRow:
    """A plausible successful attempt; `fields` override any column."""
    values: dict[str, Any] = {
        "run_id": "run-1",
        "assignment": "exam1",
        "operation": "grade",
        "task_id": "q1-alice",
        "model": "openai/gpt-4o-mini",
        "prompt_tokens": 1200,
        "completion_tokens": 300,
        "cached_tokens": 0,
        "cost": 0.0021,
        "cost_is_estimate": False,
        "status": "success",
        "at": T0,
        "error": None,
    }
    values.update(fields)
    return LedgerRow(**values)
