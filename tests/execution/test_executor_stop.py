"""Stopping: Ctrl-C, request_stop, the cost budget; plus scale and settings."""

from __future__ import annotations

import _thread
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from aita_cli.config import Settings
from aita_cli.errors import AuthenticationError
from aita_cli.execution.checkpoint import CheckpointManager
from aita_cli.execution.executor import ParallelLLMExecutor, create_executor
from aita_cli.execution.results import TaskResult
from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.llm.messages import LLMMessage
from aita_cli.simulate.scripted import ScriptedLLMClient, ScriptedReply, first_user_text
from tests.execution._executor_support import RecordingReporter, make_executor, number_tasks

NAME = "exam1_transcribe"


def test_request_stop_starts_nothing_new_and_is_resumable(tmp_path: Path) -> None:
    executors: list[ParallelLLMExecutor] = []

    def stop_during_t1(messages: list[LLMMessage], params: dict[str, Any]) -> str:
        # Stop while t1 is in flight: t2 already waits in the pool's queue, and it must
        # not be sent.
        if first_user_text(messages, params) == "t1":
            executors[0].request_stop()
        return "1"

    client = ScriptedLLMClient(stop_during_t1)
    with make_executor(client, tmp_path, max_workers=1) as executor:
        executors.append(executor)
        result = executor.execute_batch(number_tasks(10), checkpoint_name=NAME)
    assert result.stopped == "interrupted"
    assert result.not_started == [f"t{i}" for i in range(2, 10)]
    assert result.metrics.completed_tasks == 2
    assert result.metrics.failed_tasks == 0
    assert result.failed_results == []
    assert result.task_results[5].error == "not finished: the run was interrupted"
    assert result.checkpoint_path is not None
    state = CheckpointManager(tmp_path).load(result.checkpoint_path)
    assert sorted(state.successes) == ["t0", "t1"]
    assert state.summary is not None
    assert state.summary["stopped"] == "interrupted"

    again = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(again, tmp_path) as executor:
        resumed = executor.execute_batch(
            number_tasks(10), checkpoint_name=NAME, resume_from_checkpoint=True
        )
    assert sorted(call.key for call in again.calls) == sorted(result.not_started)
    assert resumed.stopped is None
    assert resumed.success_rate == 100.0


def test_ctrl_c_in_the_calling_thread_stops_the_batch(tmp_path: Path) -> None:
    assert threading.current_thread() is threading.main_thread()
    client = ScriptedLLMClient(lambda m, p: "1")

    def press_ctrl_c(result: TaskResult) -> None:
        if result.task_id == "t2":
            _thread.interrupt_main()

    with make_executor(client, tmp_path, max_workers=1) as executor:
        result = executor.execute_batch(
            number_tasks(20), checkpoint_name=NAME, on_task_complete=press_ctrl_c
        )
    assert result.stopped == "interrupted"
    assert 3 <= result.metrics.completed_tasks < 20
    assert len(result.not_started) == 20 - result.metrics.completed_tasks
    assert result.checkpoint_path is not None
    state = CheckpointManager(tmp_path).load(result.checkpoint_path)
    assert len(state.successes) == result.metrics.completed_tasks


def test_in_flight_calls_get_a_grace_period_then_are_left(tmp_path: Path) -> None:
    never = threading.Event()
    client = ScriptedLLMClient(lambda m, p: "1", gate_timeout=5.0)
    client.script("t1", ScriptedReply(content="1", gate=never))
    with make_executor(client, tmp_path, max_workers=2, interrupt_grace=0.2) as executor:
        timer = threading.Timer(0.2, executor.request_stop)
        timer.start()
        began = time.monotonic()
        result = executor.execute_batch(number_tasks(2), checkpoint_name=NAME)
        took = time.monotonic() - began
        timer.join()
    assert result.stopped == "interrupted"
    assert result.not_started == ["t1"]
    assert result.task_results[0].success
    assert took < 4.0  # did not wait for the held call
    never.set()  # let the abandoned worker go


class _ParseSignals(SimpleLLMTask):
    """Says when its reply was parsed (in the worker) and counts its on_success calls."""

    def __init__(self, task_id: str) -> None:
        super().__init__(task_id, task_id, int)
        self.parsed = threading.Event()
        self.successes = 0

    def parse_response(self, text: str) -> Any:
        self.parsed.set()
        return int(text)

    def on_success(self, result: Any) -> None:
        self.successes += 1


def test_an_abandoned_call_changes_nothing_after_the_batch_returned(tmp_path: Path) -> None:
    release = threading.Event()
    client = ScriptedLLMClient(lambda m, p: "1", gate_timeout=5.0)
    client.script("late", ScriptedReply(content="1", gate=release))
    late = _ParseSignals("late")
    with make_executor(client, tmp_path, max_workers=2, interrupt_grace=0.1) as executor:
        threading.Timer(0.2, executor.request_stop).start()
        result = executor.execute_batch([SimpleLLMTask("t0", "t0", int), late], NAME)
        assert result.checkpoint_path is not None
        journal = result.checkpoint_path.read_bytes()
        release.set()  # the abandoned call now returns and its reply is parsed
        assert late.parsed.wait(5.0)
        time.sleep(0.2)  # long enough for the worker to finish the attempt
    # The late reply's own hook runs in its worker, but the batch it belonged to is
    # over: no result and no journal record changes.
    assert result.not_started == ["late"]
    assert result.checkpoint_path.read_bytes() == journal
    assert not result.get_result_by_id("late").success  # type: ignore[union-attr]


def test_a_fatal_error_is_reported_even_without_a_grace_period() -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t0", AuthenticationError("AITA_API_KEY was rejected", status_code=401))
    with make_executor(client, max_workers=2, interrupt_grace=0.0) as executor:
        result = executor.execute_batch(number_tasks(10))
    assert result.stopped == "fatal"
    assert any("AITA_API_KEY was rejected" in notice for notice in result.notices)


def test_the_budget_stops_new_work(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1", cost=0.001)
    with make_executor(client, tmp_path, max_workers=1, max_cost=0.0025) as executor:
        result = executor.execute_batch(number_tasks(10), checkpoint_name=NAME)
        later = executor.execute_batch(number_tasks(2, prefix="u"))
    assert result.stopped == "budget"
    assert result.metrics.completed_tasks == 3
    assert result.not_started == [f"t{i}" for i in range(3, 10)]
    assert result.task_results[3].error == "not finished: the cost budget was reached"
    assert result.metrics.total_cost == pytest.approx(0.003)
    assert later.stopped == "budget"
    assert later.not_started == ["u0", "u1"]
    assert client.call_count == 3


def test_the_budget_lets_a_run_that_fits_finish() -> None:
    client = ScriptedLLMClient(lambda m, p: "1", cost=0.001)
    with make_executor(client, max_cost=1.0) as executor:
        result = executor.execute_batch(number_tasks(5))
    assert result.stopped is None
    assert result.success_rate == 100.0


def test_ten_thousand_instant_tasks_with_journaling(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1", record_calls=False, cost=0.0001)
    tasks = number_tasks(10_000)
    with make_executor(client, tmp_path, checkpoint_interval=100) as executor:
        result = executor.execute_batch(tasks, checkpoint_name=NAME)
    assert result.metrics.completed_tasks == 10_000
    assert [r.task_id for r in result.task_results] == [t.task_id for t in tasks]
    assert result.metrics.total_cost == pytest.approx(1.0)
    assert result.checkpoint_path is not None
    assert len(CheckpointManager(tmp_path).load(result.checkpoint_path).successes) == 10_000


def test_progress_is_reported() -> None:
    reporter = RecordingReporter()
    client = ScriptedLLMClient(lambda m, p: "1", cost=0.25)
    with make_executor(client, progress=reporter) as executor:
        executor.execute_batch(number_tasks(4), description="rubrics")
    assert reporter.started == [("rubrics", 4, 0)]
    final = reporter.finished[-1]
    assert (final.completed, final.failed, final.total, final.in_flight) == (4, 0, 4, 0)
    assert final.cost == 1.0
    assert final.max_rate is None  # unlimited


def test_progress_knows_the_limiters_pace_in_tasks_per_second() -> None:
    reporter = RecordingReporter()
    client = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(client, progress=reporter, rate_limit=500.0) as executor:
        executor.execute_batch(number_tasks(4))
    assert reporter.finished[-1].max_rate == pytest.approx(500.0)


def test_create_executor_takes_settings_and_overrides(tmp_path: Path) -> None:
    settings = Settings(
        max_workers=3,
        rate_limit_rps=0.5,
        max_retries=1,
        checkpoint_dir=tmp_path,
        show_progress=False,
        max_cost=2.0,
    )
    client = ScriptedLLMClient()
    with create_executor(client, settings, max_workers=7) as executor:
        assert isinstance(executor, ParallelLLMExecutor)
        assert executor.max_workers == 7
        assert executor.rate_limiter.rate == 0.5
        assert executor.max_retries == 1
        assert executor.checkpoint_dir == tmp_path
        assert executor.max_cost == 2.0


def test_a_failing_callback_still_ends_the_progress_display(tmp_path: Path) -> None:
    # Rich bars left running would draw over the error and leave the cursor hidden.
    def broken_callback(result: TaskResult) -> None:
        raise OSError("disk full")

    reporter = RecordingReporter()
    client = ScriptedLLMClient(lambda m, p: "1")
    with (
        make_executor(client, tmp_path, progress=reporter) as executor,
        pytest.raises(OSError, match="disk full"),
    ):
        executor.execute_batch(
            number_tasks(3), checkpoint_name=NAME, on_task_complete=broken_callback
        )
    assert len(reporter.finished) == 1


def test_a_batch_started_from_a_completion_callback_is_refused_not_hung() -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    refusals: list[str] = []
    with make_executor(client) as executor:

        def nested(_: TaskResult) -> None:
            try:
                executor.execute_batch([SimpleLLMTask("inner", "inner", int)])
            except RuntimeError as exc:
                refusals.append(str(exc))

        result = executor.execute_batch(
            [SimpleLLMTask("outer", "outer", int)], on_task_complete=nested
        )
    assert result.success_rate == 100.0
    assert refusals == ["execute_batch cannot be called from inside a running batch"]


def test_a_worker_starts_its_next_job_without_waiting_for_the_scheduler() -> None:
    t1_started = threading.Event()

    def reply(messages: list[LLMMessage], params: dict[str, Any]) -> str:
        if first_user_text(messages, params) == "t1":
            t1_started.set()
        return "1"

    waited: list[bool] = []

    def on_complete(result: TaskResult) -> None:
        if result.task_id == "t0":
            # This runs in the scheduler's thread, so t1 can start meanwhile only if it
            # was already queued for the worker.
            waited.append(t1_started.wait(timeout=5))

    with make_executor(ScriptedLLMClient(reply), max_workers=1) as executor:
        result = executor.execute_batch(number_tasks(3), on_task_complete=on_complete)
    assert waited == [True]
    assert result.success_rate == 100.0


def test_jobs_queued_ahead_of_the_workers_are_not_shown_as_running() -> None:
    client = ScriptedLLMClient(lambda m, p: "1", latency=0.02)
    reporter = RecordingReporter()
    with make_executor(client, max_workers=3, progress=reporter) as executor:
        result = executor.execute_batch(number_tasks(12))
    assert result.success_rate == 100.0
    # Six jobs are submitted at a time, but only those a worker took are running.
    assert 1 <= max(snapshot.in_flight for snapshot in reporter.snapshots) <= 3
