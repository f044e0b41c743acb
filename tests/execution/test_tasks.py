"""Request fingerprints: stable, key-order blind, and the same for models and plain data."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from pydantic import BaseModel

from aita_cli.execution.tasks import LLMTask, request_fingerprint
from aita_cli.llm.messages import MessageLike


class _Part(BaseModel):
    text: str = "x"
    points: int = 2


def _sha(data: object) -> str:
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def test_the_fingerprint_ignores_key_order() -> None:
    one = {"messages": [{"role": "user", "content": "hi"}], "params": {"a": 1, "b": (2, 3)}}
    two = {"params": {"b": [2, 3], "a": 1}, "messages": [{"content": "hi", "role": "user"}]}
    assert request_fingerprint(one) == request_fingerprint(two) == _sha(two)


def test_models_and_non_string_keys_fingerprint_as_their_json() -> None:
    # Journals written before keep their fingerprints: a model counts as its JSON dump
    # and a key as its str().
    material = {"part": _Part(), 1: [_Part(points=3)]}
    plain = {"part": {"text": "x", "points": 2}, "1": [{"text": "x", "points": 3}]}
    assert request_fingerprint(material) == _sha(plain)


def test_a_task_returning_openai_dicts_keeps_its_fingerprint() -> None:
    # The fingerprint of a task whose messages are OpenAI dicts is that of the dicts as
    # given, other keys and part order included, as journals written before typed
    # messages recorded it.
    messages: list[dict[str, Any]] = [
        {"role": "user", "name": "bob", "content": [{"type": "text", "text": "A"}]},
    ]

    class DictTask(LLMTask):
        def build_messages(self) -> list[MessageLike]:
            return list(messages)

        def parse_response(self, text: str) -> str:
            return text

    task = DictTask("t")
    assert task.fingerprint() == request_fingerprint({"messages": messages, "params": {}})
