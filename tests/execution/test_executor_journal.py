"""The journal through the executor: crash safety, resume, re-runs, locking, notices."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest
from filelock import FileLock

from aita_cli import __version__
from aita_cli.errors import BadRequestError, CheckpointLockedError
from aita_cli.execution.batch_journal import open_batch_journal
from aita_cli.execution.checkpoint import CheckpointJournal, CheckpointManager, JournalRecord
from aita_cli.execution.results import BatchExecutionResult
from aita_cli.execution.tasks import LLMTask, SimpleLLMTask
from aita_cli.simulate.scripted import ScriptedLLMClient
from tests.execution._executor_support import (
    CountingTask,
    DependentTask,
    journal_lines,
    make_executor,
    number_tasks,
    run_script,
)

NAME = "exam1_rubric"


def run(
    tmp_path: Path, tasks: Sequence[LLMTask], client: ScriptedLLMClient, resume: bool = False
) -> BatchExecutionResult:
    with make_executor(client, tmp_path, checkpoint_interval=2) as executor:
        return executor.execute_batch(tasks, checkpoint_name=NAME, resume_from_checkpoint=resume)


def test_every_finished_task_is_journaled(tmp_path: Path) -> None:
    result = run(tmp_path, number_tasks(5), ScriptedLLMClient(lambda m, p: "3", cost=0.01))
    assert result.checkpoint_path is not None
    assert result.checkpoint_path.name.startswith(f"{NAME}_")
    lines = journal_lines(result.checkpoint_path)
    assert lines[0]["type"] == "header"
    assert lines[0]["created"]
    assert lines[0]["header"] == {"name": NAME, "aita_version": __version__, "total_tasks": 5}
    assert sorted(line["task_id"] for line in lines[1:-1]) == [f"t{i}" for i in range(5)]
    assert all(line["result"] == 3 and line["cost"] == 0.01 for line in lines[1:-1])
    assert lines[-1]["type"] == "end"
    assert lines[-1]["summary"]["succeeded"] == 5


def test_resume_after_a_crash_runs_only_what_is_missing(tmp_path: Path) -> None:
    first = run(tmp_path, number_tasks(6), ScriptedLLMClient(lambda m, p: "3"))
    path = first.checkpoint_path
    assert path is not None
    # Simulate a crash: no end record, the last two records lost, the one before torn.
    lines = path.read_bytes().splitlines(keepends=True)
    kept, torn = lines[:4], lines[4]
    path.write_bytes(b"".join(kept) + torn[: len(torn) // 2])
    survived = {line["task_id"] for line in journal_lines_safe(path)}
    assert len(survived) == 3

    client = ScriptedLLMClient(lambda m, p: "4")
    tasks = [CountingTask(f"t{i}", f"t{i}") for i in range(6)]
    second = run(tmp_path, tasks, client, resume=True)

    ran = {call.key for call in client.calls}
    assert ran == {f"t{i}" for i in range(6)} - survived
    for task, outcome in zip(tasks, second.task_results, strict=True):
        assert outcome.success
        assert outcome.resumed == (task.task_id in survived)
        assert task.successes == [outcome.result]  # on_success also for resumed ones
    assert second.metrics.resumed_tasks == 3
    assert second.checkpoint_path == path
    assert any("resuming checkpoint" in notice for notice in second.notices)
    state = CheckpointManager(tmp_path).load(path)
    assert len(state.successes) == 6
    assert state.finished


def journal_lines_safe(path: Path) -> list[dict[str, object]]:
    state = CheckpointManager(path.parent).load(path)
    return [{"task_id": task_id} for task_id in state.records]


def test_resume_reuses_successes_from_earlier_journals_too(tmp_path: Path) -> None:
    # Alice's pages, then (without --resume) Bob's, then a resume of everything: the
    # newest journal holds only Bob's work, but Alice's was paid for as well.
    run(tmp_path, number_tasks(2, prefix="alice"), ScriptedLLMClient(lambda m, p: "1"))
    run(tmp_path, number_tasks(2, prefix="bob"), ScriptedLLMClient(lambda m, p: "1"))
    again = ScriptedLLMClient(lambda m, p: "1")
    everyone = number_tasks(2, prefix="alice") + number_tasks(2, prefix="bob")
    result = run(tmp_path, everyone, again, resume=True)
    assert again.calls == []
    assert result.success_rate == 100.0
    assert any("2 more finished in earlier checkpoints" in notice for notice in result.notices)


def test_failed_tasks_run_again_on_resume(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t2", BadRequestError("rejected", status_code=400))
    first = run(tmp_path, number_tasks(4), client)
    assert first.metrics.failed_tasks == 1

    again = ScriptedLLMClient(lambda m, p: "1")
    second = run(tmp_path, number_tasks(4), again, resume=True)
    assert [call.key for call in again.calls] == ["t2"]
    assert second.success_rate == 100.0
    assert second.metrics.total_cost == 0.0


def test_a_changed_request_runs_again(tmp_path: Path) -> None:
    run(tmp_path, number_tasks(3), ScriptedLLMClient(lambda m, p: "1"))
    changed = number_tasks(3)
    changed[1] = SimpleLLMTask("t1", "t1 but reworded", int)
    client = ScriptedLLMClient(lambda m, p: "1")
    second = run(tmp_path, changed, client, resume=True)
    assert [call.key for call in client.calls] == ["t1 but reworded"]
    assert not second.task_results[1].resumed
    assert any("changed since the checkpoint" in notice for notice in second.notices)


def test_resumed_dependencies_feed_their_dependents(tmp_path: Path) -> None:
    def tasks() -> list[LLMTask]:
        return [SimpleLLMTask("a", "a", int), DependentTask("b", "b", int, dependencies=["a"])]

    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("b given a=1", BadRequestError("rejected", status_code=400))
    run(tmp_path, tasks(), client)
    again = ScriptedLLMClient(lambda m, p: "1")
    second = run(tmp_path, tasks(), again, resume=True)
    assert [call.key for call in again.calls] == ["b given a=1"]
    assert [r.resumed for r in second.task_results] == [True, False]


def test_a_journal_in_use_is_refused(tmp_path: Path) -> None:
    first = run(tmp_path, number_tasks(2), ScriptedLLMClient(lambda m, p: "1"))
    assert first.checkpoint_path is not None
    holder = FileLock(str(first.checkpoint_path) + ".lock")
    with holder, pytest.raises(CheckpointLockedError, match="in use by another aita process"):
        run(tmp_path, number_tasks(2), ScriptedLLMClient(), resume=True)


def test_an_unfinished_journal_is_pointed_out(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t0", BadRequestError("rejected", status_code=400))
    run(tmp_path, number_tasks(2), client)
    second = run(tmp_path, number_tasks(2), ScriptedLLMClient(lambda m, p: "1"))
    assert any("resume it with --resume" in notice for notice in second.notices)
    assert len(CheckpointManager(tmp_path).journals_named(NAME)) == 2  # a new one was started
    third = run(tmp_path, number_tasks(2), ScriptedLLMClient(lambda m, p: "1"))
    assert third.notices == []  # the latest one finished cleanly


def test_a_journal_another_process_is_writing_is_not_offered_for_resume(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    client.script("t0", BadRequestError("rejected", status_code=400))
    first = run(tmp_path, number_tasks(2), client)
    assert first.checkpoint_path is not None
    with FileLock(str(first.checkpoint_path) + ".lock"):
        second = run(tmp_path, number_tasks(2), ScriptedLLMClient(lambda m, p: "1"))
    assert second.success_rate == 100.0
    assert not any("--resume" in notice for notice in second.notices)
    assert any("in use by another aita process" in notice for notice in second.notices)


def test_resume_without_a_journal_starts_fresh(tmp_path: Path) -> None:
    result = run(tmp_path, number_tasks(2), ScriptedLLMClient(lambda m, p: "1"), resume=True)
    assert result.success_rate == 100.0
    assert any("no checkpoint named" in notice for notice in result.notices)
    assert result.checkpoint_path is not None
    assert result.checkpoint_path.exists()


def test_checkpointing_off_writes_nothing(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(client, tmp_path, enable_checkpointing=False) as executor:
        result = executor.execute_batch(number_tasks(2), checkpoint_name=NAME)
    assert result.checkpoint_path is None
    assert list(tmp_path.iterdir()) == []


def test_resume_with_checkpointing_off_says_there_is_nothing_to_resume(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    with make_executor(client, tmp_path, enable_checkpointing=False) as executor:
        result = executor.execute_batch(
            number_tasks(2), checkpoint_name=NAME, resume_from_checkpoint=True
        )
    assert result.success_rate == 100.0
    assert any("checkpointing is off" in notice for notice in result.notices)


def test_a_result_that_is_not_json_is_journaled_as_failed(tmp_path: Path) -> None:
    client = ScriptedLLMClient(lambda m, p: "1")
    result = run(tmp_path, [SimpleLLMTask("odd", "odd", lambda text: {1, 2})], client)
    assert result.task_results[0].success  # in memory it is fine
    assert result.checkpoint_path is not None
    state = CheckpointManager(tmp_path).load(result.checkpoint_path)
    assert state.failures["odd"].error is not None


class _LateWriterManager(CheckpointManager):
    """A manager whose journal gains a record just before the lock is taken: another
    process finishing its last task and releasing the journal at that moment."""

    def reopen(self, path: Path, fsync_interval: int = 10) -> CheckpointJournal:
        with super().reopen(path, fsync_interval) as other_process:
            other_process.append(JournalRecord("late", "fp-late", "success", result=1))
        return super().reopen(path, fsync_interval)


def test_resume_reads_the_journal_under_its_lock(tmp_path: Path) -> None:
    manager = _LateWriterManager(tmp_path)
    manager.create(NAME, {}).close()
    opened = open_batch_journal(manager, NAME, resume=True, header={}, fsync_interval=1)
    assert opened.journal is not None
    opened.journal.finish_and_close({})
    assert "late" in opened.reusable  # not paid for again


def test_a_journal_write_error_stops_the_batch_and_is_raised(tmp_path: Path) -> None:
    # A full disk, simulated by a file size limit: a run that cannot journal must not
    # go on paying for calls a resume could not reuse.
    script = textwrap.dedent(
        f"""
        import resource, signal
        from aita_cli.errors import CheckpointError
        from aita_cli.execution.executor import ParallelLLMExecutor
        from aita_cli.execution.tasks import SimpleLLMTask
        from aita_cli.simulate.scripted import ScriptedLLMClient
        client = ScriptedLLMClient(lambda m, p: "x" * 1000)
        tasks = [SimpleLLMTask(f"t{{i}}", f"t{{i}}") for i in range(200)]
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))
        with ParallelLLMExecutor(
            client, max_workers=2, rate_limit=0, checkpoint_dir={str(tmp_path)!r},
            show_progress=False,
        ) as executor:
            try:
                executor.execute_batch(tasks, checkpoint_name="exam_rubric")
            except CheckpointError as exc:
                print("raised:", exc)
        print(client.call_count)
        """
    )
    stdout = run_script(script)
    assert stdout.startswith("raised: cannot write checkpoint"), stdout
    assert int(stdout.splitlines()[-1]) < 40  # about 16 records fit; the rest never ran
