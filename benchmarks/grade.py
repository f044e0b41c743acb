"""`make bench`'s grade part: `aita grade` from nothing, streaming, against the three
commands run one after the other.

The assignment: 10 questions (every type, on pages 1-3: 4, 3 and 3 of them) and 30
students with 3 page images each, no rubric, no instructor key. Grading it from nothing
takes 10 answer keys, 10 rubrics (each after its key), 90 page transcriptions and 300
grades (each after its rubric and its student's pages); a student's short items on the
same page share one call.

- streaming: one `run_grade`, one batch with no barrier between stages: a grade starts
  the moment its rubric and its student's pages are done;
- stages: `run_generate_rubric`, then `run_transcribe`, then `run_grade` (which then only
  grades), each waiting for the one before to finish.

Both run at 10 workers against `aita simulate` in its own process with the text
latency of the rubric workload (6 s scaled down 100x, +-10%) for every request, no
provider limit and no errors, and no client rate limit (0), so pacing does not hide the
schedule. Each is run `REPEATS` times on a fresh copy of the assignment; the run with
the median makespan is reported. The makespan is each command's `elapsed_s` (setup and
output writing included), summed over the three for the stages; the time to the first
grade is the streaming run's `first_grade_s`, and for the stages the rubric and
transcription commands' time plus the grade run's `first_grade_s`.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from aita_cli.pipelines.grade import GradeOutcome, run_grade
from aita_cli.pipelines.outcome import RunOutcome
from aita_cli.pipelines.rubric import run_generate_rubric
from aita_cli.pipelines.runner import RunOptions
from aita_cli.pipelines.transcribe import run_transcribe
from benchmarks.workloads import make_grade_assignment, point_at_simulator

STUDENTS = 30
QUESTIONS = 10
PAGES = 3
WORKERS = 10
REPEATS = 3
UPSTREAM_CALLS = 2 * QUESTIONS + STUDENTS * PAGES  # keys + rubrics + pages
GRADE_TASKS = STUDENTS * QUESTIONS
ASSIGNMENT = "grade"

SimulatorFactory = Callable[..., AbstractContextManager[str]]


@dataclass(frozen=True)
class GradeRun:
    """One measured run of a mode: its times and the simulator's counters for it."""

    mode: str  # "streaming" or "stages"
    seconds: float  # makespan
    batch_seconds: float  # of it, in the executor's batches (setup and writing left out)
    first_grade_s: float
    stage_seconds: dict[str, float]  # per command (one entry for streaming)
    grade_tasks: int
    grades_done: int
    requests: int  # chat requests the simulator received during the run
    grade_requests: int  # of them, during the command that grades
    stats: dict[str, Any]  # the simulator's /stats counters for the run (deltas)


def run_grade_bench(latency: float, simulator: SimulatorFactory) -> dict[str, Any]:
    """Both modes, `REPEATS` times each; prints a table and returns the JSON part
    `make bench` reports under "grade"."""
    with tempfile.TemporaryDirectory(prefix="aita-bench-grade-") as directory:
        work = Path(directory)
        template = work / "template" / ASSIGNMENT
        make_grade_assignment(template, students=STUDENTS, questions=QUESTIONS, pages=PAGES)
        with simulator(latency) as url:
            stats_url = url.removesuffix("/v1") + "/stats"
            point_at_simulator(url, work)
            _streaming(work / "warm-up", template, stats_url, students=("student01",))
            streaming = [
                _streaming(work / f"streaming{n}", template, stats_url) for n in range(REPEATS)
            ]
            stages = [_stages(work / f"stages{n}", template, stats_url) for n in range(REPEATS)]
    report = _report(_median(streaming), _median(stages), latency)
    report["runs"] = {
        mode: [{"seconds": run.seconds, "first_grade_s": run.first_grade_s,
                "grade_calls": run.grade_requests} for run in runs]
        for mode, runs in (("streaming", streaming), ("stages", stages))
    }  # fmt: skip
    _print(report)
    return report


def _fresh(run_dir: Path, template: Path) -> RunOptions:
    """A fresh copy of the assignment, its own checkpoints and ledger; its RunOptions."""
    shutil.copytree(template, run_dir / "data" / ASSIGNMENT)
    os.environ["AITA_CHECKPOINT_DIR"] = str(run_dir / "checkpoints")
    os.environ["AITA_CACHE_DIR"] = str(run_dir / "cache")
    return RunOptions(
        assignment=ASSIGNMENT, data_dir=run_dir / "data", workers=WORKERS, rate_limit=0.0
    )


def _stats(stats_url: str) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(stats_url, timeout=10).json()
    return data


def _delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """The counters `after` minus `before` (the peak in flight: the simulator's so far)."""
    keys = ("requests", "completions", "rate_limited", "errors", "bad_requests",
            "prompt_tokens", "completion_tokens")  # fmt: skip
    counts = {key: after[key] - before[key] for key in keys}
    return counts | {"max_in_flight": after["max_in_flight"]}


def _grade(options: RunOptions, students: tuple[str, ...] = ()) -> GradeOutcome:
    outcome = run_grade(options, students)
    detail = outcome.detail
    if outcome.exit_code != 0 or detail.failures or detail.first_grade_s is None:
        failures = "; ".join(str(failure) for failure in detail.failures[:3])
        raise RuntimeError(
            f"aita grade exited {outcome.exit_code}: {len(detail.failures)} failed "
            f"({failures or 'no failure listed'}), warnings {outcome.warnings}"
        )
    return outcome


def _first_grade_s(outcome: GradeOutcome) -> float:
    first = outcome.detail.first_grade_s
    assert first is not None  # checked by _grade
    return first


def _batch_s(outcome: RunOutcome[Any]) -> float:
    return outcome.metrics.elapsed if outcome.metrics is not None else 0.0


def _grades(outcome: GradeOutcome) -> tuple[int, int]:
    """(grade tasks in the batch, grades done) of a grade outcome."""
    stage = next(count for count in outcome.detail.stages if count.stage == "grades")
    return stage.tasks, stage.done


def _streaming(
    run_dir: Path, template: Path, stats_url: str, students: tuple[str, ...] = ()
) -> GradeRun:
    options = _fresh(run_dir, template)
    before = _stats(stats_url)
    outcome = _grade(options, students)
    stats = _delta(_stats(stats_url), before)
    tasks, done = _grades(outcome)
    return GradeRun(
        mode="streaming",
        seconds=outcome.elapsed_s,
        batch_seconds=_batch_s(outcome),
        first_grade_s=_first_grade_s(outcome),
        stage_seconds={"grade": outcome.elapsed_s},
        grade_tasks=tasks,
        grades_done=done,
        requests=stats["requests"],
        grade_requests=stats["requests"] - UPSTREAM_CALLS,
        stats=stats,
    )


def _stages(run_dir: Path, template: Path, stats_url: str) -> GradeRun:
    options = _fresh(run_dir, template)
    before = _stats(stats_url)
    rubric = run_generate_rubric(options)
    transcribe = run_transcribe(options)
    for name, outcome in (("generate-rubric", rubric), ("transcribe", transcribe)):
        metrics = outcome.metrics
        if outcome.exit_code != 0 or metrics is None or metrics.failed_tasks:
            raise RuntimeError(f"aita {name} did not complete cleanly: exit {outcome.exit_code}")
    upstream = _stats(stats_url)
    grade = _grade(options)
    stats = _delta(_stats(stats_url), before)
    tasks, done = _grades(grade)
    seconds = {"generate-rubric": rubric.elapsed_s, "transcribe": transcribe.elapsed_s}
    seconds["grade"] = grade.elapsed_s
    return GradeRun(
        mode="stages",
        seconds=sum(seconds.values()),
        batch_seconds=sum(_batch_s(outcome) for outcome in (rubric, transcribe, grade)),
        first_grade_s=rubric.elapsed_s + transcribe.elapsed_s + _first_grade_s(grade),
        stage_seconds=seconds,
        grade_tasks=tasks,
        grades_done=done,
        requests=stats["requests"],
        grade_requests=stats["requests"] - (upstream["requests"] - before["requests"]),
        stats=stats,
    )


def _median(runs: list[GradeRun]) -> GradeRun:
    middle = statistics.median_low(run.seconds for run in runs)
    return next(run for run in runs if run.seconds == middle)


def _report(streaming: GradeRun, stages: GradeRun, latency: float) -> dict[str, Any]:
    return {
        "students": STUDENTS,
        "questions": QUESTIONS,
        "pages": STUDENTS * PAGES,
        "workers": WORKERS,
        "latency_s": latency,
        "repeats": REPEATS,
        "streaming_s": streaming.seconds,
        "stages_s": stages.seconds,
        "ratio": stages.seconds / streaming.seconds,
        "batch_streaming_s": streaming.batch_seconds,
        "batch_stages_s": stages.batch_seconds,
        "first_grade_streaming_s": streaming.first_grade_s,
        "first_grade_stages_s": stages.first_grade_s,
        "stage_seconds": stages.stage_seconds,
        "upstream_calls": UPSTREAM_CALLS,
        "grade_tasks": streaming.grade_tasks,
        "grade_calls": streaming.grade_requests,
        "grade_calls_stages": stages.grade_requests,
        "requests_streaming": streaming.requests,
        "requests_stages": stages.requests,
        "stats_streaming": streaming.stats,
        "stats_stages": stages.stats,
    }


def _print(report: dict[str, Any]) -> None:
    print(f"{'grade':<14}{'seconds':>9}{'first grade':>13}{'requests':>10}{'grade calls':>13}")
    for mode in ("streaming", "stages"):
        calls = report["grade_calls" if mode == "streaming" else "grade_calls_stages"]
        print(
            f"{mode:<14}{report[f'{mode}_s']:>9.3f}{report[f'first_grade_{mode}_s']:>13.3f}"
            f"{report[f'requests_{mode}']:>10}{calls:>13}"
        )
    print(
        f"stages / streaming: {report['ratio']:.2f}x; {report['grade_tasks']} grade tasks "
        f"in {report['grade_calls']} calls ({report['students']} students x "
        f"{report['questions']} questions, {report['pages']} pages, {report['workers']} workers)"
    )
