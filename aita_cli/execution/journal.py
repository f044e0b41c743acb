"""The checkpoint journal: records, the file format, and an open append-only journal.

One JSON object per line (orjson):

    {"type": "header", "version": 1, "created": "...", "header": {...caller's header}}
    {"type": "task", "task_id": "q1", "fingerprint": "...", "status": "success", ...}
    {"type": "end", "finished_at": 1764291600.0, "summary": {...}}

A record is written with one ``os.write`` on an ``O_APPEND`` descriptor the moment its
task finishes, so it is in the OS's hands before `append` returns: a ``kill -9`` of aita
loses nothing; only a power cut can lose the records written since the last fsync, and
at worst it tears the last line, which reading tolerates.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson
from filelock import FileLock

from aita_cli.errors import CheckpointError, CheckpointLockedError

__all__ = [
    "FORMAT_VERSION",
    "CheckpointJournal",
    "JournalRecord",
    "JournalState",
    "acquire_lock",
    "header_line",
    "write_all",
]

FORMAT_VERSION = 1
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE


@dataclass(frozen=True, slots=True)
class JournalRecord:
    """What the journal keeps about one finished task."""

    task_id: str
    fingerprint: str
    status: Literal["success", "failed"]
    result: Any = None  # JSON data (already converted by the executor)
    attempts: int = 1
    usage: dict[str, int] = field(default_factory=dict)
    cost: float = 0.0
    cost_is_estimate: bool = False
    error: str | None = None
    execution_time: float = 0.0
    finished_at: float = 0.0  # epoch seconds

    @property
    def succeeded(self) -> bool:
        return self.status == "success"

    def to_json_line(self) -> bytes:
        """The record as one journal line, newline included."""
        payload = {
            "type": "task",
            "task_id": self.task_id,
            "fingerprint": self.fingerprint,
            "status": self.status,
            "result": self.result,
            "attempts": self.attempts,
            "usage": self.usage,
            "cost": self.cost,
            "cost_is_estimate": self.cost_is_estimate,
            "error": self.error,
            "execution_time": self.execution_time,
            "finished_at": self.finished_at,
        }
        try:
            return orjson.dumps(payload, option=_DUMP_OPTIONS)
        except orjson.JSONEncodeError as exc:
            raise CheckpointError(
                f"the result of task {self.task_id!r} cannot be journaled as JSON: {exc}"
            ) from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalRecord:
        """Rebuild a record from a parsed journal line; ValueError when it is not one."""
        task_id = data.get("task_id")
        fingerprint = data.get("fingerprint")
        status = data.get("status")
        if not isinstance(task_id, str) or not isinstance(fingerprint, str):
            raise ValueError("a task record needs string task_id and fingerprint")
        if status not in ("success", "failed"):
            raise ValueError(f"unknown task status {status!r}")
        usage = data.get("usage") or {}
        error = data.get("error")
        if not isinstance(usage, dict) or not (error is None or isinstance(error, str)):
            raise ValueError("a task record has a malformed usage or error field")
        return cls(
            task_id=task_id,
            fingerprint=fingerprint,
            status=status,
            result=data.get("result"),
            attempts=int(data.get("attempts", 1)),
            usage={str(key): int(value) for key, value in usage.items()},
            cost=float(data.get("cost", 0.0)),
            cost_is_estimate=bool(data.get("cost_is_estimate", False)),
            error=error,
            execution_time=float(data.get("execution_time", 0.0)),
            finished_at=float(data.get("finished_at", 0.0)),
        )


@dataclass
class JournalState:
    """Everything a journal file holds, as `CheckpointManager.load` reads it."""

    path: Path
    header: dict[str, Any]
    records: dict[str, JournalRecord] = field(default_factory=dict)  # later record wins
    finished: bool = False  # the last line is an end record
    summary: dict[str, Any] | None = None  # the latest end record's payload

    @property
    def successes(self) -> dict[str, JournalRecord]:
        """Tasks whose latest record is a success."""
        return {key: rec for key, rec in self.records.items() if rec.status == "success"}

    @property
    def failures(self) -> dict[str, JournalRecord]:
        """Tasks whose latest record is a failure (they run again on resume)."""
        return {key: rec for key, rec in self.records.items() if rec.status == "failed"}


def header_line(header: dict[str, Any], created: str) -> bytes:
    """The first line of a new journal."""
    payload = {"type": "header", "version": FORMAT_VERSION, "created": created, "header": header}
    try:
        return orjson.dumps(payload, option=_DUMP_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise CheckpointError(f"the checkpoint header cannot be written as JSON: {exc}") from exc


def end_line(summary: dict[str, Any], finished_at: float) -> bytes:
    """The optional last line of a journal whose run finished."""
    payload = {"type": "end", "finished_at": finished_at, "summary": summary}
    try:
        return orjson.dumps(payload, option=_DUMP_OPTIONS)
    except orjson.JSONEncodeError as exc:
        raise CheckpointError(f"the checkpoint summary cannot be written as JSON: {exc}") from exc


def acquire_lock(path: Path) -> FileLock:
    """Take the journal's lock file, or fail at once if another process holds it."""
    lock = FileLock(str(path) + ".lock", timeout=0)
    try:
        lock.acquire()
    except TimeoutError as exc:  # filelock.Timeout subclasses TimeoutError
        raise CheckpointLockedError(
            f"checkpoint {path} is in use by another aita process; wait for it to finish or stop it"
        ) from exc
    except OSError as exc:
        raise CheckpointError(f"cannot lock checkpoint {path}: {exc.strerror or exc}") from exc
    return lock


class CheckpointJournal:
    """An open, locked, append-only journal. Thread-safe; use it as a context manager.

    Created by `CheckpointManager.create` or `CheckpointManager.reopen`, which take the
    lock and hand it over; `close` releases it.
    """

    def __init__(self, path: Path, fd: int, lock: FileLock, fsync_interval: int = 10) -> None:
        if fsync_interval < 1:
            raise ValueError(f"fsync_interval must be at least 1, got {fsync_interval}")
        self.path = path
        self._fd: int | None = fd
        self._lock = lock
        self._fsync_interval = fsync_interval
        self._unsynced = 0
        self._mutex = threading.Lock()

    @property
    def closed(self) -> bool:
        return self._fd is None

    def append(self, record: JournalRecord) -> None:
        """Write one record now; fsync every `fsync_interval` records."""
        self._write(record.to_json_line(), force_sync=False)

    def finish(self, summary: dict[str, Any], finished_at: float | None = None) -> None:
        """Append the end record (stamped now unless `finished_at` is given) and fsync."""
        stamp = time.time() if finished_at is None else finished_at
        self._write(end_line(summary, stamp), force_sync=True)

    def close(self) -> None:
        """fsync, close the file and release the lock. Safe to call twice."""
        with self._mutex:
            if self._fd is None:
                return
            fd, self._fd = self._fd, None
            try:
                self._fsync(fd)
            finally:
                os.close(fd)
                self._lock.release()

    def __enter__(self) -> CheckpointJournal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _write(self, line: bytes, *, force_sync: bool) -> None:
        with self._mutex:
            fd = self._require_open()
            try:
                write_all(fd, line)
            except OSError as exc:
                raise CheckpointError(f"cannot write checkpoint {self.path}: {exc}") from exc
            self._unsynced += 1
            if force_sync or self._unsynced >= self._fsync_interval:
                self._fsync(fd)

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            raise CheckpointError(f"cannot sync checkpoint {self.path}: {exc}") from exc
        self._unsynced = 0

    def _require_open(self) -> int:
        if self._fd is None:
            raise CheckpointError(f"checkpoint {self.path} is already closed")
        return self._fd


def write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a regular file rarely writes short)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
