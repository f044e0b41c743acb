"""RetryPolicy: what is retried and how long it waits."""

from __future__ import annotations

import random

import pytest

from aita_cli import errors
from aita_cli.execution.retry import RetryPolicy

RETRYABLE = [
    errors.RateLimitError("429"),
    errors.ServerError("503", status_code=503),
    errors.LLMTimeoutError("timed out"),
    errors.LLMConnectionError("refused"),
    errors.MalformedResponseError("no choices"),
    errors.RetryableLLMError("generic"),
    errors.ResponseValidationError("points do not add up"),
]

NOT_RETRYABLE: list[BaseException] = [
    errors.AuthenticationError("401", status_code=401),
    errors.PaymentRequiredError("402", status_code=402),
    errors.BadRequestError("400", status_code=400),
    errors.FatalLLMError("fatal"),
    errors.LLMError("base"),
    errors.AitaError("root"),
    errors.ConfigError("config"),
    errors.OCRUnavailableError("ocr"),
    errors.InputError("input"),
    errors.CheckpointError("checkpoint"),
    errors.CheckpointLockedError("locked"),
    errors.BudgetExceededError("budget"),
    errors.TaskFailedError("failed"),
    errors.DependencyFailedError("q1"),
    ValueError("not ours"),
    KeyboardInterrupt(),
]


def test_every_error_class_in_the_tree_is_classified() -> None:
    covered = {type(error) for error in RETRYABLE + NOT_RETRYABLE}
    tree = {getattr(errors, name) for name in errors.__all__}
    assert tree <= covered


@pytest.mark.parametrize("error", RETRYABLE, ids=lambda e: type(e).__name__)
def test_retryable_errors(error: BaseException) -> None:
    assert RetryPolicy().is_retryable(error)


@pytest.mark.parametrize("error", NOT_RETRYABLE, ids=lambda e: type(e).__name__)
def test_errors_that_are_never_retried(error: BaseException) -> None:
    assert not RetryPolicy().is_retryable(error)


def test_backoff_is_full_jitter_within_the_capped_exponential_bound() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=4.0, rng=random.Random(7))
    error = errors.ServerError("502")
    for retry_number, bound in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (60, 4.0)]:
        delays = [policy.backoff_delay(error, retry_number) for _ in range(300)]
        assert all(0.0 <= delay <= bound for delay in delays)
        # Full jitter: the whole range is used, not just values near the bound.
        assert min(delays) < bound * 0.1
        assert max(delays) > bound * 0.9


def test_backoff_is_reproducible_with_a_seed() -> None:
    error = errors.LLMTimeoutError("slow")
    first = [RetryPolicy(rng=random.Random(1)).backoff_delay(error, 3) for _ in range(3)]
    again = [RetryPolicy(rng=random.Random(1)).backoff_delay(error, 3) for _ in range(3)]
    assert first == again


def test_huge_retry_numbers_do_not_overflow() -> None:
    policy = RetryPolicy(max_delay=30.0, rng=random.Random(0))
    assert 0.0 <= policy.backoff_delay(errors.ServerError("500"), 5000) <= 30.0


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(max_retry_after=60.0, rng=random.Random(0))
    assert policy.backoff_delay(errors.RateLimitError("429", retry_after=2.5), 1) == 2.5
    assert policy.backoff_delay(errors.RateLimitError("429", retry_after=3600), 1) == 60.0
    assert policy.backoff_delay(errors.RateLimitError("429", retry_after=-4), 2) == 0.0


def test_retry_number_starts_at_one() -> None:
    with pytest.raises(ValueError, match="retry_number"):
        RetryPolicy().backoff_delay(errors.ServerError("500"), 0)
