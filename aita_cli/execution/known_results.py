"""Results a task has without a call: answered once its dependencies are in
(`LLMTask.answer_without_call`), or restored from its journaled success on resume."""

from __future__ import annotations

from aita_cli.execution.batch_journal import resumed_result
from aita_cli.execution.journal import JournalRecord
from aita_cli.execution.results import TaskResult
from aita_cli.execution.tasks import LLMTask

__all__ = ["CHANGED", "answered_without_call", "reuse_record"]


def answered_without_call(task: LLMTask, *, journaling: bool) -> tuple[TaskResult, str] | None:
    """The result a task knows without a call and the fingerprint to journal it by (so
    a resume restores it like any other success), or None when a call is needed. A
    hook that raises is the task's failure."""
    try:
        result = task.answer_without_call()
        if result is None:
            return None
        task.on_success(result)
        fingerprint = task.fingerprint() if journaling else ""
    except Exception as error:
        return TaskResult(task.task_id, False, error=str(error)), ""
    return TaskResult(task.task_id, True, result=result), fingerprint


CHANGED = "changed"  # what `reuse_record` says of a record whose request changed since


def reuse_record(task: LLMTask, record: JournalRecord) -> TaskResult | str | None:
    """The journaled success rebuilt for `task` (its `on_success` hook run), `CHANGED`
    when the task's request is not the recorded one any more, or None when the record
    cannot be used (the task then simply runs again)."""
    try:
        if task.fingerprint() != record.fingerprint:
            return CHANGED
        result = task.restore_result(record.result)
        task.on_success(result)
    except Exception:
        return None
    return resumed_result(record, result)
