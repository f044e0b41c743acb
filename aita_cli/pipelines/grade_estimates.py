"""`aita grade --dry-run`: the batch a run would make, stage by stage, with its tokens and
cost estimated, and nothing called or written.

A grade's prompt holds its key, rubric and answer, which may not exist yet; it is sized
from what it will hold, with typical sizes for the parts still to be made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aita_cli.execution.tasks import LLMTask
from aita_cli.llm import tokens
from aita_cli.llm.messages import as_messages
from aita_cli.pipelines.exact_grading import ExactGradeTask
from aita_cli.pipelines.grade_plan import GradePlan
from aita_cli.pipelines.grade_tasks import GradeTask
from aita_cli.pipelines.rubric_tasks import AnswerKeyTask
from aita_cli.pipelines.runner import CostEstimate, RunContext, estimate_cost
from aita_cli.pipelines.transcribe import COMPLETION_TOKENS_PER_PAGE
from aita_cli.pipelines.transcribe_tasks import page_attachment

__all__ = ["StagePlan", "plan_stages"]

# Typical sizes, for estimates only: an answer key reply, a rubric reply, a student's
# answer, a grade reply, and the fixed rules of a grading prompt.
_KEY_REPLY = 450
_RUBRIC_REPLY = 350
_ANSWER = 200
_GRADE_REPLY = 250
_GRADE_RULES = 250


@dataclass(frozen=True)
class StagePlan:
    """One stage of the batch: how many tasks, and what they would cost."""

    stage: str
    tasks: int
    reused: int  # already complete on disk (or the instructor's), not in the batch
    estimate: CostEstimate


def plan_stages(context: RunContext, plan: GradePlan) -> list[StagePlan]:
    """Each stage's tasks and estimate, in the order the batch runs them."""
    keys = [_message_tokens(task) for task in plan.key_tasks]
    # A rubric's prompt is the key's question part plus the key (which may not exist yet).
    rubrics = [
        _message_tokens(AnswerKeyTask(task.context)) + _KEY_REPLY for task in plan.rubric_tasks
    ]
    pages = [task for group in plan.page_tasks.values() for task in group]
    model_grades = [task for task in plan.grade_tasks if not isinstance(task, ExactGradeTask)]
    # A grade whose inputs are all on disk already knows whether it will be kept.
    kept = [task for task in model_grades if not task.dependencies and _kept(task)]
    paid = [task for task in model_grades if task not in kept]
    kept_pages = sum(len(s.pages) for s in plan.students if s.output_name in plan.kept_transcripts)
    return [
        _stage(context, "answer keys", keys, _KEY_REPLY, len(plan.known_keys)),
        _stage(context, "rubrics", rubrics, _RUBRIC_REPLY, len(plan.known_rubrics)),
        _stage(
            context, "pages", [_message_tokens(task) for task in pages],
            COMPLETION_TOKENS_PER_PAGE, kept_pages, vision=True,
        ),
        _stage(
            context, "grades", [_grade_tokens(task) for task in paid], _GRADE_REPLY,
            len(kept), count=len(plan.grade_tasks) - len(kept),
        ),
    ]  # fmt: skip


def _stage(
    context: RunContext,
    name: str,
    prompts: Sequence[int],
    reply: int,
    reused: int,
    *,
    vision: bool = False,
    count: int | None = None,
) -> StagePlan:
    estimate = estimate_cost(context, sum(prompts), reply * len(prompts), vision=vision)
    return StagePlan(name, len(prompts) if count is None else count, reused, estimate)


def _kept(task: GradeTask) -> bool:
    try:
        return task.answer_without_call() is task.inputs.previous is not None
    except Exception:
        return False


def _message_tokens(task: LLMTask) -> int:
    return tokens.prompt_tokens(as_messages(task.build_messages()))


def _grade_tokens(task: GradeTask) -> int:
    inputs = task.inputs
    size = tokens.text_tokens(inputs.context.describe()) + _KEY_REPLY + _RUBRIC_REPLY
    size += _ANSWER + _GRADE_RULES
    if task.needs_image and inputs.page_tasks:
        _, page = inputs.page_tasks[0]
        size += tokens.attachment_tokens(
            page_attachment(page, dpi=inputs.render.dpi, max_side=inputs.render.max_side)
        )
    return size
