"""The executor's side of the checkpoint journal: opening or resuming one for a batch,
and writing a record per finished task from any worker thread.

Records are written by the worker the moment its task finishes. Once the batch is over
the journal is closed, and a call that is still running past the interrupt grace period
can no longer write into it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aita_cli.errors import CheckpointError, CheckpointLockedError
from aita_cli.execution.checkpoint import CheckpointManager
from aita_cli.execution.journal import CheckpointJournal, JournalRecord, acquire_lock
from aita_cli.execution.results import TaskResult
from aita_cli.execution.tasks import LLMTask, to_jsonable

__all__ = ["BatchJournal", "OpenedJournal", "open_batch_journal"]


class BatchJournal:
    """A thread-safe writer of task records that refuses writes after `close`.

    A write error does not raise in the worker: it is kept in `error`, and the
    scheduler stops the batch and raises it (a run that cannot journal must not go on
    spending money it could not resume).
    """

    def __init__(self, journal: CheckpointJournal) -> None:
        self._journal = journal
        self._lock = threading.Lock()
        self._closed = False
        self._finished = False
        self.error: CheckpointError | None = None

    @property
    def path(self) -> Path:
        return self._journal.path

    def record(self, task: LLMTask | None, task_id: str, result: TaskResult) -> None:
        """Append the record of a finished task (`task` None: no request fingerprint)."""
        fingerprint = _fingerprint(task) if task is not None and result.attempts else ""
        record = _make_record(task_id, fingerprint, result)
        with self._lock:
            if self._closed:
                return
            try:
                self._append(record)
            except CheckpointError as exc:
                self.error = self.error or exc
                self._closed = True

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
        with self._lock:
            if self._finished:
                return
            self._closed = self._finished = True
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


def _fingerprint(task: LLMTask) -> str:
    try:
        return task.fingerprint()
    except Exception:
        return ""  # an unfingerprintable request is never reused on resume


def _make_record(task_id: str, fingerprint: str, result: TaskResult) -> JournalRecord:
    return JournalRecord(
        task_id=task_id,
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
