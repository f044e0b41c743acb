"""open_run: settings, client and executor for one run; the offline backend's pacing;
OutcomeBuilder: every run's exit code, resume hint and time, alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aita_cli.cli.options import RunOptions
from aita_cli.execution.results import BatchExecutionResult, ExecutionMetrics, TaskResult
from aita_cli.pipelines.outcome import RunOutcome
from aita_cli.pipelines.runner import OutcomeBuilder, open_run, resume_command
from aita_cli.simulate.scripted import ScriptedLLMClient
from tests.pipelines.rubric_support import isolate_environment, write_exam


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("AITA_RATE_LIMIT_RPS")  # the user set no rate
    monkeypatch.setenv("AITA_PROVIDER", "offline")
    write_exam(tmp_path / "data")


def _rate(options: RunOptions, client: ScriptedLLMClient | None = None) -> float:
    with open_run(options, client=client) as context:
        return context.executor.rate_limiter.rate


def test_offline_runs_unlimited_when_no_rate_was_given() -> None:
    assert _rate(RunOptions(assignment="exam1")) == 0.0


def test_offline_honours_a_rate_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITA_RATE_LIMIT_RPS", "3")
    assert _rate(RunOptions(assignment="exam1")) == 3.0


def test_offline_honours_a_rate_from_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("AITA_RATE_LIMIT_RPS=4\n", encoding="utf-8")
    assert _rate(RunOptions(assignment="exam1")) == 4.0


def test_offline_honours_the_rate_limit_flag() -> None:
    assert _rate(RunOptions(assignment="exam1", rate_limit=2.5)) == 2.5


def test_a_remote_client_keeps_the_default_rate() -> None:
    assert _rate(RunOptions(assignment="exam1"), ScriptedLLMClient(lambda m, p: "{}")) == 10.0


def _workers(options: RunOptions, client: ScriptedLLMClient | None = None) -> int:
    with open_run(options, client=client) as context:
        return context.executor.max_workers


def test_offline_uses_two_workers_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AITA_MAX_WORKERS", raising=False)
    assert _workers(RunOptions(assignment="exam1")) == 2
    assert _workers(RunOptions(assignment="exam1", workers=6)) == 6
    monkeypatch.setenv("AITA_MAX_WORKERS", "4")
    assert _workers(RunOptions(assignment="exam1")) == 4


def test_a_remote_client_keeps_the_default_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AITA_MAX_WORKERS", raising=False)
    assert _workers(RunOptions(assignment="exam1"), ScriptedLLMClient(lambda m, p: "{}")) == 5


def test_resume_hint_repeats_what_decides_where_and_how_the_run_went() -> None:
    options = RunOptions(
        assignment="mid term", data_dir=Path("/srv/exams"), provider="openai", model="m-1"
    )
    assert resume_command("generate-rubric", options) == (
        "aita generate-rubric --assignment 'mid term' --data-dir /srv/exams "
        "--provider openai --model m-1 --resume"
    )
    assert resume_command("transcribe", RunOptions(assignment="x")) == (
        "aita transcribe --assignment x --resume"
    )


def _batch(*results: TaskResult, **fields: Any) -> BatchExecutionResult:
    return BatchExecutionResult(list(results), ExecutionMetrics(), **fields)


def _built(
    batch: BatchExecutionResult | None, resume_args: tuple[str, ...] = (), **build: Any
) -> RunOutcome[str]:
    ticks = iter([10.0, 12.5])  # the run starts at 10 s and ends at 12.5 s
    outcome = OutcomeBuilder("transcribe", resume_args=resume_args, clock=lambda: next(ticks))
    with open_run(RunOptions(assignment="exam1")) as context:
        return outcome.build(context, "detail", batch=batch, **build)


def test_a_clean_batch_exits_0_with_its_notices_after_the_pipelines() -> None:
    batch = _batch(TaskResult("a", True, attempts=1), notices=["from the batch"])
    outcome = _built(batch, notices=["from the pipeline"], outputs=[Path("x.json")])
    assert (outcome.exit_code, outcome.resume_hint) == (0, None)
    assert outcome.notices == ["from the pipeline", "from the batch"]
    assert outcome.elapsed_s == 2.5
    assert (outcome.detail, outcome.exam_name) == ("detail", "Science Quiz")
    assert outcome.outputs == [Path("x.json")]
    assert (outcome.tasks_done, outcome.tasks_total) == (1, 1)


def test_a_failed_task_exits_1_and_resuming_repeats_the_commands_own_options() -> None:
    batch = _batch(TaskResult("a", True), TaskResult("b", False, error="bad reply"))
    outcome = _built(batch, resume_args=("--student", "alice"))
    assert outcome.exit_code == 1
    assert outcome.resume_hint == "aita transcribe --assignment exam1 --resume --student alice"


def test_a_budget_stop_exits_3_and_lists_what_did_not_start() -> None:
    not_run = TaskResult("b", False, error="not finished")
    outcome = _built(_batch(TaskResult("a", True), not_run, stopped="budget", not_started=["b"]))
    assert (outcome.exit_code, outcome.stopped, outcome.not_started) == (3, "budget", ["b"])
    assert outcome.resume_hint == "aita transcribe --assignment exam1 --resume"


def test_a_failure_outside_the_batch_exits_1_with_nothing_to_resume() -> None:
    outcome = _built(None, failed=True)
    assert (outcome.exit_code, outcome.resume_hint, outcome.tasks_total) == (1, None, 0)
