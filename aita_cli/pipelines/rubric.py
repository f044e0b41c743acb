"""`aita generate-rubric`: plan, run and write answer keys and rubrics for an assignment.

Every question gets an answer-key task; questions without a user rubric also get a rubric
task that depends on it, so it starts the moment its key is done. All tasks run as one
batch on the shared executor, journaled under "<assignment>_rubric" so `--resume`
continues it. Outputs follow exam order and mark what failed; nothing here prints: the
caller renders the returned `RubricOutcome`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.models import AnswerKey, Rubric
from aita_cli.execution.results import BatchExecutionResult, ExecutionMetrics, TaskResult
from aita_cli.execution.tasks import LLMTask
from aita_cli.llm.base import LLMClient
from aita_cli.llm.messages import as_messages
from aita_cli.llm.tokens import prompt_tokens
from aita_cli.pipelines.rubric_markdown import QuestionResult, render_rubrics_markdown
from aita_cli.pipelines.rubric_output import (
    exam_fingerprint,
    existing_results_complete,
    write_rubric_outputs,
)
from aita_cli.pipelines.rubric_tasks import (
    AnswerKeyTask,
    QuestionContext,
    RubricTask,
    answer_key_task_id,
    rubric_task_id,
)
from aita_cli.pipelines.runner import (
    CostEstimate,
    RunContext,
    RunOptions,
    checkpoint_name,
    estimate_cost,
    exit_code_for,
    open_run,
    resume_command,
    retry_count,
)

__all__ = [
    "COMMAND",
    "OPERATION",
    "PlannedTask",
    "RubricOutcome",
    "RubricPlan",
    "TaskFailure",
    "assemble_results",
    "build_tasks",
    "plan_rubric_run",
    "question_contexts",
    "run_generate_rubric",
]

COMMAND = "generate-rubric"
OPERATION = "rubric"

# Typical reply sizes, for dry-run estimates only.
_ANSWER_KEY_REPLY_TOKENS = 450
_RUBRIC_REPLY_TOKENS = 350


@dataclass(frozen=True)
class PlannedTask:
    """One model call a run would make, with its estimated size."""

    task_id: str
    kind: str  # "answer key" or "rubric"
    question_id: str
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True)
class RubricPlan:
    """What a run would do: its tasks, the model, and the estimated tokens and cost."""

    tasks: list[PlannedTask]
    user_rubric_questions: list[str]
    estimate: CostEstimate


@dataclass(frozen=True)
class TaskFailure:
    """A task that failed for good, with the reason."""

    question_id: str
    task_id: str
    kind: str
    error: str


@dataclass
class RubricOutcome:
    """What a generate-rubric run did, for the CLI to render."""

    assignment: str
    exam_name: str
    provider: str
    questions: int
    total_points: float
    exit_code: int = 0
    plan: RubricPlan | None = None
    kept_existing: bool = False
    tasks_total: int = 0
    tasks_done: int = 0
    tasks_failed: int = 0
    tasks_resumed: int = 0
    retries: int = 0
    failures: list[TaskFailure] = field(default_factory=list)
    metrics: ExecutionMetrics | None = None
    paths: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    stopped: str | None = None
    not_started: list[str] = field(default_factory=list)
    checkpoint_path: Path | None = None
    resume_hint: str | None = None
    elapsed_s: float = 0.0


def question_contexts(assignment: Assignment) -> list[QuestionContext]:
    """The prompt context of every question, in exam order."""
    return [
        QuestionContext(
            assignment.exam.exam_name,
            question,
            assignment.instructions,
            assignment.question_instructions.get(question.question_id),
        )
        for question in assignment.exam.questions
    ]


def build_tasks(assignment: Assignment) -> list[LLMTask]:
    """Answer keys for every question first (they start at once), then the rubrics of
    questions without a user rubric (each starts when its own key is done)."""
    contexts = question_contexts(assignment)
    tasks: list[LLMTask] = [AnswerKeyTask(context) for context in contexts]
    tasks += [
        RubricTask(context)
        for context in contexts
        if context.question_id not in assignment.user_rubrics
    ]
    return tasks


def plan_rubric_run(context: RunContext) -> RubricPlan:
    """The dry-run plan: no model is called and nothing is written."""
    assignment = context.assignment
    planned = [_planned(task) for task in build_tasks(assignment)]
    estimate = estimate_cost(
        context,
        sum(item.prompt_tokens for item in planned),
        sum(item.completion_tokens for item in planned),
    )
    given = [
        question.question_id
        for question in assignment.exam.questions
        if question.question_id in assignment.user_rubrics
    ]
    return RubricPlan(planned, given, estimate)


def _planned(task: LLMTask) -> PlannedTask:
    if isinstance(task, RubricTask):
        # Its prompt is the answer-key prompt's question part plus the answer key reply.
        prompt = _message_tokens(AnswerKeyTask(task.context)) + _ANSWER_KEY_REPLY_TOKENS
        return PlannedTask(
            task.task_id, "rubric", task.context.question_id, prompt, _RUBRIC_REPLY_TOKENS
        )
    assert isinstance(task, AnswerKeyTask)
    return PlannedTask(
        task.task_id,
        "answer key",
        task.context.question_id,
        _message_tokens(task),
        _ANSWER_KEY_REPLY_TOKENS,
    )


def _message_tokens(task: LLMTask) -> int:
    return prompt_tokens(as_messages(task.build_messages()))


def run_generate_rubric(
    options: RunOptions,
    *,
    client: LLMClient | None = None,
    executor_overrides: Mapping[str, Any] | None = None,
    announce: Callable[[str], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> RubricOutcome:
    """Run `aita generate-rubric` for `options`; raises AitaError for bad input/config.

    `announce` receives short lines worth showing before the long part starts (which
    provider was picked). `client` and `executor_overrides` are test seams.
    """
    with open_run(options, client=client, executor_overrides=executor_overrides) as context:
        assignment = context.assignment
        outcome = RubricOutcome(
            assignment=assignment.name,
            exam_name=assignment.exam.exam_name,
            provider=context.client.describe(),
            questions=len(assignment.exam.questions),
            total_points=assignment.exam.total_points,
        )
        if announce is not None:
            announce(f"using {outcome.provider}")
        complete = existing_results_complete(
            assignment, exam_fingerprint(assignment), accept_offline=context.client.is_local
        )
        if options.dry_run:
            outcome.plan = plan_rubric_run(context)
            if complete and not options.force:
                outcome.notices.append(_kept_notice(assignment, dry_run=True))
            return outcome
        # --resume runs what is missing or failed: with complete results that is nothing
        # (and without their journal, running anyway would pay for every task again).
        if complete and not options.force:
            outcome.kept_existing = True
            outcome.notices.append(_kept_notice(assignment, dry_run=False))
            return outcome
        started = clock()
        _run_batch(context, outcome)
        outcome.elapsed_s = clock() - started
        return outcome


def _kept_notice(assignment: Assignment, *, dry_run: bool) -> str:
    where = assignment.results_dir
    if dry_run:
        return f"complete results already exist in {where}; a run would keep them (--force)"
    return f"complete results already exist in {where}; kept them (use --force to regenerate)"


def _run_batch(context: RunContext, outcome: RubricOutcome) -> None:
    assignment = context.assignment
    tasks = build_tasks(assignment)
    result = context.executor.execute_batch(
        tasks,
        checkpoint_name=checkpoint_name(assignment.name, OPERATION),
        resume_from_checkpoint=context.options.resume,
        description=f"rubrics for {assignment.name}",
    )
    question_results = assemble_results(assignment, result)
    outcome.paths = write_rubric_outputs(
        assignment,
        question_results,
        render_rubrics_markdown(assignment.exam.exam_name, assignment.name, question_results),
    )
    _fill_outcome(outcome, context, tasks, result)


def _fill_outcome(
    outcome: RubricOutcome,
    context: RunContext,
    tasks: list[LLMTask],
    result: BatchExecutionResult,
) -> None:
    not_started = set(result.not_started)
    outcome.tasks_total = len(tasks)
    outcome.tasks_done = len(result.successful_results)
    outcome.tasks_resumed = sum(1 for item in result.task_results if item.resumed)
    outcome.failures = _failures(context.assignment, result, not_started)
    outcome.tasks_failed = len(outcome.failures)
    outcome.metrics = result.metrics
    outcome.retries = retry_count(result)
    outcome.notices.extend(result.notices)
    outcome.stopped = result.stopped
    outcome.not_started = list(result.not_started)
    outcome.checkpoint_path = result.checkpoint_path
    outcome.exit_code = exit_code_for(result)
    if result.stopped is not None or outcome.failures:
        outcome.resume_hint = resume_command(COMMAND, context.options)


def _failures(
    assignment: Assignment, result: BatchExecutionResult, not_started: set[str]
) -> list[TaskFailure]:
    by_id = {item.task_id: item for item in result.task_results}
    failures: list[TaskFailure] = []
    for question in assignment.exam.questions:
        question_id = question.question_id
        for task_id, kind in (
            (answer_key_task_id(question_id), "answer key"),
            (rubric_task_id(question_id), "rubric"),
        ):
            item = by_id.get(task_id)
            if item is None or item.success or task_id in not_started:
                continue
            failures.append(TaskFailure(question_id, task_id, kind, item.error or "failed"))
    return failures


def assemble_results(assignment: Assignment, result: BatchExecutionResult) -> list[QuestionResult]:
    """Each question's answer key and rubric (or why they are missing), in exam order."""
    # Tasks a stop left unfinished carry the executor's own reason ("not finished: the
    # cost budget was reached"), so they are reported like any other failure.
    by_id = {item.task_id: item for item in result.task_results}
    assembled: list[QuestionResult] = []
    for question in assignment.exam.questions:
        question_id = question.question_id
        key_item = by_id.get(answer_key_task_id(question_id))
        key, key_error = _answer_key_of(key_item)
        rubric: Rubric | None = assignment.user_rubrics.get(question_id)
        rubric_error = None
        if rubric is None:
            rubric, rubric_error = _rubric_of(by_id.get(rubric_task_id(question_id)))
        assembled.append(QuestionResult(question, key, key_error, rubric, rubric_error))
    return assembled


def _answer_key_of(item: TaskResult | None) -> tuple[AnswerKey | None, str | None]:
    if item is None:
        return None, "not run"
    if not item.success:
        return None, item.error or "failed"
    value = item.result
    return (value if isinstance(value, AnswerKey) else AnswerKey.model_validate(value)), None


def _rubric_of(item: TaskResult | None) -> tuple[Rubric | None, str | None]:
    if item is None:
        return None, "not run"
    if not item.success:
        return None, item.error or "failed"
    value = item.result
    return (value if isinstance(value, Rubric) else Rubric.model_validate(value)), None
