"""Retries end to end: what is retried, how long it waits, and what a re-ask says."""

from __future__ import annotations

import collections
import itertools
import json
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from aita_cli.config import Settings
from aita_cli.errors import (
    AuthenticationError,
    BadRequestError,
    ResponseValidationError,
    ServerError,
)
from aita_cli.errors import RateLimitError as ProviderRateLimitError
from aita_cli.execution.executor import ParallelLLMExecutor, create_executor
from aita_cli.execution.retry import RetryPolicy
from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.llm.base import LLMResponse
from aita_cli.llm.messages import LLMMessage
from aita_cli.simulate.scripted import ScriptedLLMClient
from aita_cli.usage import Usage
from tests.execution._executor_support import FakeClock, RecordingReporter, make_executor


def fake_timed_client(clock: FakeClock, **options: Any) -> ScriptedLLMClient:
    return ScriptedLLMClient(lambda m, p: "1", clock=clock, sleep=clock.sleep, **options)


def test_429_waits_for_retry_after_then_succeeds() -> None:
    clock = FakeClock()
    client = fake_timed_client(clock)
    client.script("q", ProviderRateLimitError("slow down", status_code=429, retry_after=7.0))
    with make_executor(client, clock=clock, sleep=clock.sleep, max_workers=1) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    first, second = client.calls_for("q")
    assert result.task_results[0].success
    assert result.task_results[0].attempts == 2
    assert second.started - first.finished == pytest.approx(7.0, abs=1e-6)


def test_a_429_holds_every_task_not_just_the_one_refused() -> None:
    # Retry-After speaks for the account: the tasks after the refused one wait out the
    # same 0.2 s instead of walking into another 429. (Real clock: the limiter's wait
    # is a stop-aware real wait.)
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("a", ProviderRateLimitError("slow down", status_code=429, retry_after=0.2))
    tasks = [SimpleLLMTask(name, name, int) for name in ("a", "b", "c", "d")]
    with make_executor(client, max_workers=1) as executor:
        result = executor.execute_batch(tasks)
    position = next(i for i, call in enumerate(client.calls) if call.failed)
    refused, later = client.calls[position], client.calls[position + 1 :]
    assert all(item.success for item in result.task_results)
    assert len(later) >= 2
    assert all(call.started - refused.finished >= 0.2 - 0.01 for call in later)


def test_backoff_delays_come_from_the_policy() -> None:
    clock = FakeClock()
    client = fake_timed_client(clock)
    client.script("q", ServerError("boom", status_code=500), ServerError("boom", status_code=503))
    policy = RetryPolicy(max_retries=3, base_delay=2.0, max_delay=100.0, rng=random.Random(1))
    expected = random.Random(1)
    first_delay, second_delay = expected.uniform(0, 2.0), expected.uniform(0, 4.0)
    with make_executor(
        client, clock=clock, sleep=clock.sleep, max_workers=1, retry_policy=policy
    ) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    calls = client.calls_for("q")
    assert result.task_results[0].attempts == 3
    assert calls[1].started - calls[0].finished == pytest.approx(first_delay, abs=1e-6)
    assert calls[2].started - calls[1].finished == pytest.approx(second_delay, abs=1e-6)
    assert result.metrics.retried_tasks == 1


@pytest.mark.parametrize(
    "error",
    [
        BadRequestError("bad request", status_code=400),
        AuthenticationError("key rejected", status_code=401),
        BadRequestError("no such model", status_code=404),
    ],
)
def test_fatal_errors_are_not_retried(error: Exception) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("q", error)  # type: ignore[arg-type]
    with make_executor(client) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    assert client.call_count == 1
    outcome = result.task_results[0]
    assert not outcome.success
    assert outcome.error == str(error)
    assert outcome.attempts == 1
    assert result.failed_results == [outcome]


def test_retries_stop_at_max_retries() -> None:
    clock = FakeClock()
    client = fake_timed_client(clock)
    client.script("q", *[ServerError("down", status_code=500) for _ in range(5)])
    with make_executor(client, clock=clock, sleep=clock.sleep, max_retries=2) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    assert client.call_count == 3
    assert result.task_results[0].attempts == 3
    assert result.task_results[0].error == "down"
    assert result.metrics.failed_tasks == 1


def test_a_custom_policys_cap_is_honoured() -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("q", *[ServerError("down", status_code=500) for _ in range(5)])
    policy = RetryPolicy(max_retries=1, base_delay=0.0)
    with make_executor(client, retry_policy=policy) as executor:
        assert executor.max_retries == 1
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    assert client.call_count == 2
    assert result.task_results[0].attempts == 2
    assert not result.task_results[0].success


def test_max_retries_and_a_policy_that_disagree_are_refused() -> None:
    with pytest.raises(ValueError, match="disagrees with retry_policy"):
        make_executor(ScriptedLLMClient(), max_retries=2, retry_policy=RetryPolicy(max_retries=5))
    with make_executor(
        ScriptedLLMClient(), max_retries=5, retry_policy=RetryPolicy(max_retries=5)
    ) as executor:
        assert executor.max_retries == 5


def test_a_policy_override_replaces_the_settings_cap(tmp_path: Path) -> None:
    settings = Settings(max_retries=3, checkpoint_dir=tmp_path, show_progress=False)
    policy = RetryPolicy(max_retries=1)
    with create_executor(ScriptedLLMClient(), settings, retry_policy=policy) as executor:
        assert executor.retry_policy is policy
        assert executor.max_retries == 1


def test_task_should_retry_can_refuse() -> None:
    class NoRetry(SimpleLLMTask):
        def should_retry(self, error: Exception, retry_count: int) -> bool:
            return False

    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("q", ServerError("down", status_code=500))
    with make_executor(client) as executor:
        result = executor.execute_batch([NoRetry("q", "q", int)])
    assert client.call_count == 1
    assert not result.task_results[0].success


def test_parse_failure_is_reasked_with_the_error_text() -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("q", "forty-two", "42")
    with make_executor(client) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    assert result.task_results[0].result == 42
    second = client.calls_for("q")[1].messages
    assert [m.role for m in second] == ["user", "assistant", "user"]
    assert second[1].text == "forty-two"
    assert "invalid literal for int()" in second[2].text


def test_validation_error_reask_is_bounded() -> None:
    def must_be_even(text: str) -> int:
        if int(text) % 2:
            raise ResponseValidationError(f"{text} is odd; the answer must be even")
        return int(text)

    client = ScriptedLLMClient(lambda m, p: "3")
    with make_executor(client, max_retries=2) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", must_be_even)])
    assert client.call_count == 3
    assert result.task_results[0].error == "3 is odd; the answer must be even"
    last = client.calls_for("q")[-1].messages
    assert len(last) == 5  # the prompt plus two rounds of reply and correction
    assert "must be even" in last[-1].text


def test_failed_attempts_are_charged() -> None:
    client = ScriptedLLMClient(lambda m, p: "1", cost=0.002, usage=Usage(10, 5))
    client.script(
        "q",
        ServerError("down", status_code=500, usage=Usage(3, 0), cost=0.01),
        "not a number",  # paid for, then rejected by parse
    )
    with make_executor(client, retry_policy=RetryPolicy(base_delay=0.0)) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    outcome = result.task_results[0]
    assert outcome.success
    assert outcome.attempts == 3
    assert outcome.cost == pytest.approx(0.014)
    assert result.metrics.total_cost == pytest.approx(0.014)
    assert result.metrics.prompt_tokens == 3 + 10 + 10
    assert result.metrics.completion_tokens == 5 + 5
    assert result.metrics.attempts == 3
    assert executor.cost_ledger.spent == pytest.approx(0.014)


def test_estimated_cost_is_flagged() -> None:
    client = ScriptedLLMClient(lambda m, p: "1", cost=0.001, cost_is_estimate=True)
    with make_executor(client) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", int)])
    assert result.task_results[0].cost_is_estimate
    assert result.metrics.cost_is_estimate


def test_every_attempt_passes_the_rate_limiter() -> None:
    # A real, fast limiter: 20 grants per second with a burst of 4 (one per worker). Eight
    # tasks plus one retry are nine grants: four at once, then five more 0.05 s apart.
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t0", ServerError("down", status_code=500))
    reporter = RecordingReporter()
    policy = RetryPolicy(base_delay=0.0)
    with make_executor(
        client, rate_limit=20.0, max_workers=4, retry_policy=policy, progress=reporter
    ) as executor:
        tasks = [SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(8)]
        result = executor.execute_batch(tasks)
    starts = sorted(call.started for call in client.calls)
    assert len(starts) == 9
    assert starts[-1] - starts[0] >= 5 / 20.0 - 0.01
    assert result.metrics.rate_limit_wait_s > 0
    assert reporter.finished[-1].retries == 1
    assert any(snapshot.waiting_for_rate_limit > 0 for snapshot in reporter.snapshots)


def test_any_parse_error_is_reasked() -> None:
    def needs_answer_key(text: str) -> str:
        return str(json.loads(text)["answer"])

    client = ScriptedLLMClient(lambda m, p: '{"answer": 5}')
    client.script("q", '{"wrong": 1}')
    with make_executor(client) as executor:
        result = executor.execute_batch([SimpleLLMTask("q", "q", needs_answer_key)])
    assert result.task_results[0].result == "5"
    correction = client.calls_for("q")[1].messages[-1].text
    assert "KeyError: 'answer'" in correction


def test_the_first_requests_are_paced_too() -> None:
    # 10/s with 4 workers: no burst at the start either, since a provider may allow
    # none; each call leaves 0.1 s after the one before.
    client = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(client, rate_limit=10.0, max_workers=4) as executor:
        executor.execute_batch([SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(5)])
    starts = sorted(call.started for call in client.calls)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert all(gap >= 0.1 - 0.01 for gap in gaps), gaps


class _WindowedProvider:
    """A provider that takes `limit` calls per sliding `window` seconds and refuses any
    call beyond that with a 429 whose Retry-After is shorter than the window needs."""

    supports_vision = False
    is_local = False

    def __init__(self, limit: int, window: float, retry_after: float | None) -> None:
        self._limit, self._window, self._retry_after = limit, window, retry_after
        self._lock = threading.Lock()
        self._accepted: collections.deque[float] = collections.deque()
        self.refused = 0

    def describe(self) -> str:
        return "windowed test provider"

    def cache_scope(self) -> None:
        return None

    def model_for(self, *, vision: bool = False) -> str:
        return "windowed"

    def close(self) -> None:
        return None

    def complete(self, messages: Sequence[LLMMessage], **params: Any) -> LLMResponse:
        now = time.monotonic()
        with self._lock:
            while self._accepted and self._accepted[0] <= now - self._window:
                self._accepted.popleft()
            if len(self._accepted) >= self._limit:
                self.refused += 1
                raise ProviderRateLimitError("429", status_code=429, retry_after=self._retry_after)
            self._accepted.append(now)
        return LLMResponse("1")


def test_a_429_storm_settles_below_the_providers_limit() -> None:
    # The provider takes 8 calls per second and says "retry after 0.2 s" while its
    # window is full; we may send 200/s. Without backing off, every pause ends in a wave
    # of refusals and tasks run out of retries.
    provider = _WindowedProvider(limit=8, window=1.0, retry_after=0.2)
    tasks = [SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(12)]
    with ParallelLLMExecutor(
        provider, max_workers=4, rate_limit=200.0, enable_checkpointing=False, show_progress=False
    ) as executor:
        result = executor.execute_batch(tasks)
    assert all(item.success for item in result.task_results)
    assert provider.refused <= 6


def test_a_rate_limit_without_retry_after_is_backed_off_not_hammered() -> None:
    # 5 calls a second, refused without a Retry-After: read as too many in flight, the
    # concurrency limit falls to one, and at one the refusals slow the pace down too,
    # with backoff between retries, so every task gets through on its retry budget.
    provider = _WindowedProvider(limit=5, window=1.0, retry_after=None)
    tasks = [SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(20)]
    with ParallelLLMExecutor(
        provider,
        max_workers=8,
        rate_limit=0.0,
        enable_checkpointing=False,
        show_progress=False,
        retry_policy=RetryPolicy(max_retries=6, base_delay=0.1, max_delay=1.0),
    ) as executor:
        result = executor.execute_batch(tasks)
    assert all(item.success for item in result.task_results)
    assert provider.refused <= 40  # retried at once, it was about 100 for 40 tasks


def test_an_infinite_rate_limit_runs_unlimited() -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(client, rate_limit=float("inf"), max_workers=3) as executor:
        result = executor.execute_batch([SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(5)])
    assert all(item.success for item in result.task_results)


def test_a_rejected_key_stops_the_batch_instead_of_failing_every_task() -> None:
    # 401 would repeat for all 20 tasks: the first one fails, the rest are left for a
    # resume once the key is fixed, and the result says why.
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t0", AuthenticationError("AITA_API_KEY was rejected (401)", status_code=401))
    with make_executor(client, max_workers=1) as executor:
        result = executor.execute_batch([SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(20)])
    assert result.stopped == "fatal"
    assert client.call_count == 1
    assert [item.task_id for item in result.failed_results] == ["t0"]
    assert len(result.not_started) == 19
    assert any("AITA_API_KEY was rejected" in notice for notice in result.notices)


def test_an_ordinary_fatal_error_fails_only_its_task() -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t0", BadRequestError("bad request", status_code=400))
    with make_executor(client, max_workers=1) as executor:
        result = executor.execute_batch([SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(5)])
    assert result.stopped is None
    assert len(result.successful_results) == 4
