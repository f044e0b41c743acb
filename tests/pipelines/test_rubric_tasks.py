"""AnswerKeyTask and RubricTask: prompts that backends recognise, strict reply checks."""

from __future__ import annotations

import json

import pytest

from aita_cli.domain.models import AnswerKey, Question, QuestionType
from aita_cli.errors import ResponseValidationError
from aita_cli.llm import task_kinds
from aita_cli.llm.messages import messages_text
from aita_cli.llm.offline_templates import template_reply
from aita_cli.pipelines.rubric_tasks import (
    AnswerKeyTask,
    QuestionContext,
    RubricTask,
    parse_json_object,
)
from aita_cli.simulate.synthesis import simulated_reply


def _context(points: float = 10, question_id: str = "2a") -> QuestionContext:
    question = Question(
        question_id=question_id,
        question_text="A car travels 120 km in 1.5 hours. Compute its average speed.",
        points=points,
        question_type=QuestionType.CALCULATION,
    )
    return QuestionContext("Physics", question, "Be fair.", "Units are required.")


def _rubric_task(points: float = 10) -> RubricTask:
    task = RubricTask(_context(points))
    task.set_dependency_results(
        {"answer_key/2a": AnswerKey(question_id="2a", correct_answer="80 km/h")}
    )
    return task


def test_answer_key_prompt_carries_the_labelled_lines_and_instructions() -> None:
    task = AnswerKeyTask(_context(2.5))
    text = messages_text(task.build_messages())
    assert task_kinds.read_prompt_field(text, task_kinds.QUESTION_ID_LINE) == "2a"
    assert task_kinds.read_prompt_field(text, task_kinds.QUESTION_TYPE_LINE) == "calculation"
    assert task_kinds.read_prompt_field(text, task_kinds.QUESTION_POINTS_LINE) == "2.5"
    assert "Compute its average speed" in text
    assert "Be fair." in text
    assert "Units are required." in text
    assert "partial credit" in text
    assert task_kinds.kind_of_request(dict(task.get_llm_params())) == task_kinds.ANSWER_KEY


def test_schemas_leave_out_source_and_require_every_field() -> None:
    schema = AnswerKeyTask(_context()).get_llm_params()["json_schema"]["schema"]
    assert "source" not in schema["properties"]
    assert set(schema["required"]) == set(schema["properties"])
    rubric_schema = _rubric_task().get_llm_params()["json_schema"]
    assert rubric_schema["name"] == task_kinds.RUBRIC
    assert "source" not in rubric_schema["schema"]["properties"]


def test_rubric_prompt_contains_the_answer_key() -> None:
    text = messages_text(_rubric_task().build_messages())
    assert "Correct answer: 80 km/h" in text
    assert "exactly 10" in text
    assert _rubric_task().dependencies == ("answer_key/2a",)


def test_synthesized_replies_parse() -> None:
    key_task = AnswerKeyTask(_context(2.5))
    key_reply = template_reply(key_task.build_messages(), key_task.get_llm_params())
    assert key_reply is not None
    key = key_task.parse_response(key_reply)
    assert key.source == "offline-template"
    rubric_task = _rubric_task(2.5)
    rubric_reply = simulated_reply(rubric_task.build_messages(), rubric_task.get_llm_params())
    assert rubric_reply is not None
    assert rubric_task.parse_response(rubric_reply).total_points == 2.5


def test_fenced_json_is_accepted() -> None:
    reply = '```json\n{"criteria": [{"name": "speed", "points": 10}]}\n```'
    rubric = _rubric_task().parse_response(reply)
    assert rubric.question_id == "2a"
    assert rubric.total_points == 10


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            {"criteria": [{"name": "a", "points": 4}, {"name": "b", "points": 5}]},
            "criteria sum to 9, but question 2a is worth 10 points",
        ),
        (
            {"total_points": 8, "criteria": [{"name": "a", "points": 10}]},
            "total_points is 8, but question 2a is worth 10 points",
        ),
        (
            {"question_id": "3", "criteria": [{"name": "a", "points": 10}]},
            "question_id is '3', but this is question '2a'",
        ),
        (
            {"total_points": "ten", "criteria": [{"name": "a", "points": 10}]},
            "total_points must be a number, got 'ten'",
        ),
        (
            {"criteria": [{"name": "a", "points": 3.3333}] * 3},
            "criteria sum to 9.9999, but question 2a is worth 10 points",
        ),
        ({"criteria": []}, "criteria must be a non-empty list"),
        ({"criteria": [{"points": 10}]}, "criterion 1 is invalid: name"),
        ({"criteria": [{"name": "a", "points": -1}, {"name": "b", "points": 11}]}, "criterion 1"),
    ],
)
def test_rubric_rule_breaks_name_the_exact_problem(reply: object, message: str) -> None:
    with pytest.raises(ResponseValidationError) as caught:
        _rubric_task().parse_response(json.dumps(reply))
    assert message in str(caught.value)


def test_answer_key_rule_breaks() -> None:
    task = AnswerKeyTask(_context())
    with pytest.raises(ResponseValidationError, match="correct_answer"):
        task.parse_response(json.dumps({"question_id": "2a"}))
    with pytest.raises(ResponseValidationError, match="not valid JSON"):
        task.parse_response("The answer is 80 km/h.")
    with pytest.raises(ResponseValidationError, match="one JSON object"):
        task.parse_response("[1, 2]")


def test_restore_result_round_trips() -> None:
    task = _rubric_task()
    rubric = task.parse_response(json.dumps({"criteria": [{"name": "a", "points": 10}]}))
    assert task.restore_result(rubric.model_dump(mode="json")) == rubric


def test_parse_json_object_strips_plain_fences() -> None:
    assert parse_json_object('```\n{"a": 1}\n```') == {"a": 1}
