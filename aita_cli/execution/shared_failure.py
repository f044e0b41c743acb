"""Noticing a failure that every task shares, so a batch stops instead of paying for it
again and again.

A server that rejects what every request has in common (a parameter it does not support,
a model it does not serve, a misconfigured deployment answering 500 to everything) fails
each task the same way. When several tasks in a row fail for good with the same
non-transient status and message, the rest would too: the batch stops with that error,
and what did not finish stays resumable once it is fixed. A task fails for good on its
first attempt when the error is not retryable (a 400), and after its retries when it is
(a 500), so a brief burst of 500s that retries clear never counts. Transient faults
(429, 408, 409, 425, 502, 503, 504, timeouts, dropped connections) never count either.
A task that succeeds, or fails otherwise, starts the count again.
"""

from __future__ import annotations

from aita_cli.errors import LLMError, RateLimitError

__all__ = ["SHARED_FAILURE_THRESHOLD", "SharedFailureDetector", "is_transient"]

# Three in a row: one or two tasks may share a fault by chance (two over-long prompts),
# three distinct tasks failing identically on their first try is the server's doing.
SHARED_FAILURE_THRESHOLD = 3
_TRANSIENT_STATUSES = frozenset({408, 409, 425, 429, 502, 503, 504})


def is_transient(error: BaseException) -> bool:
    """Whether `error` may well pass by itself: a rate limit, an overloaded or unreachable
    server. Only an error with a non-transient HTTP status can be shared."""
    if isinstance(error, RateLimitError) or not isinstance(error, LLMError):
        return True
    status = error.status_code
    return status is None or status < 400 or status in _TRANSIENT_STATUSES


class SharedFailureDetector:
    """Counts tasks in a row that failed alike for good; used by the scheduler alone."""

    def __init__(self, threshold: int = SHARED_FAILURE_THRESHOLD) -> None:
        self._threshold = threshold
        self._signature: tuple[int | None, str] | None = None
        self._count = 0

    def observe(self, error: Exception | None) -> Exception | None:
        """Note how a task ended (`error` None: it succeeded); return the error to stop
        the batch with once `threshold` tasks in a row failed with it."""
        if error is None or is_transient(error):
            self._signature, self._count = None, 0
            return None
        assert isinstance(error, LLMError)  # is_transient passes everything else
        signature = (error.status_code, str(error))
        if signature != self._signature:
            self._signature, self._count = signature, 0
        self._count += 1
        return error if self._count >= self._threshold else None
