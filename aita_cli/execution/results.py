"""What a batch run hands back: one `TaskResult` per task, totals, and why it stopped.

`task_results` holds one entry per task, in the order the tasks were given. A task that
did not finish because the run stopped (Ctrl-C or the cost budget) still has an entry,
with ``success=False``; its id is listed in `not_started` and it is not counted as a
failure, because a resumed run will simply run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aita_cli.usage import Usage

__all__ = [
    "BatchExecutionResult",
    "ExecutionMetrics",
    "StopReason",
    "TaskResult",
    "build_metrics",
]

StopReason = Literal["interrupted", "budget", "fatal"]


@dataclass(frozen=True, slots=True)
class TaskResult:
    """The outcome of one task.

    `usage` and `cost` add up every attempt the task made (failed attempts included);
    for a task that shared a batched call they are its even share of that call. A
    `resumed` result was restored from the checkpoint journal: its figures are the ones
    recorded when it originally ran, and nothing was paid for it in this run.
    """

    task_id: str
    success: bool
    result: Any = None
    error: str | None = None
    attempts: int = 0
    execution_time: float = 0.0
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    cost_is_estimate: bool = False
    resumed: bool = False
    cached: bool = False  # answered from the response cache: nothing was paid for it


@dataclass(frozen=True, slots=True)
class ExecutionMetrics:
    """Totals of one batch run.

    Counts: `completed_tasks` succeeded (resumed ones included), `failed_tasks` failed for
    good, tasks that did not finish because the run stopped are in neither. Cost and
    tokens are what THIS run spent, every attempt included; resumed tasks add nothing.
    Task times cover tasks that ran in this run; `throughput` is those tasks per second
    of the run's wall time (`elapsed`).
    """

    total_tasks: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0
    retried_tasks: int = 0
    throughput: float = 0.0
    avg_task_time: float = 0.0
    min_task_time: float = 0.0
    max_task_time: float = 0.0
    total_cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    rate_limit_wait_s: float = 0.0
    resumed_tasks: int = 0
    cost_is_estimate: bool = False
    attempts: int = 0
    elapsed: float = 0.0
    cached_tasks: int = 0  # answered from the response cache in this run


@dataclass
class BatchExecutionResult:
    """Everything `ParallelLLMExecutor.execute_batch` returns."""

    task_results: list[TaskResult]
    metrics: ExecutionMetrics
    checkpoint_path: Path | None = None
    stopped: StopReason | None = None
    not_started: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    _by_id: dict[str, TaskResult] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def successful_results(self) -> list[TaskResult]:
        """Tasks that succeeded, in the order given."""
        return [result for result in self.task_results if result.success]

    @property
    def failed_results(self) -> list[TaskResult]:
        """Tasks that failed for good, in the order given (stopped ones excluded)."""
        unfinished = set(self.not_started)
        return [
            result
            for result in self.task_results
            if not result.success and result.task_id not in unfinished
        ]

    @property
    def success_rate(self) -> float:
        """Succeeded tasks as a percentage of all tasks (0.0 for an empty batch)."""
        if not self.task_results:
            return 0.0
        return 100.0 * len(self.successful_results) / len(self.task_results)

    def get_result_by_id(self, task_id: str) -> TaskResult | None:
        """The result of the task with this id, or None when there is no such task."""
        if self._by_id is None:
            self._by_id = {result.task_id: result for result in self.task_results}
        return self._by_id.get(task_id)


def build_metrics(
    results: list[TaskResult],
    *,
    not_started: set[str],
    spent: Usage,
    cost: float,
    cost_is_estimate: bool,
    attempts: int,
    rate_limit_wait_s: float,
    elapsed: float,
) -> ExecutionMetrics:
    """Totals over a finished run's results (one pass, at the end)."""
    completed = failed = retried = resumed = ran = cached = 0
    time_sum = 0.0
    time_min = float("inf")
    time_max = 0.0
    for result in results:
        if result.task_id in not_started:
            continue  # stopped before it finished: neither done nor failed
        if result.success:
            completed += 1
            cached += result.cached
        if result.resumed:
            resumed += 1
            continue
        if result.attempts > 1:
            retried += 1
        if result.attempts > 0:
            ran += 1
            time_sum += result.execution_time
            time_min = min(time_min, result.execution_time)
            time_max = max(time_max, result.execution_time)
        if not result.success:
            failed += 1
    finished_here = completed - resumed + failed
    return ExecutionMetrics(
        total_tasks=len(results),
        completed_tasks=completed,
        failed_tasks=failed,
        retried_tasks=retried,
        throughput=finished_here / elapsed if elapsed > 0 else 0.0,
        avg_task_time=time_sum / ran if ran else 0.0,
        min_task_time=time_min if ran else 0.0,
        max_task_time=time_max,
        total_cost=cost,
        prompt_tokens=spent.prompt_tokens,
        completion_tokens=spent.completion_tokens,
        rate_limit_wait_s=rate_limit_wait_s,
        resumed_tasks=resumed,
        cost_is_estimate=cost_is_estimate,
        attempts=attempts,
        elapsed=elapsed,
        cached_tasks=cached,
    )
