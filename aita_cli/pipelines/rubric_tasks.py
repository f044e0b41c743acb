"""The two model tasks behind `aita generate-rubric`: an answer key per question, and a
rubric per question that is built on that answer key.

Prompts carry the labelled lines of `aita_cli.llm.task_kinds` and ask for JSON through a
named schema, so the offline templates and `aita simulate` recognise them; a real model
just sees a well-formed prompt. A reply that breaks the rules raises
`ResponseValidationError` naming the exact problem, and the executor re-asks with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from aita_cli.domain.models import AnswerKey, Question, Rubric, RubricCriterion, points_equal
from aita_cli.errors import ResponseValidationError
from aita_cli.execution.tasks import LLMTask
from aita_cli.llm import task_kinds
from aita_cli.llm.base import LLMParams
from aita_cli.llm.messages import LLMMessage
from aita_cli.pipelines.replies import describe_validation, json_object_from_reply

__all__ = [
    "AnswerKeyTask",
    "QuestionContext",
    "RubricTask",
    "answer_key_task_id",
    "format_points",
    "parse_json_object",
    "rubric_task_id",
]

_SYSTEM_PROMPT = (
    "You are an experienced teaching assistant who writes precise answer keys and fair, "
    "consistent grading rubrics for instructors. Reply with one JSON object only."
)


def answer_key_task_id(question_id: str) -> str:
    return f"answer_key/{question_id}"


def rubric_task_id(question_id: str) -> str:
    return f"rubric/{question_id}"


def format_points(points: float) -> str:
    """Points as people write them: 10, 2.5 (never 10.0)."""
    return f"{points:g}"


def _strict_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema without `source` (aita sets that, not the model), in the
    shape strict structured output accepts: every property required, no extras."""
    schema = model.model_json_schema()
    for definition in [schema, *schema.get("$defs", {}).values()]:
        properties: dict[str, Any] = definition.get("properties", {})
        properties.pop("source", None)
        for field_schema in properties.values():
            field_schema.pop("default", None)
        definition["required"] = list(properties)
        definition["additionalProperties"] = False
    return schema


ANSWER_KEY_SCHEMA = _strict_schema(AnswerKey)
RUBRIC_SCHEMA = _strict_schema(Rubric)


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in a reply, accepting ```json fences around it."""
    return json_object_from_reply(text)


class QuestionContext:
    """What every prompt about one question says: the exam, the question and the
    instructions that apply to it."""

    def __init__(
        self,
        exam_name: str,
        question: Question,
        instructions: str | None = None,
        question_instruction: str | None = None,
    ) -> None:
        self.exam_name = exam_name
        self.question = question
        self.instructions = (instructions or "").strip()
        self.question_instruction = (question_instruction or "").strip()

    @property
    def question_id(self) -> str:
        return self.question.question_id

    @property
    def points(self) -> float:
        return self.question.points

    def describe(self) -> str:
        """The labelled question lines (task_kinds) plus the instructions."""
        question = self.question
        lines = [
            f"Exam: {self.exam_name}",
            f"{task_kinds.QUESTION_ID_LINE}: {question.question_id}",
            f"{task_kinds.QUESTION_TYPE_LINE}: {question.question_type.value}",
            f"{task_kinds.QUESTION_POINTS_LINE}: {format_points(question.points)}",
            f"{task_kinds.QUESTION_TEXT_LINE}: {question.question_text.strip()}",
        ]
        if self.instructions:
            lines += ["", "General grading instructions:", self.instructions]
        if self.question_instruction:
            lines += ["", "Instructions for this question:", self.question_instruction]
        return "\n".join(lines)


class AnswerKeyTask(LLMTask):
    """Ask for one question's answer key; the result is an `AnswerKey`."""

    ledger_operation = "rubric"  # what generate-rubric pays for, wherever it runs

    def __init__(self, context: QuestionContext) -> None:
        super().__init__(answer_key_task_id(context.question_id))
        self.context = context

    def build_messages(self) -> list[LLMMessage]:
        prompt = (
            f"{self.context.describe()}\n\n"
            "Write the answer key for this question: the correct answer, the solution "
            "steps in order, acceptable alternative answers, a short explanation, and "
            "grading notes that say how partial credit is given (which partial work earns "
            "which points, and common mistakes).\n"
            "Reply with one JSON object with the fields question_id, correct_answer, "
            "solution_steps (list of strings), alternative_answers (list of strings), "
            "explanation and grading_notes."
        )
        return [LLMMessage.system(_SYSTEM_PROMPT), LLMMessage.user(prompt)]

    def get_llm_params(self) -> LLMParams:
        return {"json_schema": {"name": task_kinds.ANSWER_KEY, "schema": ANSWER_KEY_SCHEMA}}

    def parse_response(self, text: str) -> AnswerKey:
        data = parse_json_object(text)
        _check_question_id(data, self.context.question_id)
        try:
            key = AnswerKey.model_validate(data)
        except ValidationError as exc:
            raise ResponseValidationError(
                f"the answer key is incomplete: {describe_validation(exc)}"
            ) from None
        if not key.correct_answer.strip():
            raise ResponseValidationError("correct_answer must not be empty")
        return key

    def restore_result(self, data: Any) -> AnswerKey:
        return AnswerKey.model_validate(data)


def _check_question_id(data: dict[str, Any], expected: str) -> None:
    """Fill a missing question_id; refuse a reply about another question."""
    given = data.get("question_id")
    if given is None or str(given).strip() == "":
        data["question_id"] = expected
    elif str(given).strip() != expected:
        raise ResponseValidationError(
            f"question_id is {str(given)!r}, but this is question {expected!r}"
        )
    else:
        data["question_id"] = expected


def describe_answer_key(key: AnswerKey) -> str:
    """An answer key as prompt text for the rubric task."""
    lines = [f"Correct answer: {key.correct_answer}"]
    if key.solution_steps:
        lines.append("Solution steps:")
        lines += [f"  {number}. {step}" for number, step in enumerate(key.solution_steps, 1)]
    if key.alternative_answers:
        lines.append("Alternative answers: " + "; ".join(key.alternative_answers))
    if key.explanation:
        lines.append(f"Explanation: {key.explanation}")
    if key.grading_notes:
        lines.append(f"Grading notes: {key.grading_notes}")
    return "\n".join(lines)


class RubricTask(LLMTask):
    """Ask for one question's rubric, given its answer key; the result is a `Rubric`
    whose criteria points sum exactly to the question's points.

    The key is the result of the question's answer-key task in the same batch, or
    `given_key` when it is already known (the instructor's own, or one on disk)."""

    ledger_operation = "rubric"

    def __init__(self, context: QuestionContext, given_key: AnswerKey | None = None) -> None:
        self.answer_key_id = answer_key_task_id(context.question_id)
        dependencies = () if given_key is not None else (self.answer_key_id,)
        super().__init__(rubric_task_id(context.question_id), dependencies)
        self.context = context
        self.given_key = given_key

    def answer_key(self) -> AnswerKey:
        """The answer key this rubric is built on (given, or set by the executor)."""
        if self.given_key is not None:
            return self.given_key
        result = self.dependency_results[self.answer_key_id]
        return result if isinstance(result, AnswerKey) else AnswerKey.model_validate(result)

    def build_messages(self) -> list[LLMMessage]:
        points = format_points(self.context.points)
        prompt = (
            f"{self.context.describe()}\n\n"
            f"Answer key:\n{describe_answer_key(self.answer_key())}\n\n"
            "Write a grading rubric for this question. Give criteria, each with a name, "
            "a description of what earns its points, its points, and examples of answers "
            f"that earn them. The criteria points must add up to exactly {points}, and "
            f"total_points must be {points}.\n"
            "Reply with one JSON object with the fields question_id, total_points and "
            "criteria (a list of objects with name, description, points and examples)."
        )
        return [LLMMessage.system(_SYSTEM_PROMPT), LLMMessage.user(prompt)]

    def get_llm_params(self) -> LLMParams:
        return {"json_schema": {"name": task_kinds.RUBRIC, "schema": RUBRIC_SCHEMA}}

    def parse_response(self, text: str) -> Rubric:
        data = parse_json_object(text)
        _check_question_id(data, self.context.question_id)
        criteria = _parse_criteria(data.get("criteria"))
        self._check_points(data, criteria)
        data["criteria"] = criteria
        try:
            return Rubric.model_validate(data)
        except ValidationError as exc:
            raise ResponseValidationError(
                f"the rubric is invalid: {describe_validation(exc)}"
            ) from None

    def _check_points(self, data: dict[str, Any], criteria: list[RubricCriterion]) -> None:
        question_id = self.context.question_id
        worth = format_points(self.context.points)
        total = sum(criterion.points for criterion in criteria)
        if not points_equal(total, self.context.points):
            raise ResponseValidationError(
                f"criteria sum to {total:.10g}, but question {question_id} is worth {worth} points"
            )
        given = data.get("total_points")
        if given is None:
            data["total_points"] = self.context.points
            return
        try:
            stated = float(given)
        except (TypeError, ValueError):
            raise ResponseValidationError(f"total_points must be a number, got {given!r}") from None
        if not points_equal(stated, self.context.points):
            raise ResponseValidationError(
                f"total_points is {stated:.10g}, but question {question_id} is worth {worth} points"
            )

    def restore_result(self, data: Any) -> Rubric:
        return Rubric.model_validate(data)


def _parse_criteria(raw: Any) -> list[RubricCriterion]:
    if not isinstance(raw, list) or not raw:
        raise ResponseValidationError("criteria must be a non-empty list of criteria")
    criteria: list[RubricCriterion] = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, Mapping):
            raise ResponseValidationError(f"criterion {number} must be an object")
        try:
            criteria.append(RubricCriterion.model_validate(dict(item)))
        except ValidationError as exc:
            raise ResponseValidationError(
                f"criterion {number} is invalid: {describe_validation(exc)}"
            ) from None
    return criteria
