"""Replies without a model (the offline templates and `aita simulate`'s) validate against
the domain models."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from aita_cli.domain.models import AnswerKey, PageTranscription, Rubric, points_equal
from aita_cli.domain.provenance import TEMPLATE_SOURCE
from aita_cli.llm import task_kinds as tk
from aita_cli.llm.messages import MessageLike, as_messages
from aita_cli.llm.offline_templates import allocate_points, template_reply
from aita_cli.simulate.synthesis import simulated_reply


def synthesize_reply(
    messages: list[MessageLike],
    params: dict[str, Any],
    *,
    source: str | None,
    rng: random.Random | None = None,
) -> str | None:
    """The offline template reply for `source=TEMPLATE_SOURCE`, else the simulator's."""
    typed = as_messages(messages)
    if source == TEMPLATE_SOURCE:
        return template_reply(typed, params)
    return simulated_reply(typed, params, rng=rng)


def _question_prompt(qid: str = "2a", qtype: str = "calculation", points: str = "10") -> str:
    return (
        "Write a rubric for this question.\n"
        f"{tk.QUESTION_ID_LINE}: {qid}\n"
        f"{tk.QUESTION_TYPE_LINE}: {qtype}\n"
        f"{tk.QUESTION_POINTS_LINE}: {points}\n"
        f"{tk.QUESTION_TEXT_LINE}: Differentiate x^2 and evaluate at x = 3.\n"
    )


def _params(kind: str) -> dict[str, Any]:
    return {"json_schema": {"name": kind, "schema": {"type": "object"}}}


def _ask(kind: str, prompt: str, source: str | None = None) -> dict[str, Any]:
    messages: list[MessageLike] = [{"role": "user", "content": prompt}]
    reply = synthesize_reply(messages, _params(kind), source=source)
    assert reply is not None
    data: dict[str, Any] = json.loads(reply)
    return data


@pytest.mark.parametrize(
    "qtype", ["multiple_choice", "short_answer", "long_answer", "calculation", "diagram"]
)
@pytest.mark.parametrize("points", ["10", "2.5", "1", "3", "0.75", "7.3", "100"])
def test_rubric_criteria_sum_exactly_to_points(qtype: str, points: str) -> None:
    rubric = Rubric.model_validate(_ask(tk.RUBRIC, _question_prompt(qtype=qtype, points=points)))
    assert rubric.question_id == "2a"
    assert points_equal(rubric.total_points, float(points))
    assert points_equal(sum(c.points for c in rubric.criteria), float(points))
    assert all(c.points > 0 for c in rubric.criteria)


def test_rubric_criteria_suit_the_question_type() -> None:
    def names(qtype: str) -> list[str]:
        rubric = _ask(tk.RUBRIC, _question_prompt(qtype=qtype, points="20"))
        return [criterion["name"] for criterion in rubric["criteria"]]

    assert names("calculation") == ["Method", "Working", "Final answer", "Units"]
    assert names("multiple_choice") == ["Correct choice"]
    assert names("long_answer") == ["Thesis", "Evidence", "Reasoning", "Clarity"]
    assert names("short_answer") == ["Key idea", "Accuracy"]
    assert names("diagram") == ["Components", "Labels", "Accuracy"]


def test_small_points_get_fewer_criteria() -> None:
    rubric = _ask(tk.RUBRIC, _question_prompt(qtype="calculation", points="2"))
    assert [(c["name"], c["points"]) for c in rubric["criteria"]] == [
        ("Method", 1.0),
        ("Working", 1.0),
    ]


def test_allocate_points_uses_even_steps() -> None:
    assert allocate_points(10, [0.3, 0.3, 0.3, 0.1]) == [(0, 3.0), (1, 3.0), (2, 3.0), (3, 1.0)]
    assert allocate_points(2.5, [0.6, 0.4]) == [(0, 1.5), (1, 1.0)]
    assert allocate_points(1 / 3, [0.6, 0.4]) == [(0, 1 / 3)]


def test_answer_key_template_is_marked_and_complete() -> None:
    data = _ask(tk.ANSWER_KEY, _question_prompt(), source="offline-template")
    key = AnswerKey.model_validate(data)
    assert key.source == "offline-template"
    assert key.correct_answer.startswith("[TEMPLATE — instructor to complete]")
    assert "Differentiate x^2" in key.correct_answer
    assert key.solution_steps
    assert key.alternative_answers
    assert key.explanation
    assert key.grading_notes


def test_simulated_answer_key_has_no_source_and_no_template_mark() -> None:
    data = _ask(tk.ANSWER_KEY, _question_prompt())
    assert "source" not in data
    key = AnswerKey.model_validate(data)
    assert key.question_id == "2a"
    assert "TEMPLATE" not in key.correct_answer


def test_page_transcription_answers_each_listed_question() -> None:
    prompt = f"Transcribe.\n{tk.PAGE_NUMBER_LINE}: 3\n{tk.PAGE_QUESTIONS_LINE}: 1, 2a\n"
    page = PageTranscription.model_validate(_ask(tk.PAGE_TRANSCRIPTION, prompt))
    assert [answer.question_id for answer in page.answers] == ["1", "2a"]
    assert "1" in page.text
    assert "2a" in page.text
    assert 0.85 <= page.confidence <= 0.95


def test_page_without_listed_questions_has_no_answers() -> None:
    prompt = f"Transcribe.\n{tk.PAGE_NUMBER_LINE}: 1\n{tk.PAGE_QUESTIONS_LINE}:\n"
    page = PageTranscription.model_validate(_ask(tk.PAGE_TRANSCRIPTION, prompt))
    assert page.answers == []
    assert page.text


def test_same_request_same_reply_and_rng_is_used() -> None:
    prompt = f"{tk.PAGE_QUESTIONS_LINE}: 1, 2, 3, 4\n"
    messages: list[MessageLike] = [{"role": "user", "content": prompt}]
    params = _params(tk.PAGE_TRANSCRIPTION)
    first = synthesize_reply(messages, params, source=None)
    assert first == synthesize_reply(messages, params, source=None)
    seeded = [
        synthesize_reply(messages, params, source=None, rng=random.Random(seed)) for seed in (1, 1)
    ]
    assert seeded[0] == seeded[1]


def test_http_body_with_response_format_is_understood() -> None:
    messages: list[MessageLike] = [{"role": "user", "content": _question_prompt(points="4")}]
    body: dict[str, Any] = {
        "model": "m",
        "messages": messages,
        "response_format": {"type": "json_schema", "json_schema": {"name": tk.RUBRIC}},
    }
    reply = synthesize_reply(messages, body, source=None)
    assert reply is not None
    assert Rubric.model_validate_json(reply).total_points == 4


def test_reask_after_an_error_answers_correctly_again() -> None:
    messages: list[MessageLike] = [
        {"role": "user", "content": _question_prompt(points="5")},
        {"role": "assistant", "content": '{"question_id": "2a", "total_points": 4}'},
        {"role": "user", "content": "Your reply was invalid: criteria points sum to 4, not 5."},
    ]
    reply = synthesize_reply(messages, _params(tk.RUBRIC), source=None)
    assert reply is not None
    assert Rubric.model_validate_json(reply).total_points == 5


def test_unknown_kind_gives_none() -> None:
    messages: list[MessageLike] = [{"role": "user", "content": "hello"}]
    assert synthesize_reply(messages, {}, source=None) is None
    assert synthesize_reply(messages, _params("poem"), source=None) is None


def test_offline_page_without_image_is_a_marked_template() -> None:
    prompt = f"{tk.PAGE_QUESTIONS_LINE}: 4"
    data = _ask(tk.PAGE_TRANSCRIPTION, prompt, source="offline-template")
    page = PageTranscription.model_validate(data)
    assert page.source == "offline-template"
    assert page.confidence == 0.0
    assert page.answers[0].text.startswith("[TEMPLATE")


def test_question_type_spelling_is_normalised() -> None:
    rubric = _ask(tk.RUBRIC, _question_prompt(qtype="Multiple Choice", points="2"))
    assert [c["name"] for c in rubric["criteria"]] == ["Correct choice"]
