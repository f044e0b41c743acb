"""The in-memory ScriptedLLMClient the executor tests and benchmarks rely on."""

from __future__ import annotations

import threading

import pytest

from aita_cli.errors import MalformedResponseError, RateLimitError
from aita_cli.llm.base import LLMClient
from aita_cli.llm.messages import MessageLike
from aita_cli.simulate.scripted import ScriptedLLMClient, ScriptedReply
from aita_cli.usage import Usage
from tests.execution._executor_support import FakeClock


def ask(client: ScriptedLLMClient, text: str, **params: object) -> str:
    return client.complete([{"role": "user", "content": text}], **params).content


def test_scripted_steps_then_the_default_reply() -> None:
    client = ScriptedLLMClient(lambda messages, params: f"echo {messages[0].text}")
    client.script("a", "first", RateLimitError("slow down", retry_after=1.5))
    assert isinstance(client, LLMClient)
    assert client.supports_vision
    assert ask(client, "a") == "first"
    with pytest.raises(RateLimitError) as raised:
        ask(client, "a")
    assert raised.value.retry_after == 1.5
    assert ask(client, "a") == "echo a"
    assert ask(client, "b") == "echo b"
    assert [call.failed for call in client.calls_for("a")] == [False, True, False]
    assert client.call_count == 4


def test_latency_usage_and_cost_per_reply() -> None:
    clock = FakeClock()
    client = ScriptedLLMClient(
        latency=2.0, usage=Usage(1, 1), cost=0.1, clock=clock, sleep=clock.sleep
    )
    client.script("q", ScriptedReply(content="x", latency=5.0, usage=Usage(7, 3), cost=0.5))
    response = client.complete([{"role": "user", "content": "q"}], temperature=0.0)
    assert (response.content, response.usage, response.cost) == ("x", Usage(7, 3), 0.5)
    default = client.complete([{"role": "user", "content": "q"}])
    assert (default.content, default.usage, default.cost) == ("ok", Usage(1, 1), 0.1)
    first, second = client.calls
    assert first.finished - first.started == 5.0
    assert second.finished - second.started == 2.0
    assert first.params == {"temperature": 0.0}


def test_malformed_replies_and_errors_are_scriptable() -> None:
    client = ScriptedLLMClient()
    client.script("q", ScriptedReply(content="", finish_reason="length"))
    client.script("q", MalformedResponseError("no choices"))
    assert client.complete([{"role": "user", "content": "q"}]).finish_reason == "length"
    with pytest.raises(MalformedResponseError):
        ask(client, "q")


def test_the_key_is_the_first_user_text_even_with_images() -> None:
    client = ScriptedLLMClient()
    client.script("read page 1", "page one")
    messages: list[MessageLike] = [
        {"role": "system", "content": "you transcribe"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "read page 1"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}},
            ],
        },
    ]
    assert client.complete(messages).content == "page one"


def test_concurrent_calls_are_counted() -> None:
    gate = threading.Event()
    client = ScriptedLLMClient(gate_timeout=2.0)
    for _ in range(3):
        client.script("q", ScriptedReply(content="x", gate=gate))
    threads = [threading.Thread(target=ask, args=(client, "q")) for _ in range(3)]
    for thread in threads:
        thread.start()
    while client.call_count < 3:
        threading.Event().wait(0.001)
    gate.set()
    for thread in threads:
        thread.join()
    assert client.max_in_flight == 3
    assert len(client.calls) == 3
