"""The dependency graph of one batch, checked before anything runs.

Task ids must be unique, dependencies must name tasks of the same batch, and there must
be no cycle; otherwise the batch is rejected with an `InputError` that names the
offending ids. Everything here is O(tasks + dependencies).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from aita_cli.errors import InputError
from aita_cli.execution.tasks import LLMTask

__all__ = ["TaskGraph"]


@dataclass(frozen=True, slots=True)
class TaskGraph:
    """Positions of tasks, and for each task the positions that wait for it."""

    index_of: dict[str, int]
    dependents: list[list[int]]
    dependency_counts: list[int]

    @classmethod
    def build(cls, tasks: Sequence[LLMTask]) -> TaskGraph:
        """Check the batch and index it, or raise InputError."""
        index_of: dict[str, int] = {}
        for position, task in enumerate(tasks):
            if task.task_id in index_of:
                raise InputError(f"task id {task.task_id!r} appears more than once in the batch")
            index_of[task.task_id] = position
        dependents: list[list[int]] = [[] for _ in tasks]
        counts = [0] * len(tasks)
        for position, task in enumerate(tasks):
            for dependency in dict.fromkeys(task.dependencies):  # ignore repeats
                if dependency not in index_of:
                    raise InputError(
                        f"task {task.task_id!r} depends on {dependency!r}, "
                        "which is not in the batch"
                    )
                dependents[index_of[dependency]].append(position)
                counts[position] += 1
        graph = cls(index_of, dependents, counts)
        graph._check_acyclic(tasks)
        return graph

    def _check_acyclic(self, tasks: Sequence[LLMTask]) -> None:
        remaining = list(self.dependency_counts)
        ready = deque(position for position, count in enumerate(remaining) if count == 0)
        seen = 0
        while ready:
            position = ready.popleft()
            seen += 1
            for dependent in self.dependents[position]:
                remaining[dependent] -= 1
                if remaining[dependent] == 0:
                    ready.append(dependent)
        if seen < len(tasks):
            stuck = [tasks[p].task_id for p, count in enumerate(remaining) if count > 0]
            shown = ", ".join(repr(task_id) for task_id in stuck[:5])
            more = f" and {len(stuck) - 5} more" if len(stuck) > 5 else ""
            raise InputError(f"the task dependencies form a cycle involving {shown}{more}")
