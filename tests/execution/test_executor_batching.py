"""Batchable tasks share one call; each still gets its own result and journal record."""

from __future__ import annotations

from pathlib import Path

from aita_cli.execution.retry import RetryPolicy
from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.simulate.scripted import ScriptedLLMClient
from aita_cli.usage import Usage
from tests.execution._executor_support import (
    SolveTask,
    journal_lines,
    make_executor,
    solve_reply,
)


def test_compatible_tasks_are_combined_and_split(tmp_path: Path) -> None:
    client = ScriptedLLMClient(solve_reply(), usage=Usage(30, 9), cost=0.03)
    tasks = [SolveTask(f"s{i}") for i in range(7)]
    with make_executor(client, tmp_path, max_workers=1, max_batch_size=3) as executor:
        result = executor.execute_batch(tasks, checkpoint_name="exam_solve")
    prompts = [call.messages[0].text for call in client.calls]
    assert prompts == ["batch: s0,s1,s2", "batch: s3,s4,s5", "solve s6"]
    assert [r.result for r in result.task_results] == [f"answer s{i}" for i in range(7)]
    assert result.task_results[0].cost == 0.01  # an even share of its call
    assert result.task_results[0].usage == Usage(10, 3)
    assert result.metrics.total_cost == 0.09
    assert result.checkpoint_path is not None
    records = [line for line in journal_lines(result.checkpoint_path) if line["type"] == "task"]
    assert sorted(r["task_id"] for r in records) == [f"s{i}" for i in range(7)]
    assert all(r["fingerprint"] == t.fingerprint() for r, t in zip(records, tasks, strict=True))


def test_only_compatible_neighbours_are_combined() -> None:
    client = ScriptedLLMClient(solve_reply())
    tasks = [
        SolveTask("a", "x"),
        SolveTask("b", "y"),
        SolveTask("c", "y"),
        SimpleLLMTask("d", "solve d"),
    ]
    with make_executor(client, max_workers=1) as executor:
        result = executor.execute_batch(tasks)
    prompts = [call.messages[0].text for call in client.calls]
    assert prompts == ["solve a", "batch: b,c", "solve d"]
    assert result.success_rate == 100.0


def test_a_member_missing_from_the_split_is_retried_alone(tmp_path: Path) -> None:
    client = ScriptedLLMClient(solve_reply(drop=frozenset({"s2"})))
    tasks = [SolveTask(f"s{i}") for i in range(4)]
    with make_executor(client, tmp_path, max_workers=1) as executor:
        result = executor.execute_batch(tasks, checkpoint_name="exam_solve")
    prompts = [call.messages[0].text for call in client.calls]
    assert prompts == ["batch: s0,s1,s2,s3", "solve s2"]
    s2 = result.get_result_by_id("s2")
    assert s2 is not None
    assert s2.success
    assert s2.attempts == 2
    assert result.success_rate == 100.0
    assert result.checkpoint_path is not None
    records = [line for line in journal_lines(result.checkpoint_path) if line["type"] == "task"]
    assert len(records) == 4
    assert all(r["status"] == "success" for r in records)


def test_a_missing_member_is_not_asked_again_beyond_the_policys_cap() -> None:
    client = ScriptedLLMClient(solve_reply(drop=frozenset({"s2"})))
    tasks = [SolveTask(f"s{i}") for i in range(4)]
    policy = RetryPolicy(max_retries=0)
    with make_executor(client, max_workers=1, retry_policy=policy) as executor:
        result = executor.execute_batch(tasks)
    assert client.call_count == 1
    s2 = result.get_result_by_id("s2")
    assert s2 is not None
    assert not s2.success
    assert s2.error == "task s2 is missing from the combined reply"
    assert len(result.successful_results) == 3


def test_batch_size_one_disables_batching() -> None:
    client = ScriptedLLMClient(solve_reply())
    with make_executor(client, max_batch_size=1) as executor:
        executor.execute_batch([SolveTask(f"s{i}") for i in range(3)])
    assert client.call_count == 3


class _SolveAfter(SolveTask):
    """A batchable task that needs `parent` first."""

    def __init__(self, task_id: str, parent: str) -> None:
        super().__init__(task_id)
        self.dependencies = (parent,)


def test_batchable_tasks_released_one_by_one_still_share_a_call() -> None:
    # Each parent's success releases one dependent. They must wait to be combined, not be
    # queued ahead of the busy worker one at a time; and, continuing a chain, they go
    # before the parents not started yet (the worker's queue holds one parent ahead).
    client = ScriptedLLMClient(solve_reply(), latency=0.01)
    parents = [SimpleLLMTask(f"p{i}", f"solve p{i}") for i in range(4)]
    dependents = [_SolveAfter(f"d{i}", f"p{i}") for i in range(4)]
    with make_executor(client, max_workers=1, max_batch_size=8) as executor:
        result = executor.execute_batch([*parents, *dependents])
    prompts = [call.messages[0].text for call in client.calls]
    assert prompts == [
        "solve p0",
        "solve p1",
        "batch: d0,d1",
        "solve p2",
        "solve p3",
        "batch: d2,d3",
    ]
    assert result.success_rate == 100.0


def test_compatible_tasks_behind_strangers_still_share_a_call() -> None:
    # Tasks become ready in dependency order, which interleaves groups: the leader
    # looks past strangers (who keep their order) for the ones it can share with.
    client = ScriptedLLMClient(solve_reply())
    tasks = [SolveTask("a", "x"), SolveTask("b", "y"), SolveTask("c", "x"), SolveTask("d", "y")]
    with make_executor(client, max_workers=1) as executor:
        result = executor.execute_batch(tasks)
    prompts = [call.messages[0].text for call in client.calls]
    assert prompts == ["batch: a,c", "batch: b,d"]
    assert result.success_rate == 100.0
