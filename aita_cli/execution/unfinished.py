"""Results for the tasks a stopped batch left unfinished.

They are not failures: nothing is journaled for them, so a resumed run simply runs them.
Their entry says why they did not finish, and keeps the attempts and cost already spent
when a request of theirs had been made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aita_cli.execution.attempt import Job
from aita_cli.execution.results import StopReason, TaskResult
from aita_cli.execution.tasks import LLMTask

__all__ = ["complete_results"]

_WHY = {
    "interrupted": "the run was interrupted",
    "budget": "the cost budget was reached",
    "fatal": "the run stopped at an error every task would hit",
}


def complete_results(
    tasks: Sequence[LLMTask],
    results: list[TaskResult | None],
    unfinished_jobs: Iterable[Job],
    reason: StopReason | None,
) -> tuple[list[TaskResult], list[str]]:
    """Fill every missing result; return all results and the ids that were missing."""
    started = {position: job for job in unfinished_jobs for position in job.members}
    message = f"not finished: {_WHY.get(reason or '', 'the run stopped')}"
    complete: list[TaskResult] = []
    not_finished: list[str] = []
    for position, result in enumerate(results):
        if result is not None:
            complete.append(result)
            continue
        task_id = tasks[position].task_id
        complete.append(_unfinished_result(task_id, message, started.get(position)))
        not_finished.append(task_id)
    return complete, not_finished


def _unfinished_result(task_id: str, message: str, job: Job | None) -> TaskResult:
    if job is None or job.attempts == 0:
        return TaskResult(task_id, False, error=message)
    return TaskResult(
        task_id,
        False,
        error=message,
        attempts=job.attempts,
        cost=job.cost / len(job.members),
        cost_is_estimate=job.cost_is_estimate,
    )
