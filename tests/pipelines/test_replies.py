"""Reading JSON replies: bare, fenced, wrapped in prose; clear errors otherwise."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from aita_cli.errors import ResponseValidationError
from aita_cli.pipelines.replies import describe_validation, json_object_from_reply


@pytest.mark.parametrize(
    "reply",
    [
        '{"a": 1}',
        '```json\n{"a": 1}\n```',
        '```\n{"a": 1}\n```',
        'Here is the rubric:\n```json\n{"a": 1}\n```\nHope it helps.',
        'Sure! {"a": 1} is my answer.',
    ],
)
def test_the_object_is_found_however_it_is_wrapped(reply: str) -> None:
    assert json_object_from_reply(reply) == {"a": 1}


def test_not_json_says_where() -> None:
    with pytest.raises(ResponseValidationError, match=r"not valid JSON .* line 1 column"):
        json_object_from_reply("{'a': 1}")


def test_a_list_is_not_an_object() -> None:
    with pytest.raises(ResponseValidationError, match="JSON list, not an object with x"):
        json_object_from_reply("[1, 2]", expected="an object with x")


def test_validation_problems_name_their_fields() -> None:
    class Shape(BaseModel):
        text: str
        confidence: float

    with pytest.raises(ValidationError) as caught:
        Shape.model_validate({"confidence": "high"})
    described = describe_validation(caught.value)
    assert "text: Field required" in described
    assert "confidence:" in described


@pytest.mark.parametrize(
    "reply",
    [
        '{"answer": "```python\\ndef f():\\n    return 1\\n```"}',
        '```json\n{"answer": "```python\\ndef f():\\n    return 1\\n```"}\n```',
        'Here it is: {"answer": "```python\\ndef f():\\n    return 1\\n```"}',
    ],
)
def test_code_fences_quoted_inside_the_json_are_content_not_wrappers(reply: str) -> None:
    # An answer key for a programming question quotes code in fences; such a reply is
    # valid JSON and must not be re-asked (and paid for) until it fails.
    assert json_object_from_reply(reply) == {"answer": "```python\ndef f():\n    return 1\n```"}


def test_broken_json_in_fences_is_reported() -> None:
    with pytest.raises(ResponseValidationError, match="not valid JSON"):
        json_object_from_reply('```json\n{"a": 1,}\n```')
