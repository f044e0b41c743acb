"""Finding, reading, creating and reopening checkpoint journals.

A journal lives at ``<checkpoint_dir>/<name>_<YYYYmmdd_HHMMSS>.checkpoint.jsonl`` where
the caller's name is ``<assignment>_<operation>``. The file format and the open journal
are in `aita_cli.execution.journal`; this module manages files: it never overwrites a
journal, tolerates a torn last line (a crash mid-write), refuses a damaged middle, and
lets only one process write a journal at a time (a lock file next to it).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson

from aita_cli.errors import CheckpointError, CheckpointLockedError
from aita_cli.execution.journal import (
    FORMAT_VERSION,
    CheckpointJournal,
    JournalRecord,
    JournalState,
    acquire_lock,
    header_line,
    write_all,
)

# The journal and its records are re-exported: `create` and `reopen` hand them out.
__all__ = ["CheckpointJournal", "CheckpointManager", "JournalRecord"]

SUFFIX = ".checkpoint.jsonl"
STAMP_FORMAT = "%Y%m%d_%H%M%S"
_FILENAME = re.compile(r"^(?P<name>.+)_(?P<stamp>\d{8}_\d{6})" + re.escape(SUFFIX) + "$")
_TAIL_CHUNK = 64 * 1024
_MAX_NAME_BUMPS = 3600


def checkpoint_filename(name: str, created: datetime) -> str:
    """``<name>_<YYYYmmdd_HHMMSS>.checkpoint.jsonl``."""
    return f"{name}_{created.strftime(STAMP_FORMAT)}{SUFFIX}"


class CheckpointManager:
    """Journals under one directory."""

    def __init__(self, checkpoint_dir: Path | str) -> None:
        self.checkpoint_dir = Path(checkpoint_dir)

    def find_latest_checkpoint(self, name: str) -> Path | None:
        """The newest journal for exactly `name` ("exam_rubric" never matches
        "exam_rubric_v2"), or None."""
        journals = self.journals_named(name)
        return journals[-1] if journals else None

    def journals_named(self, name: str) -> list[Path]:
        """Every journal for exactly `name`, oldest first."""
        candidates = [
            (match["stamp"], path) for path, match in self._journal_files() if match["name"] == name
        ]
        return [path for _, path in sorted(candidates)]

    def load(self, path: Path) -> JournalState:
        """Read a whole journal. A torn last line is ignored; a bad header or a bad line
        before the last raises `CheckpointError` naming the file and line."""
        try:
            with open(path, "rb") as stream:
                return _read_journal(path, stream)
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint {path}: {exc.strerror or exc}") from exc

    def create(
        self,
        name: str,
        header: dict[str, Any],
        fsync_interval: int = 10,
        now: Callable[[], datetime] = datetime.now,
    ) -> CheckpointJournal:
        """Start a new locked journal for `name` and write its header (fsynced).

        Never overwrites: when a file for the same second exists, the timestamp moves on
        a second until the name is free.
        """
        _check_name(name)
        try:
            self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CheckpointError(
                f"cannot create checkpoint directory {self.checkpoint_dir}: {exc.strerror or exc}"
            ) from exc
        created = now().replace(microsecond=0)
        for bump in range(_MAX_NAME_BUMPS):
            stamp = created + timedelta(seconds=bump)
            journal = self._try_create(
                self.checkpoint_dir / checkpoint_filename(name, stamp),
                header,
                stamp,
                fsync_interval,
            )
            if journal is not None:
                return journal
        raise CheckpointError(f"no free checkpoint file name for {name!r} in {self.checkpoint_dir}")

    def reopen(self, path: Path, fsync_interval: int = 10) -> CheckpointJournal:
        """Lock an existing journal for appending (``--resume``). A torn last line is cut
        off first, so new records start on a clean line."""
        if not path.is_file():
            raise CheckpointError(f"checkpoint {path} does not exist")
        lock = acquire_lock(path)
        try:
            _repair_tail(path)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
            return CheckpointJournal(path, fd, lock, fsync_interval)
        except OSError as exc:
            lock.release()
            raise CheckpointError(f"cannot open checkpoint {path}: {exc.strerror or exc}") from exc
        except BaseException:
            lock.release()
            raise

    def _try_create(
        self, path: Path, header: dict[str, Any], created: datetime, fsync_interval: int
    ) -> CheckpointJournal | None:
        """Create and lock `path`, or None when that name is taken."""
        line = header_line(header, created.isoformat())
        if path.exists():
            return None
        try:
            lock = acquire_lock(path)
        except CheckpointLockedError:  # another process is creating this very name
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            lock.release()
            return None
        except OSError as exc:
            lock.release()
            raise CheckpointError(
                f"cannot create checkpoint {path}: {exc.strerror or exc}"
            ) from exc
        try:
            write_all(fd, line)
            os.fsync(fd)
            _fsync_directory(path.parent)
        except OSError as exc:
            os.close(fd)
            # A torn header would be the newest journal of this name, and --resume
            # would then refuse it as damaged instead of using the previous one.
            with contextlib.suppress(OSError):
                path.unlink()
            lock.release()
            raise CheckpointError(f"cannot write checkpoint {path}: {exc.strerror or exc}") from exc
        return CheckpointJournal(path, fd, lock, fsync_interval)

    def _journal_files(self) -> Iterator[tuple[Path, re.Match[str]]]:
        if not self.checkpoint_dir.is_dir():
            return
        for path in self.checkpoint_dir.iterdir():
            match = _FILENAME.match(path.name)
            if match is not None and path.is_file():
                yield path, match


def _check_name(name: str) -> None:
    if not name or name in {".", ".."} or "/" in name or "\\" in name or "\0" in name:
        raise CheckpointError(f"invalid checkpoint name {name!r}: use letters, digits, _ and -")


def _read_journal(path: Path, stream: IO[bytes]) -> JournalState:
    """Parse a journal; a bad line is only forgiven when nothing but blanks follows it."""
    state: JournalState | None = None
    bad_line: tuple[int, str] | None = None
    for number, raw in enumerate(stream, start=1):
        if not raw.strip():
            continue
        if bad_line is not None:
            raise _corrupt(path, *bad_line)
        try:
            entry = orjson.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError("a line must be a JSON object")
            if state is None:
                state = _parse_header(path, entry)
            else:
                _apply_entry(state, entry)
        except (ValueError, TypeError) as exc:
            if state is None:
                raise _corrupt(path, number, f"bad header: {exc}") from exc
            bad_line = (number, str(exc))
    if state is None:
        raise CheckpointError(f"checkpoint {path} is empty: it has no header line")
    return state


def _parse_header(path: Path, entry: dict[str, Any]) -> JournalState:
    if entry.get("type") != "header" or not isinstance(entry.get("header"), dict):
        raise ValueError("the first line is not a journal header")
    version = entry.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"unsupported journal version {version!r} (this aita reads 1)")
    return JournalState(path=path, header=entry["header"])


def _apply_entry(state: JournalState, entry: dict[str, Any]) -> None:
    kind = entry.get("type")
    if kind == "task":
        record = JournalRecord.from_dict(entry)
        state.records[record.task_id] = record
        state.finished = False
    elif kind == "end":
        summary = entry.get("summary")
        state.summary = summary if isinstance(summary, dict) else {}
        state.finished = True
    else:
        raise ValueError(f"unexpected line type {kind!r}")


def _corrupt(path: Path, line: int, reason: str) -> CheckpointError:
    return CheckpointError(
        f"checkpoint {path} is damaged at line {line} ({reason}); "
        "move it aside to start over without resuming"
    )


def _repair_tail(path: Path) -> None:
    """Make the file end on a complete line: cut a torn last line, or end a complete
    last line that lost only its newline."""
    with open(path, "r+b") as stream:
        size = stream.seek(0, os.SEEK_END)
        if size == 0:
            raise CheckpointError(f"checkpoint {path} is empty: it has no header line")
        stream.seek(size - 1)
        if stream.read(1) == b"\n":
            return
        start = _last_line_start(stream, size)
        stream.seek(start)
        try:
            complete = isinstance(orjson.loads(stream.read()), dict)
        except orjson.JSONDecodeError:
            complete = False
        if complete:
            stream.seek(0, os.SEEK_END)
            stream.write(b"\n")
        elif start == 0:
            raise _corrupt(path, 1, "bad header: the only line is incomplete")
        else:
            stream.truncate(start)
        stream.flush()
        os.fsync(stream.fileno())


def _last_line_start(stream: IO[bytes], size: int) -> int:
    """Offset just after the last newline (0 when there is none), read backwards."""
    end = size
    while end > 0:
        begin = max(0, end - _TAIL_CHUNK)
        stream.seek(begin)
        chunk = stream.read(end - begin)
        newline = chunk.rfind(b"\n")
        if newline >= 0:
            return begin + newline + 1
        end = begin
    return 0


def _fsync_directory(directory: Path) -> None:
    """Make a new file's directory entry durable too (best effort: not every OS can)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
