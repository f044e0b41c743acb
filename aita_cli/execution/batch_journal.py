"""The executor's side of the checkpoint journal: opening or resuming one for a batch,
and writing a record per finished task.

Records are written by the batch's scheduler, in the thread that runs the batch, the
moment it handles a finished task; workers never write. So the writer needs no lock, and
once the batch has returned nothing writes into the journal any more (a call abandoned
after the interrupt grace period has its outcome dropped, not journaled).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aita_cli.errors import CheckpointError, CheckpointLockedError
from aita_cli.execution.checkpoint import CheckpointManager
from aita_cli.execution.journal import CheckpointJournal, JournalRecord, acquire_lock
from aita_cli.execution.results import TaskResult
from aita_cli.execution.tasks import to_jsonable
from aita_cli.usage import Usage

__all__ = ["BatchJournal", "OpenedJournal", "open_batch_journal", "resumed_result"]


class BatchJournal:
    """The writer of one batch's task records, used from the batch's own thread only.

    A write error does not raise: it is kept in `error` and nothing more is written;
    the scheduler stops the batch and the executor raises it (a run that cannot journal
    must not go on spending money it could not resume).
    """

    def __init__(self, journal: CheckpointJournal) -> None:
        self._journal = journal
        self._finished = False
        self.error: CheckpointError | None = None

    @property
    def path(self) -> Path:
        return self._journal.path

    def record(self, result: TaskResult, fingerprint: str = "") -> None:
        """Append the record of a finished task; `fingerprint` identifies its request
        ("" when it has none: such a success is never reused)."""
        if self.error is not None:
            return  # after the first error the journal is not trusted any more
        try:
            self._append(_make_record(fingerprint, result))
        except CheckpointError as exc:
            self.error = exc

    def _append(self, record: JournalRecord) -> None:
        try:
            self._journal.append(record)
        except CheckpointError as exc:
            if not isinstance(exc.__cause__, TypeError):
                raise
            # The result is not JSON: keep the task out of the resumable successes.
            self._journal.append(
                JournalRecord(
                    task_id=record.task_id,
                    fingerprint=record.fingerprint,
                    status="failed",
                    attempts=record.attempts,
                    usage=record.usage,
                    cost=record.cost,
                    cost_is_estimate=record.cost_is_estimate,
                    error=str(exc),
                    execution_time=record.execution_time,
                    finished_at=record.finished_at,
                )
            )

    def finish_and_close(self, summary: dict[str, Any]) -> None:
        """Write the end record, fsync and release the lock. Idempotent."""
        if self._finished:
            return
        self._finished = True
        try:
            if self.error is None:
                self._journal.finish(summary)
        except CheckpointError as exc:
            self.error = exc
        finally:
            try:
                self._journal.close()
            except CheckpointError as exc:
                self.error = self.error or exc


def _make_record(fingerprint: str, result: TaskResult) -> JournalRecord:
    return JournalRecord(
        task_id=result.task_id,
        fingerprint=fingerprint,
        status="success" if result.success else "failed",
        result=to_jsonable(result.result) if result.success else None,
        attempts=result.attempts,
        usage=result.usage.to_dict(),
        cost=result.cost,
        cost_is_estimate=result.cost_is_estimate,
        error=result.error,
        execution_time=result.execution_time,
        finished_at=time.time(),
    )


def resumed_result(record: JournalRecord, result: Any) -> TaskResult:
    """A task's result reused from its journaled success (`result` rebuilt by the task):
    the figures are the ones recorded when it ran."""
    return TaskResult(
        task_id=record.task_id,
        success=True,
        result=result,
        attempts=record.attempts,
        execution_time=record.execution_time,
        usage=Usage.from_dict(record.usage),
        cost=record.cost,
        cost_is_estimate=record.cost_is_estimate,
        resumed=True,
    )


@dataclass
class OpenedJournal:
    """A batch's journal, the successes it may reuse, and what to tell the user."""

    journal: BatchJournal | None  # None when checkpointing is off or the batch is unnamed
    reusable: dict[str, JournalRecord] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def open_batch_journal(
    manager: CheckpointManager,
    name: str,
    *,
    resume: bool,
    header: dict[str, Any],
    fsync_interval: int,
) -> OpenedJournal:
    """Resume the latest journal called `name`, or start a new one.

    Without `resume`, an existing unfinished journal of that name is pointed out.
    """
    latest = manager.find_latest_checkpoint(name)
    if resume and latest is not None:
        # Lock first, then read: a process that held the journal until just now may have
        # appended records after an unlocked read, and their tasks would be paid again.
        journal = manager.reopen(latest, fsync_interval=fsync_interval)
        try:
            state = manager.load(latest)
        except BaseException:
            journal.close()
            raise
        earlier = _earlier_successes(manager, name, latest)
        reusable = {**earlier, **state.successes}
        notice = (
            f"resuming checkpoint {latest.name}: {len(state.successes)} finished "
            f"task(s) recorded, {len(state.failures)} failed task(s) will run again"
        )
        if len(reusable) > len(state.successes):
            notice += (
                f"; {len(reusable) - len(state.successes)} more finished in earlier "
                "checkpoints are reused too"
            )
        return OpenedJournal(BatchJournal(journal), reusable, [notice])
    notices: list[str] = []
    if resume:
        notices.append(f"no checkpoint named {name!r} to resume; starting a new one")
    elif latest is not None and _in_use(latest):
        notices.append(
            f"checkpoint {latest.name} is in use by another aita process; this run keeps its own"
        )
    elif latest is not None and _unfinished(manager, latest):
        notices.append(f"an unfinished checkpoint {latest.name} exists; resume it with --resume")
    journal = manager.create(name, header, fsync_interval=fsync_interval)
    return OpenedJournal(BatchJournal(journal), {}, notices)


def _earlier_successes(
    manager: CheckpointManager, name: str, latest: Path
) -> dict[str, JournalRecord]:
    """Successes in older journals of this name, newest last so it wins.

    A run started without --resume after a stop (or on other students) leaves the
    earlier journal behind; its paid-for work must not be paid again by a later resume.
    The fingerprint check still decides, task by task, whether a record is reusable.
    """
    merged: dict[str, JournalRecord] = {}
    for path in manager.journals_named(name):
        if path == latest:
            continue
        try:
            merged.update(manager.load(path).successes)
        except CheckpointError:
            continue  # a damaged old journal only loses its own records
    return merged


def _in_use(path: Path) -> bool:
    """Whether another process holds the journal's lock (it is running right now)."""
    try:
        acquire_lock(path).release()
    except CheckpointLockedError:
        return True
    except CheckpointError:
        return False
    return False


def _unfinished(manager: CheckpointManager, path: Path) -> bool:
    try:
        state = manager.load(path)
    except CheckpointError:
        return False  # unreadable: nothing a --resume could use
    stopped = bool(state.summary and state.summary.get("stopped"))
    return not state.finished or stopped or bool(state.failures)
