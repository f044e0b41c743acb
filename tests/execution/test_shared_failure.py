"""A failure every task shares stops the batch; transient faults never do."""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.errors import (
    BadRequestError,
    LLMConnectionError,
    LLMError,
    RateLimitError,
    ResponseValidationError,
    ServerError,
)
from aita_cli.execution.retry import RetryPolicy
from aita_cli.execution.shared_failure import SharedFailureDetector, is_transient
from aita_cli.simulate.scripted import ScriptedLLMClient
from tests.execution._executor_support import make_executor, number_tasks

UNSUPPORTED = "endpoint rejected the request (400): 'logprobs' is not supported"


def test_three_alike_in_a_row_are_shared() -> None:
    detector = SharedFailureDetector()
    error = BadRequestError(UNSUPPORTED, status_code=400)
    assert detector.observe(error) is None
    assert detector.observe(BadRequestError(UNSUPPORTED, status_code=400)) is None
    assert detector.observe(BadRequestError(UNSUPPORTED, status_code=400)) is not None


def test_a_success_or_another_error_starts_the_count_again() -> None:
    detector = SharedFailureDetector()
    same = BadRequestError(UNSUPPORTED, status_code=400)
    for between in (None, BadRequestError("prompt too long", status_code=400)):
        assert detector.observe(same) is None
        assert detector.observe(same) is None
        assert detector.observe(between) is None
    assert detector.observe(same) is None


@pytest.mark.parametrize(
    "error",
    [
        RateLimitError("slow down", status_code=429),
        ServerError("overloaded", status_code=503),
        ServerError("gateway", status_code=502),
        LLMConnectionError("refused"),
        ResponseValidationError("points do not add up"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_faults_never_count(error: Exception) -> None:
    assert is_transient(error)
    detector = SharedFailureDetector()
    assert all(detector.observe(error) is None for _ in range(10))


def _always(error: LLMError) -> ScriptedLLMClient:
    def fail(messages: object, params: object) -> str:
        raise error

    return ScriptedLLMClient(fail)


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError(UNSUPPORTED, status_code=400),
        ServerError("server error (500): the model failed to load", status_code=500),
    ],
    ids=["400", "500"],
)
def test_a_shared_failure_stops_the_batch_and_leaves_the_rest_resumable(
    error: LLMError, tmp_path: Path
) -> None:
    client = _always(error)
    fast = RetryPolicy(max_retries=3, base_delay=0.0, max_delay=0.0)
    with make_executor(client, tmp_path, max_workers=1, retry_policy=fast) as executor:
        result = executor.execute_batch(number_tasks(20), checkpoint_name="shared")
    assert result.stopped == "fatal"
    # Three tasks failing for good (a 500 after its retries), and the one a worker had
    # queued next: not every attempt of all 20 tasks, 80 calls.
    assert client.call_count <= 4 * (1 + fast.max_retries)
    assert len(result.not_started) >= 16
    assert any(str(error) in notice for notice in result.notices)


@pytest.mark.parametrize(
    "error",
    [
        ServerError("server error (500)", status_code=500),  # a burst that retries clear
        ServerError("overloaded (503)", status_code=503),  # a storm of transient faults
    ],
    ids=["500", "503"],
)
def test_failures_on_every_first_attempt_that_retries_clear_do_not_stop_the_batch(
    error: ServerError,
) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    tasks = number_tasks(8)
    for task in tasks:
        client.script(task.task_id, error, "1")
    fast = RetryPolicy(max_retries=3, base_delay=0.0, max_delay=0.0)
    with make_executor(client, max_workers=4, retry_policy=fast) as executor:
        result = executor.execute_batch(tasks)
    assert result.stopped is None
    assert len(result.successful_results) == 8
