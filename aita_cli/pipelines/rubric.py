"""`aita generate-rubric`: plan, run and write answer keys and rubrics for an assignment.

Every question gets an answer-key task; questions without a user rubric also get a rubric
task that depends on it, so it starts the moment its key is done. All tasks run as one
batch on the shared executor, journaled under "<assignment>_rubric" so `--resume`
continues it. Outputs follow exam order and mark what failed; nothing here prints: the
caller renders the returned `RubricOutcome` (a `RunOutcome` with a `RubricDetail`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.instructor_inputs import instructor_answer_keys
from aita_cli.domain.models import AnswerKey, Rubric
from aita_cli.execution.results import BatchExecutionResult, TaskResult
from aita_cli.execution.tasks import LLMTask
from aita_cli.llm.base import LLMClient
from aita_cli.llm.messages import as_messages
from aita_cli.llm.tokens import prompt_tokens
from aita_cli.pipelines.outcome import RunOutcome
from aita_cli.pipelines.rubric_markdown import QuestionResult, render_rubrics_markdown
from aita_cli.pipelines.rubric_output import (
    OnDisk,
    existing_results_complete,
    parse_entry,
    read_rubric_results,
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
    OutcomeBuilder,
    RunContext,
    RunOptions,
    checkpoint_name,
    estimate_cost,
    open_run,
)

__all__ = [
    "COMMAND",
    "OPERATION",
    "Kept",
    "PlannedTask",
    "RubricDetail",
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
class RubricDetail:
    """generate-rubric's own part of its outcome."""

    questions: int
    total_points: float
    plan: RubricPlan | None = None  # set by --dry-run
    kept_existing: bool = False  # complete results were there: nothing ran
    failures: list[TaskFailure] = field(default_factory=list)  # in exam order


RubricOutcome: TypeAlias = RunOutcome[RubricDetail]


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


@dataclass(frozen=True)
class Kept:
    """Answer keys and rubrics already good on disk, by question id: not made again."""

    keys: Mapping[str, AnswerKey] = field(default_factory=dict)
    rubrics: Mapping[str, Rubric] = field(default_factory=dict)


def build_tasks(assignment: Assignment, kept: Kept | None = None) -> list[LLMTask]:
    """Answer keys first (they start at once), then the rubrics of questions without a
    user rubric (each starts when its own key is done). A question with the instructor's
    own key (user_answer_keys.json) gets no key task: its rubric is built on that key;
    what `kept` holds is not made again either."""
    kept = kept or Kept()
    contexts = question_contexts(assignment)
    given = {
        **kept.keys,
        **instructor_answer_keys(assignment.root, assignment.name, assignment.exam),
    }
    tasks: list[LLMTask] = [
        AnswerKeyTask(context) for context in contexts if context.question_id not in given
    ]
    tasks += [
        RubricTask(context, given_key=given.get(context.question_id))
        for context in contexts
        if context.question_id not in assignment.user_rubrics
        and context.question_id not in kept.rubrics
    ]
    return tasks


def plan_rubric_run(context: RunContext, kept: Kept | None = None) -> RubricPlan:
    """The dry-run plan: no model is called and nothing is written."""
    assignment = context.assignment
    planned = [_planned(task) for task in build_tasks(assignment, kept)]
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
    outcome = OutcomeBuilder(COMMAND, clock=clock)
    with open_run(options, client=client, executor_overrides=executor_overrides) as context:
        assignment = context.assignment
        detail = RubricDetail(len(assignment.exam.questions), assignment.exam.total_points)
        if announce is not None:
            announce(f"using {context.client.describe()}")
        kept = Kept()
        if not options.force:
            kept = Kept(*read_rubric_results(assignment, accept_offline=context.client.is_local))
        keep = not options.force and existing_results_complete(
            assignment, accept_offline=context.client.is_local
        )
        notices = _kept_notices(assignment, kept, everything=keep, dry_run=options.dry_run)
        if options.dry_run:
            detail.plan = plan_rubric_run(context, kept)
            return outcome.build(context, detail, notices=notices)
        # --resume runs what is missing or failed: with complete results that is nothing
        # (and without their journal, running anyway would pay for every task again).
        if keep:
            detail.kept_existing = True
            return outcome.build(context, detail, notices=notices)
        batch, paths = _run_batch(context, kept)
        detail.failures = _failures(assignment, batch, set(batch.not_started))
        return outcome.build(context, detail, batch=batch, notices=notices, outputs=paths)


def _kept_notices(
    assignment: Assignment, kept: Kept, *, everything: bool, dry_run: bool
) -> list[str]:
    where = assignment.results_dir
    if everything and dry_run:
        return [f"complete results already exist in {where}; a run would keep them (--force)"]
    if everything:
        return [f"complete results already exist in {where}; kept them (use --force to regenerate)"]
    if not (kept.keys or kept.rubrics):
        return []
    questions = len(set(kept.keys) | set(kept.rubrics))
    verb = "a run would keep" if dry_run else "kept"
    return [
        f"{verb} the answer keys and rubrics of {questions} question(s) whose inputs are "
        "unchanged (use --force to regenerate them)"
    ]


def _run_batch(context: RunContext, kept: Kept) -> tuple[BatchExecutionResult, list[Path]]:
    assignment = context.assignment
    result = context.executor.execute_batch(
        build_tasks(assignment, kept),
        checkpoint_name=checkpoint_name(assignment.name, OPERATION),
        resume_from_checkpoint=context.options.resume,
        ledger_scope=(context.assignment.name, OPERATION),
        description=f"rubrics for {assignment.name}",
    )
    question_results = assemble_results(assignment, result, kept)
    paths = write_rubric_outputs(
        assignment,
        question_results,
        render_rubrics_markdown(assignment.exam.exam_name, assignment.name, question_results),
    )
    return result, paths


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


def assemble_results(
    assignment: Assignment,
    result: BatchExecutionResult | None,
    kept: Kept | None = None,
    disk: OnDisk | None = None,
) -> list[QuestionResult]:
    """Each question's answer key and rubric (or why they are missing), in exam order:
    the instructor's own, else this batch's (its failure included), else what was
    `kept`, else (with `disk`) the entry on disk as it is, stale or not, for a question
    the run did not touch."""
    # Tasks a stop left unfinished carry the executor's own reason ("not finished: the
    # cost budget was reached"), so they are reported like any other failure.
    by_id = {item.task_id: item for item in result.task_results} if result else {}
    given = instructor_answer_keys(assignment.root, assignment.name, assignment.exam)
    kept = kept or Kept()
    assembled: list[QuestionResult] = []
    for question in assignment.exam.questions:
        qid = question.question_id
        key, key_error = _answer_key_of(by_id.get(answer_key_task_id(qid)))
        carried_key = carried_rubric = None
        if qid in given:
            key, key_error = given[qid], None
        elif key is None and key_error == _NOT_RUN:
            key, key_error, carried_key = _fallback(
                AnswerKey, "answer key", qid, kept.keys, disk.keys if disk else None
            )
        rubric: Rubric | None = assignment.user_rubrics.get(qid)
        rubric_error = None
        if rubric is None:
            rubric, rubric_error = _rubric_of(by_id.get(rubric_task_id(qid)))
            if rubric is None and rubric_error == _NOT_RUN:
                rubric, rubric_error, carried_rubric = _fallback(
                    Rubric, "rubric", qid, kept.rubrics, disk.rubrics if disk else None
                )
        assembled.append(QuestionResult(question, key, key_error, rubric, rubric_error,
                                        carried_key, carried_rubric))  # fmt: skip
    return assembled


_NOT_RUN = "not run"


def _fallback(
    model: Any,
    label: str,
    question_id: str,
    kept: Mapping[str, Any],
    on_disk: Mapping[str, Any] | None,
) -> tuple[Any, str | None, dict[str, Any] | None]:
    if question_id in kept:
        return kept[question_id], None, None
    entry = (on_disk or {}).get(question_id)
    if entry is not None:
        parsed = parse_entry(model, entry) if entry.get("status") == "ok" else None
        return parsed, None if parsed else entry.get("error", _NOT_RUN), entry
    return None, f"no {label} yet: run aita generate-rubric", None


def _answer_key_of(item: TaskResult | None) -> tuple[AnswerKey | None, str | None]:
    if item is None:
        return None, _NOT_RUN
    if not item.success:
        return None, item.error or "failed"
    value = item.result
    return (value if isinstance(value, AnswerKey) else AnswerKey.model_validate(value)), None


def _rubric_of(item: TaskResult | None) -> tuple[Rubric | None, str | None]:
    if item is None:
        return None, _NOT_RUN
    if not item.success:
        return None, item.error or "failed"
    value = item.result
    return (value if isinstance(value, Rubric) else Rubric.model_validate(value)), None
