"""`aita grade`: every selected student's answers scored against the rubric, in ONE batch
with whatever the grades still need (answer keys, rubrics, page transcriptions).

There is no barrier between stages: a grade starts the moment its rubric and its
student's pages are done (`grade_plan`). After the batch the stages' own files are
written as their commands write them (rubrics.json, transcripts/), then every student's
grades (`grade_output`). Nothing here prints: the CLI renders the `GradeOutcome`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from aita_cli.domain.grades import StudentGrades
from aita_cli.errors import ConfigError
from aita_cli.execution.results import BatchExecutionResult, TaskResult
from aita_cli.llm.base import LLMClient
from aita_cli.pipelines.grade_assembly import (
    FailedItem,
    answers_by_student,
    assemble_grades,
    failed_items,
)
from aita_cli.pipelines.grade_estimates import StagePlan, plan_stages
from aita_cli.pipelines.grade_output import GradesDocument, write_grade_outputs
from aita_cli.pipelines.grade_plan import GradePlan, grades_dir, plan_grading
from aita_cli.pipelines.grade_tasks import GradeTask
from aita_cli.pipelines.outcome import RunOutcome
from aita_cli.pipelines.report import write_reports
from aita_cli.pipelines.rubric import Kept, assemble_results
from aita_cli.pipelines.rubric_markdown import QuestionResult, render_rubrics_markdown
from aita_cli.pipelines.rubric_output import read_on_disk, write_rubric_outputs
from aita_cli.pipelines.runner import (
    OutcomeBuilder,
    RunContext,
    RunOptions,
    checkpoint_name,
    open_run,
)
from aita_cli.pipelines.transcript_store import (
    read_transcript,
    render_settings,
    student_transcript,
    transcripts_dir,
    write_transcripts,
)

__all__ = ["COMMAND", "OPERATION", "GradeDetail", "GradeOutcome", "StageCount", "run_grade"]

COMMAND = "grade"
OPERATION = "grade"
_STAGE_PREFIXES = (("answer_key/", "answer keys"), ("rubric/", "rubrics"), ("grade/", "grades"))


@dataclass(frozen=True)
class StageCount:
    """One stage's tasks in this run's batch, and how many were reused from disk."""

    stage: str
    tasks: int
    done: int
    failed: int
    reused: int  # complete and unchanged on disk (or given), so not in the batch


@dataclass
class GradeDetail:
    """grade's own part of its outcome."""

    students: list[StudentGrades] = field(default_factory=list)  # everyone in grades.json
    selected: list[str] = field(default_factory=list)  # students this run graded
    failures: list[FailedItem] = field(default_factory=list)
    stages: list[StageCount] = field(default_factory=list)
    plan: list[StagePlan] | None = None  # set by --dry-run
    first_grade_s: float | None = None  # from the start of the batch to the first grade


GradeOutcome: TypeAlias = RunOutcome[GradeDetail]


def run_grade(
    options: RunOptions,
    students: Sequence[str] = (),
    questions: Sequence[str] = (),
    *,
    client: LLMClient | None = None,
    executor_overrides: Mapping[str, Any] | None = None,
    announce: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> GradeOutcome:
    """Grade the assignment (only `students` and `questions`, when given)."""
    again = [arg for name in students for arg in ("--student", name)]
    again += [arg for qid in questions for arg in ("--question", qid)]
    outcome = OutcomeBuilder(COMMAND, resume_args=again, clock=clock)
    with open_run(options, client=client, executor_overrides=executor_overrides) as context:
        if announce is not None:
            announce(f"using {context.client.describe()}")
        plan = plan_grading(context, students, questions)
        _check_vision(context, plan)
        detail = GradeDetail(selected=[s.output_name for s in plan.students])
        if options.dry_run:
            detail.plan = plan_stages(context, plan)
            return outcome.build(context, detail, warnings=plan.warnings)
        batch = _execute(context, plan, detail, clock)
        outputs, warnings = _write_all(context, plan, batch, detail)
        return outcome.build(
            context,
            detail,
            batch=batch,
            warnings=[*plan.warnings, *warnings],
            outputs=outputs,
            failed=bool(detail.failures),
        )


def _check_vision(context: RunContext, plan: GradePlan) -> None:
    drawings = any(task.needs_image for task in plan.grade_tasks if type(task) is GradeTask)
    if (plan.page_tasks or drawings) and not context.client.supports_vision:
        raise ConfigError(
            f"{context.client.describe()} cannot read images, and grading needs page "
            "transcriptions or a drawing read: set AITA_VISION_MODEL to a vision-capable model"
        )


def _execute(
    context: RunContext, plan: GradePlan, detail: GradeDetail, clock: Callable[[], float]
) -> BatchExecutionResult | None:
    tasks = plan.all_tasks()
    if not tasks:
        return None
    started = clock()
    kept = {id(task.inputs.previous) for task in plan.grade_tasks if task.inputs.previous}

    def note_first_grade(result: TaskResult) -> None:
        # The first grade made in this run: one kept from the last run is not news.
        fresh = result.success and id(result.result) not in kept
        if detail.first_grade_s is None and fresh and result.task_id.startswith("grade/"):
            detail.first_grade_s = clock() - started

    return context.executor.execute_batch(
        tasks,
        checkpoint_name=checkpoint_name(context.assignment.name, OPERATION),
        resume_from_checkpoint=context.options.resume,
        ledger_scope=(context.assignment.name, OPERATION),
        on_task_complete=note_first_grade,
        description=f"grade {context.assignment.name}",
    )


def _write_all(
    context: RunContext, plan: GradePlan, batch: BatchExecutionResult | None, detail: GradeDetail
) -> tuple[list[Path], list[str]]:
    """The stages' files, then the grades: the paths written and any warnings."""
    results = _rubric_results(context, plan, batch)
    outputs: list[Path] = []
    if plan.key_tasks or plan.rubric_tasks:
        assignment = context.assignment
        markdown = render_rubrics_markdown(assignment.exam.exam_name, assignment.name, results)
        outputs += write_rubric_outputs(assignment, results, markdown)
    transcripts = _transcripts(context, plan, batch)
    if plan.page_tasks:
        fresh = [transcripts[name] for name in plan.page_tasks]
        outputs += write_transcripts(context, plan.everyone, fresh, plan.warnings)
    grades = assemble_grades(plan, batch)
    detail.students = grades
    detail.failures = failed_items(grades, plan)
    detail.stages = _stage_counts(plan, batch)
    document = GradesDocument(
        assignment=context.assignment.name,
        exam=context.assignment.exam,
        students=grades,
        roster=plan.inputs.roster,
        answers=answers_by_student(transcripts),
        rubrics={r.question.question_id: r.rubric for r in results if r.rubric is not None},
    )
    paths, warnings = write_grade_outputs(grades_dir(context), document)
    report, report_warnings = _write_reports(context)
    return [*outputs, *paths, *report], [*warnings, *report_warnings]


def _write_reports(context: RunContext) -> tuple[list[Path], list[str]]:
    """The HTML reports, last: grades are written already, and a report that fails is
    a warning (`aita report` rebuilds it), never a reason to lose them."""
    try:
        result = write_reports(context.assignment)
    except Exception as error:
        return [], [f"the HTML report was not written ({error}); try aita report"]
    return result.paths[:1], result.warnings


def _rubric_results(
    context: RunContext, plan: GradePlan, batch: BatchExecutionResult | None
) -> list[QuestionResult]:
    """Every question's key and rubric: this batch's (failures included), else the ones
    the plan found good, else the entry on disk as it is, for a question not selected."""
    kept = Kept(plan.known_keys, plan.known_rubrics)
    return assemble_results(context.assignment, batch, kept, read_on_disk(context.assignment))


def _transcripts(
    context: RunContext, plan: GradePlan, batch: BatchExecutionResult | None
) -> dict[str, dict[str, Any]]:
    """Every student's transcript: made in this batch, kept, or as it is on disk."""
    folder = transcripts_dir(context.assignment)
    render = render_settings(context)
    found: dict[str, dict[str, Any]] = {}
    for student in plan.everyone:
        name = student.output_name
        if name in plan.page_tasks:
            found[name] = student_transcript(context, student, plan.page_tasks[name], batch, render)
        elif name in plan.kept_transcripts:
            found[name] = plan.kept_transcripts[name]
        elif (on_disk := read_transcript(folder / f"{name}.json")) is not None:
            found[name] = on_disk
    return found


def _stage_counts(plan: GradePlan, batch: BatchExecutionResult | None) -> list[StageCount]:
    results = batch.task_results if batch is not None else []
    not_started = set(batch.not_started) if batch is not None else set()
    counts = []
    reused = {
        "answer keys": len(plan.known_keys),
        "rubrics": len(plan.known_rubrics),
        "pages": sum(len(s.pages) for s in plan.students if s.output_name in plan.kept_transcripts),
        "grades": 0,
    }
    kept = _kept_grades(plan, results)
    for stage in ("answer keys", "rubrics", "pages", "grades"):
        mine = [item for item in results if _stage_of(item.task_id) == stage]
        mine = [item for item in mine if item.task_id not in kept]
        done = sum(1 for item in mine if item.success)
        failed = sum(1 for item in mine if not item.success and item.task_id not in not_started)
        reused_here = len(kept) if stage == "grades" else reused[stage]
        counts.append(StageCount(stage, len(mine), done, failed, reused_here))
    return counts


def _kept_grades(plan: GradePlan, results: Sequence[TaskResult]) -> set[str]:
    """Grade tasks that kept the last run's grade (its inputs were unchanged)."""
    previous = {task.task_id: task.inputs.previous for task in plan.grade_tasks}
    return {
        item.task_id
        for item in results
        if item.success
        and previous.get(item.task_id) is not None
        and item.result is previous[item.task_id]
    }


def _stage_of(task_id: str) -> str:
    for prefix, stage in _STAGE_PREFIXES:
        if task_id.startswith(prefix):
            return stage
    return "pages"
