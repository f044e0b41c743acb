"""Dependencies stream (no barrier between stages), fail clearly, and are checked first."""

from __future__ import annotations

import random
import threading
from pathlib import Path
from typing import Any

import pytest

from aita_cli.errors import BadRequestError, InputError
from aita_cli.execution.results import TaskResult
from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.simulate.scripted import ScriptedLLMClient, ScriptedReply
from tests.execution._executor_support import DependentTask, journal_lines, make_executor


def test_a_dependent_starts_before_unrelated_slow_tasks_finish() -> None:
    release_slow = threading.Event()
    client = ScriptedLLMClient(lambda m, p: "7", gate_timeout=5.0)
    client.script("slow", ScriptedReply(content="1", gate=release_slow))
    finished: list[str] = []

    def on_complete(result: TaskResult) -> None:
        finished.append(result.task_id)
        if result.task_id == "b":
            release_slow.set()  # only now may the unrelated slow task finish

    tasks = [
        SimpleLLMTask("slow", "slow", int),
        SimpleLLMTask("a", "a", int),
        DependentTask("b", "b", int, dependencies=["a"]),
    ]
    with make_executor(client, max_workers=3) as executor:
        result = executor.execute_batch(tasks, on_task_complete=on_complete)
    assert finished == ["a", "b", "slow"]
    assert result.success_rate == 100.0
    (slow_call,) = client.calls_for("slow")
    assert slow_call.finished - slow_call.started < 4.5  # released by b, not by the timeout


def test_dependents_receive_dependency_results() -> None:
    client = ScriptedLLMClient(lambda m, p: "5")
    client.script("a", "2")
    client.script("b", "3")
    tasks = [
        DependentTask("sum", "sum", int, dependencies=["a", "b"]),
        SimpleLLMTask("a", "a", int),
        SimpleLLMTask("b", "b", int),
    ]
    with make_executor(client) as executor:
        result = executor.execute_batch(tasks)
    assert [r.task_id for r in result.task_results] == ["sum", "a", "b"]
    assert tasks[0].dependency_results == {"a": 2, "b": 3}
    assert client.calls_for("sum given a=2, b=3")


def test_a_failed_dependency_fails_its_dependents_without_a_call() -> None:
    client = ScriptedLLMClient(lambda m, p: "5")
    client.script("a", BadRequestError("rejected", status_code=400))
    completed: list[str] = []
    tasks = [
        SimpleLLMTask("a", "a", int),
        DependentTask("b", "b", int, dependencies=["a"]),
        DependentTask("c", "c", int, dependencies=["b"]),
        SimpleLLMTask("d", "d", int),
    ]
    with make_executor(client) as executor:
        result = executor.execute_batch(
            tasks, on_task_complete=lambda r: completed.append(r.task_id)
        )
    by_id = {r.task_id: r for r in result.task_results}
    assert by_id["b"].error == "dependency a failed"
    assert by_id["c"].error == "dependency b failed"
    assert by_id["d"].success
    assert client.call_count == 2  # a and d only
    assert result.metrics.failed_tasks == 3
    assert sorted(completed) == ["a", "b", "c", "d"]
    assert result.stopped is None
    assert result.not_started == []


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ([SimpleLLMTask("a", "a"), SimpleLLMTask("a", "b")], "'a' appears more than once"),
        ([SimpleLLMTask("a", "a", dependencies=["zz"])], "depends on 'zz', which is not"),
        (
            [
                SimpleLLMTask("a", "a", dependencies=["b"]),
                SimpleLLMTask("b", "b", dependencies=["a"]),
            ],
            "cycle involving 'a', 'b'",
        ),
        ([SimpleLLMTask("a", "a", dependencies=["a"])], "cycle involving 'a'"),
    ],
)
def test_bad_batches_are_rejected_before_anything_runs(tasks: list[Any], message: str) -> None:
    client = ScriptedLLMClient()
    with make_executor(client) as executor, pytest.raises(InputError, match=message):
        executor.execute_batch(tasks)
    assert client.call_count == 0


def test_results_come_back_in_the_order_given() -> None:
    rng = random.Random(3)
    delays = {f"t{i}": rng.uniform(0, 0.004) for i in range(40)}
    client = ScriptedLLMClient(lambda m, p: "1", latency=lambda m, p: delays[m[0].text])
    tasks = [SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(40)]
    with make_executor(client, max_workers=8) as executor:
        result = executor.execute_batch(tasks)
    assert [r.task_id for r in result.task_results] == [t.task_id for t in tasks]
    assert result.get_result_by_id("t17") is result.task_results[17]
    assert result.get_result_by_id("nope") is None
    assert client.max_in_flight <= 8


def test_one_executor_serves_several_batches() -> None:
    client = ScriptedLLMClient(lambda m, p: "1", cost=0.5)
    with make_executor(client, max_workers=2) as executor:
        first = executor.execute_batch([SimpleLLMTask("a", "a", int)])
        second = executor.execute_batch([SimpleLLMTask("a", "a", int)])
    assert first.metrics.total_cost == second.metrics.total_cost == 0.5
    assert executor.cost_ledger.spent == 1.0  # the ledger spans batches


def test_empty_batch() -> None:
    with make_executor(ScriptedLLMClient()) as executor:
        result = executor.execute_batch([])
    assert result.task_results == []
    assert result.success_rate == 0.0
    assert result.metrics.total_tasks == 0


class _BrokenHook(SimpleLLMTask):
    """Its on_success hook raises, and says which thread ran it."""

    def __init__(self, task_id: str) -> None:
        super().__init__(task_id, task_id, int)
        self.hook_threads: list[threading.Thread] = []

    def on_success(self, result: Any) -> None:
        self.hook_threads.append(threading.current_thread())
        raise RuntimeError("boom")


def test_a_failing_on_success_fails_its_task_and_its_dependents() -> None:
    broken = _BrokenHook("a")
    tasks = [broken, DependentTask("b", "b", int, dependencies=["a"])]
    client = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(client, max_workers=2) as executor:
        result = executor.execute_batch(tasks)
    a, b = result.task_results
    assert not a.success
    assert a.error == "on_success failed: boom"
    assert a.attempts == 1
    assert b.error == "dependency a failed"
    assert [call.key for call in client.calls] == ["a"]  # b was never sent
    # The hook ran once, in a worker: hooks that do real work run in parallel.
    assert len(broken.hook_threads) == 1
    assert broken.hook_threads[0] is not threading.current_thread()


class _KnownOnceDependenciesAreIn(SimpleLLMTask):
    """Answers itself when its dependency says so: no call is made for it."""

    def answer_without_call(self) -> Any | None:
        return "known" if self.dependency_results.get("a") == 0 else None


def test_a_task_that_knows_its_result_makes_no_call_and_is_journaled(
    tmp_path: Path,
) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("a", "0")
    tasks = [
        SimpleLLMTask("a", "a", int),
        _KnownOnceDependenciesAreIn("b", "b", dependencies=["a"]),
        DependentTask("c", "c", int, dependencies=["b"]),
    ]
    with make_executor(client, tmp_path) as executor:
        result = executor.execute_batch(tasks, checkpoint_name="known")
    assert [r.result for r in result.task_results] == [0, "known", 1]
    assert [call.key for call in client.calls] == ["a", "c given b=known"]
    assert result.task_results[1].attempts == 0
    assert result.checkpoint_path is not None
    records = [line for line in journal_lines(result.checkpoint_path) if line["type"] == "task"]
    assert {r["task_id"] for r in records} == {"a", "b", "c"}
