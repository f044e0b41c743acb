"""The SQL the store runs, kept apart so the store reads as what it does."""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "INSERT_LEDGER",
    "SELECT_CACHED",
    "UPSERT_CACHED",
    "TotalsBy",
    "ledger_rows",
    "spent",
    "totals",
]

TotalsBy = Literal["model", "operation", "day"]

INSERT_LEDGER: Final = """
    INSERT INTO ledger (run_id, assignment, operation, task_id, model, prompt_tokens,
        completion_tokens, cached_tokens, cost, cost_is_estimate, status, at, error)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

_LEDGER_COLUMNS: Final = (
    "run_id, assignment, operation, task_id, model, prompt_tokens, completion_tokens, "
    "cached_tokens, cost, cost_is_estimate, status, at, error"
)

SELECT_CACHED: Final = """
    SELECT content, model, prompt_tokens, completion_tokens, cost
    FROM response_cache WHERE key = ?
"""

UPSERT_CACHED: Final = """
    INSERT INTO response_cache (key, content, model, prompt_tokens, completion_tokens,
        cost, stored_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET content = excluded.content, model = excluded.model,
        prompt_tokens = excluded.prompt_tokens,
        completion_tokens = excluded.completion_tokens, cost = excluded.cost,
        stored_at = excluded.stored_at
"""

# A cache hit reached no provider: it is counted, never spent.
_PAID: Final = "status != 'cache_hit'"

_SPENT: Final = f"SELECT COALESCE(SUM(cost), 0.0) FROM ledger WHERE {_PAID}"

# Local days: an instructor's "what did I spend on Tuesday" means their Tuesday.
_GROUP_KEYS: Final[dict[str, str]] = {
    "model": "model",
    "operation": "operation",
    "day": "date(at, 'unixepoch', 'localtime')",
}

_TOTALS: Final = f"""
    SELECT {{key}} AS key,
        SUM({_PAID}),
        SUM(NOT ({_PAID})),
        SUM(CASE WHEN {_PAID} THEN prompt_tokens ELSE 0 END),
        SUM(CASE WHEN {_PAID} THEN completion_tokens ELSE 0 END),
        SUM(CASE WHEN {_PAID} THEN cost ELSE 0.0 END),
        SUM(CASE WHEN {_PAID} AND cost_is_estimate THEN cost ELSE 0.0 END)
    FROM ledger {{where}}
    GROUP BY key ORDER BY key
"""


def _where(assignment: str | None, joiner: str = "WHERE") -> str:
    return "" if assignment is None else f"{joiner} assignment = :assignment"


def ledger_rows(assignment: str | None) -> str:
    """Every attempt (of one assignment), oldest first, ties in the order recorded."""
    return f"SELECT {_LEDGER_COLUMNS} FROM ledger {_where(assignment)} ORDER BY at, id"


def totals(by: TotalsBy, assignment: str | None) -> str:
    """Sums per `by` key, keys in order (days chronologically)."""
    if by not in _GROUP_KEYS:
        raise ValueError(f"cannot total by {by!r}; choose one of {', '.join(_GROUP_KEYS)}")
    return _TOTALS.format(key=_GROUP_KEYS[by], where=_where(assignment))


def spent(assignment: str | None) -> str:
    """What the calls (of one assignment) cost."""
    return _SPENT + " " + _where(assignment, "AND")
