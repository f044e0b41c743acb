"""Checkpoint journals: round trip, crash safety, corruption, naming, locking."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import orjson
import pytest

from aita_cli.errors import CheckpointError, CheckpointLockedError
from aita_cli.execution.checkpoint import CheckpointManager, JournalRecord
from tests.execution._executor_support import run_script

T0 = datetime(2026, 11, 28, 9, 30, 0)
HEADER = {"assignment": "exam", "operation": "rubric", "tasks": 3}


_DEFAULT = object()


def fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def record(
    task_id: str,
    status: Literal["success", "failed"] = "success",
    result: Any = _DEFAULT,
    **fields: Any,
) -> JournalRecord:
    answer = {"answer": task_id} if result is _DEFAULT else result
    return JournalRecord(task_id, f"fp-{task_id}", status, answer, **fields)


def make_journal(tmp_path: Path, records: list[JournalRecord]) -> Path:
    manager = CheckpointManager(tmp_path)
    with manager.create("exam_rubric", HEADER, now=lambda: T0) as journal:
        for item in records:
            journal.append(item)
        return journal.path


def test_round_trip(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path / "nested" / "dir")
    full = record(
        "q1",
        attempts=2,
        usage={"prompt_tokens": 10, "completion_tokens": 5},
        cost=0.0123,
        cost_is_estimate=True,
        execution_time=1.5,
        finished_at=1764322200.0,
        result={"criteria": [{"points": 2, "text": "é ✓"}]},
    )
    failed = record("q2", "failed", error="ServerError: 503", result=None)
    with manager.create("exam_rubric", HEADER, now=lambda: T0) as journal:
        journal.append(full)
        journal.append(failed)
        journal.finish({"completed": 1, "failed": 1})
    assert journal.path.name == "exam_rubric_20261128_093000.checkpoint.jsonl"
    state = manager.load(journal.path)
    assert state.header == HEADER
    assert state.records == {"q1": full, "q2": failed}
    assert state.successes == {"q1": full}
    assert state.failures == {"q2": failed}
    assert state.finished
    assert state.summary == {"completed": 1, "failed": 1}


def test_each_line_is_one_json_object(tmp_path: Path) -> None:
    path = make_journal(tmp_path, [record("q1"), record("q2")])
    lines = path.read_bytes().splitlines()
    kinds = [orjson.loads(line)["type"] for line in lines]
    assert kinds == ["header", "task", "task"]


def test_unfinished_journal_is_not_finished(tmp_path: Path) -> None:
    state = CheckpointManager(tmp_path).load(make_journal(tmp_path, [record("q1")]))
    assert not state.finished
    assert state.summary is None


def test_later_record_for_the_same_task_wins(tmp_path: Path) -> None:
    path = make_journal(
        tmp_path, [record("q1", "failed", error="boom"), record("q2"), record("q1", attempts=3)]
    )
    state = CheckpointManager(tmp_path).load(path)
    assert state.records["q1"].status == "success"
    assert state.records["q1"].attempts == 3
    assert list(state.failures) == []


def test_torn_last_line_is_ignored_then_cut_on_reopen(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    path = make_journal(tmp_path, [record("q1"), record("q2"), record("q3")])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 25])  # tear q3's line in the middle
    state = manager.load(path)
    assert set(state.records) == {"q1", "q2"}
    with manager.reopen(path) as journal:
        journal.append(record("q3", attempts=2))
    state = manager.load(path)
    assert set(state.records) == {"q1", "q2", "q3"}
    assert state.records["q3"].attempts == 2
    assert all(line.startswith(b"{") for line in path.read_bytes().splitlines())


def test_complete_last_line_missing_its_newline_is_kept(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    path = make_journal(tmp_path, [record("q1"), record("q2")])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    assert set(manager.load(path).records) == {"q1", "q2"}
    with manager.reopen(path) as journal:
        journal.append(record("q3"))
    assert set(manager.load(path).records) == {"q1", "q2", "q3"}


def test_corrupt_middle_line_names_file_and_line(tmp_path: Path) -> None:
    path = make_journal(tmp_path, [record("q1"), record("q2"), record("q3")])
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = b'{"type": "task", "task_id": \n'
    path.write_bytes(b"".join(lines))
    with pytest.raises(CheckpointError, match=r"exam_rubric_20261128_093000.*line 3"):
        CheckpointManager(tmp_path).load(path)


def test_bad_header_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "exam_rubric_20261128_093000.checkpoint.jsonl"
    path.write_bytes(b'{"type": "task", "task_id": "q1"}\n')
    with pytest.raises(CheckpointError, match="line 1"):
        CheckpointManager(tmp_path).load(path)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="no header"):
        CheckpointManager(tmp_path).load(path)


def test_missing_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    with pytest.raises(CheckpointError, match="cannot read"):
        manager.load(tmp_path / "nope.checkpoint.jsonl")
    with pytest.raises(CheckpointError, match="does not exist"):
        manager.reopen(tmp_path / "nope.checkpoint.jsonl")


def test_create_never_overwrites(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    first = manager.create("exam_rubric", HEADER, now=lambda: T0)
    second = manager.create("exam_rubric", HEADER, now=lambda: T0)
    first.close()
    second.close()
    assert first.path.name == "exam_rubric_20261128_093000.checkpoint.jsonl"
    assert second.path.name == "exam_rubric_20261128_093001.checkpoint.jsonl"


def test_invalid_name_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="invalid checkpoint name"):
        CheckpointManager(tmp_path).create("../escape", HEADER)


def test_find_latest_matches_the_exact_name(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    assert manager.find_latest_checkpoint("exam_rubric") is None
    created = {}
    for name, moment in [
        ("exam_rubric", datetime(2026, 1, 1, 8, 0, 0)),
        ("exam_rubric", datetime(2026, 1, 2, 8, 0, 0)),
        ("exam_rubric_v2", datetime(2026, 1, 3, 8, 0, 0)),
        ("exam", datetime(2026, 1, 4, 8, 0, 0)),
        ("my_exam_rubric", datetime(2026, 1, 5, 8, 0, 0)),
    ]:
        manager.create(name, HEADER, now=fixed(moment)).close()
        created[name, moment.day] = tmp_path / f"{name}_{moment:%Y%m%d_%H%M%S}.checkpoint.jsonl"
    (tmp_path / "exam_rubric_notes.txt").write_text("ignored")
    assert manager.find_latest_checkpoint("exam_rubric") == created["exam_rubric", 2]
    assert manager.find_latest_checkpoint("exam_rubric_v2") == created["exam_rubric_v2", 3]
    assert manager.find_latest_checkpoint("exam") == created["exam", 4]
    assert manager.find_latest_checkpoint("rubric") is None


def test_append_after_close_is_an_error(tmp_path: Path) -> None:
    journal = CheckpointManager(tmp_path).create("exam_rubric", HEADER, now=lambda: T0)
    journal.close()
    journal.close()  # idempotent
    with pytest.raises(CheckpointError, match="closed"):
        journal.append(record("q1"))


def test_unserialisable_result_is_a_clear_error(tmp_path: Path) -> None:
    with (
        CheckpointManager(tmp_path).create("exam_rubric", HEADER, now=lambda: T0) as journal,
        pytest.raises(CheckpointError, match="q1"),
    ):
        journal.append(record("q1", result={"value": object()}))


def test_concurrent_appends_from_threads_keep_every_line_whole(tmp_path: Path) -> None:
    import threading

    manager = CheckpointManager(tmp_path)
    with manager.create("exam_rubric", HEADER, fsync_interval=50, now=lambda: T0) as journal:

        def worker(prefix: str) -> None:
            for number in range(200):
                journal.append(record(f"{prefix}{number}", result="x" * 500))

        threads = [threading.Thread(target=worker, args=(p,)) for p in "abcd"]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(manager.load(journal.path).records) == 800


def test_second_process_cannot_open_a_locked_journal(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    path = make_journal(tmp_path, [record("q1")])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from filelock import FileLock;"
            f"lock = FileLock({str(path) + '.lock'!r}, timeout=5); lock.acquire();"
            "print('locked', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"locked"
        with pytest.raises(CheckpointLockedError, match="in use by another aita process"):
            manager.reopen(path)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=10)
    # Once the other process is gone, the journal opens.
    manager.reopen(path).close()


def test_journal_is_locked_while_open(tmp_path: Path) -> None:
    manager = CheckpointManager(tmp_path)
    with (
        manager.create("exam_rubric", HEADER, now=lambda: T0) as journal,
        pytest.raises(CheckpointLockedError),
    ):
        manager.reopen(journal.path)
    manager.reopen(journal.path).close()


def test_kill_9_after_appends_loses_no_record(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import sys, time
        from datetime import datetime
        from aita_cli.execution.checkpoint import CheckpointManager, JournalRecord
        journal = CheckpointManager({str(tmp_path)!r}).create(
            "exam_rubric", {{}}, fsync_interval=1000, now=lambda: datetime(2026, 1, 1))
        for number in range(25):
            journal.append(JournalRecord(f"q{{number}}", "fp", "success", result=number))
        print(journal.path, flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    assert child.stdout is not None
    path = Path(child.stdout.readline().decode().strip())
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    manager = CheckpointManager(tmp_path)
    state = manager.load(path)
    assert [state.records[f"q{n}"].result for n in range(25)] == list(range(25))
    manager.reopen(path).close()  # the dead process's lock went with it


def test_a_header_that_cannot_be_written_leaves_no_journal_behind(tmp_path: Path) -> None:
    # A full disk, simulated by a file size limit: the header is written in part and
    # then fails. The torn file must not become the newest journal that --resume picks.
    script = textwrap.dedent(
        f"""
        import resource, signal
        from datetime import datetime
        from aita_cli.errors import CheckpointError
        from aita_cli.execution.checkpoint import CheckpointManager
        manager = CheckpointManager({str(tmp_path)!r})
        older = manager.create("exam_rubric", {{}}, now=lambda: datetime(2026, 1, 1))
        older.close()
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
        try:
            manager.create("exam_rubric", {{"pad": "x" * 8000}}, now=lambda: datetime(2026, 1, 2))
        except CheckpointError as exc:
            print("refused:", exc)
        print(manager.find_latest_checkpoint("exam_rubric") == older.path)
        """
    )
    stdout = run_script(script)
    assert stdout.startswith("refused: cannot write checkpoint"), stdout
    assert stdout.splitlines()[-1] == "True"
    assert len(list(tmp_path.glob("*.checkpoint.jsonl"))) == 1
