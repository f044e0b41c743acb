"""results/rubrics.md: the answer keys and rubrics of an exam as one readable page.

Per question: its text and points, the answer and solution steps, and a criteria table.
Content an offline template wrote is marked so nobody mistakes it for a model's answer,
and failed questions say why they are missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aita_cli.domain.models import AnswerKey, Question, Rubric
from aita_cli.domain.provenance import TEMPLATE_SOURCE
from aita_cli.pipelines.rubric_tasks import format_points

__all__ = ["QuestionResult", "render_rubrics_markdown"]

_TEMPLATE_WARNING = (
    "> **Offline template** — written without a model; the instructor must complete "
    "and check it before grading."
)


@dataclass(frozen=True)
class QuestionResult:
    """One question's outcome: an answer key and a rubric, or the errors instead."""

    question: Question
    answer_key: AnswerKey | None
    answer_key_error: str | None
    rubric: Rubric | None
    rubric_error: str | None
    # Entries kept exactly as they are on disk (a question this run did not touch),
    # written back verbatim so a stale one stays marked stale.
    carried_key: dict[str, Any] | None = None
    carried_rubric: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return self.answer_key is not None and self.rubric is not None


def render_rubrics_markdown(
    exam_name: str, assignment: str, results: Sequence[QuestionResult]
) -> str:
    """The whole page, questions in the order given (exam order)."""
    total = sum(result.question.points for result in results)
    failed = sum(1 for result in results if not result.complete)
    lines = [
        f"# {exam_name} — answer keys and rubrics",
        "",
        f"Assignment `{assignment}` · {len(results)} questions · "
        f"{format_points(total)} points"
        + (f" · **{failed} incomplete** (run with `--resume` to fill them in)" if failed else ""),
        "",
    ]
    for result in results:
        lines += _question_section(result)
    return "\n".join(lines).rstrip() + "\n"


def _question_section(result: QuestionResult) -> list[str]:
    question = result.question
    lines = [
        f"## Question {question.question_id} ({format_points(question.points)} points, "
        f"{question.question_type.value.replace('_', ' ')})",
        "",
        _quote_text(question.question_text),
        "",
    ]
    lines += _answer_key_lines(result)
    lines += _rubric_lines(result)
    return lines


def _quote_text(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.strip().splitlines())


def _answer_key_lines(result: QuestionResult) -> list[str]:
    key = result.answer_key
    if key is None:
        return [f"**Answer key failed:** {result.answer_key_error or 'unknown error'}", ""]
    lines = ["### Answer", ""]
    if key.source == TEMPLATE_SOURCE:
        lines += [_TEMPLATE_WARNING, ""]
    lines += [key.correct_answer.strip(), ""]
    if key.solution_steps:
        lines += ["**Steps**", ""]
        lines += [f"{number}. {step}" for number, step in enumerate(key.solution_steps, 1)]
        lines.append("")
    if key.alternative_answers:
        lines += ["**Also accept:** " + "; ".join(key.alternative_answers), ""]
    if key.explanation:
        lines += [f"**Explanation:** {key.explanation}", ""]
    if key.grading_notes:
        lines += [f"**Grading notes:** {key.grading_notes}", ""]
    return lines


def _rubric_lines(result: QuestionResult) -> list[str]:
    rubric = result.rubric
    if rubric is None:
        return [f"**Rubric failed:** {result.rubric_error or 'unknown error'}", ""]
    lines = ["### Rubric", ""]
    if rubric.source == "user":
        lines += ["*Rubric provided by the instructor (user_rubrics.json).*", ""]
    elif rubric.source == TEMPLATE_SOURCE:
        lines += [_TEMPLATE_WARNING, ""]
    lines += ["| Criterion | Points | Description | Examples |", "|---|---:|---|---|"]
    for criterion in rubric.criteria:
        lines.append(
            f"| {_cell(criterion.name)} | {format_points(criterion.points)} | "
            f"{_cell(criterion.description)} | {_cell('; '.join(criterion.examples))} |"
        )
    lines += [f"| **Total** | **{format_points(rubric.total_points)}** | | |", ""]
    return lines


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell: no pipes, no line breaks."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "<br>").strip()
