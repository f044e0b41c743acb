"""An in-memory model backend that replies as scripted: the fake for tests and benchmarks.

It is a real `LLMClient` (thread-safe, no mocking): each call is matched to a *key*
(by default the text of the first user message, which stays the same when the executor
re-asks), takes the next scripted step for that key if there is one, and otherwise
answers with `reply_fn`. A step is a reply text, an `LLMError` to raise (a
`RateLimitError` may carry `retry_after`), or a `ScriptedReply` with its own latency,
usage, cost or gate. Latency goes through the injected `sleep`, so with a fake clock a
"slow" call takes no real time. Every call is recorded for assertions.

    client = ScriptedLLMClient(lambda messages, params: "42")
    client.script("What is 6*7?", RateLimitError("slow down", retry_after=2.0), "42")
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aita_cli.errors import LLMError
from aita_cli.llm.base import LLMResponse
from aita_cli.llm.messages import LLMMessage, MessageLike, as_messages
from aita_cli.usage import Usage

__all__ = ["RecordedCall", "ScriptedLLMClient", "ScriptedReply", "first_user_text"]

ReplyFn = Callable[[list[LLMMessage], dict[str, Any]], str]
KeyFn = Callable[[list[LLMMessage], dict[str, Any]], str]
LatencyFn = Callable[[list[LLMMessage], dict[str, Any]], float]


@dataclass(frozen=True, slots=True)
class ScriptedReply:
    """One scripted call. Fields left None fall back to the client's defaults.

    `gate`: the call blocks until this event is set (at most the client's
    `gate_timeout` real seconds), to hold a call "in flight" while a test looks.
    """

    content: str | None = None
    error: LLMError | None = None
    latency: float | None = None
    usage: Usage | None = None
    cost: float | None = None
    cost_is_estimate: bool | None = None
    finish_reason: str = "stop"
    gate: threading.Event | None = None


Step = ScriptedReply | LLMError | str


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """A call the client received: its key, request, and clock times."""

    key: str
    messages: list[LLMMessage]
    params: dict[str, Any]
    started: float
    finished: float
    failed: bool


def first_user_text(messages: list[LLMMessage], params: dict[str, Any]) -> str:
    """The text of the first user message; the default call key."""
    return next((message.text for message in messages if message.role == "user"), "")


def _reply_ok(messages: list[LLMMessage], params: dict[str, Any]) -> str:
    return "ok"


class ScriptedLLMClient:
    """A thread-safe, scripted, in-memory `LLMClient` (see the module docstring)."""

    def __init__(
        self,
        reply_fn: ReplyFn | None = None,
        *,
        latency: float | LatencyFn = 0.0,
        usage: Usage | None = None,
        cost: float = 0.0,
        cost_is_estimate: bool = False,
        model: str = "scripted-model",
        key_fn: KeyFn = first_user_text,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        gate_timeout: float = 10.0,
        record_calls: bool = True,
    ) -> None:
        self._reply_fn = reply_fn or _reply_ok
        self._latency = latency
        self._usage = usage if usage is not None else Usage(10, 5)
        self._cost = cost
        self._cost_is_estimate = cost_is_estimate
        self._model = model
        self._key_fn = key_fn
        self._clock = clock
        self._sleep = sleep
        self._gate_timeout = gate_timeout
        self._record_calls = record_calls
        self._lock = threading.Lock()
        self._scripts: dict[str, deque[Step]] = {}
        self._calls: list[RecordedCall] = []
        self._call_count = 0
        self._in_flight = 0
        self._max_in_flight = 0
        self.closed = False

    @property
    def supports_vision(self) -> bool:
        return True

    @property
    def is_local(self) -> bool:
        """False: it stands in for a remote provider, so runs keep their usual pacing."""
        return False

    def model_for(self, *, vision: bool = False) -> str:
        return self._model

    def describe(self) -> str:
        return f"scripted in-memory client (model {self._model})"

    def cache_scope(self) -> None:
        """None: scripted replies are the test's, never the cache's."""
        return

    def script(self, key: str, *steps: Step) -> None:
        """Queue steps for calls with this key; they are used once each, in order."""
        with self._lock:
            self._scripts.setdefault(key, deque()).extend(steps)

    def complete(self, messages: Sequence[MessageLike], **params: Any) -> LLMResponse:
        """Answer one call as scripted, or raise its scripted error."""
        typed = as_messages(messages)
        key = self._key_fn(typed, params)
        reply = self._begin(key)
        started = self._clock()
        failed = True
        try:
            response = self._answer(reply, typed, params)
            failed = False
            return response
        finally:
            self._end(RecordedCall(key, typed, params, started, self._clock(), failed))

    def _begin(self, key: str) -> ScriptedReply:
        with self._lock:
            self._call_count += 1
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)
            queued = self._scripts.get(key)
            step: Step = queued.popleft() if queued else ScriptedReply()
        if isinstance(step, str):
            return ScriptedReply(content=step)
        if isinstance(step, LLMError):
            return ScriptedReply(error=step)
        return step

    def _end(self, call: RecordedCall) -> None:
        with self._lock:
            self._in_flight -= 1
            if self._record_calls:
                self._calls.append(call)

    def _answer(
        self, reply: ScriptedReply, messages: list[LLMMessage], params: dict[str, Any]
    ) -> LLMResponse:
        if reply.gate is not None:
            reply.gate.wait(self._gate_timeout)
        latency = reply.latency
        if latency is None:
            latency = self._latency(messages, params) if callable(self._latency) else self._latency
        if latency > 0:
            self._sleep(latency)
        if reply.error is not None:
            raise reply.error
        content = reply.content
        if content is None:
            content = self._reply_fn(messages, params)
        return LLMResponse(
            content=content,
            usage=reply.usage if reply.usage is not None else self._usage,
            cost=reply.cost if reply.cost is not None else self._cost,
            model=self._model,
            finish_reason=reply.finish_reason,
            cost_is_estimate=(
                reply.cost_is_estimate
                if reply.cost_is_estimate is not None
                else self._cost_is_estimate
            ),
        )

    @property
    def calls(self) -> list[RecordedCall]:
        """Every finished call so far, in the order they finished."""
        with self._lock:
            return list(self._calls)

    def calls_for(self, key: str) -> list[RecordedCall]:
        """The finished calls with this key."""
        return [call for call in self.calls if call.key == key]

    @property
    def call_count(self) -> int:
        """How many calls were started (recorded or not)."""
        return self._call_count

    @property
    def max_in_flight(self) -> int:
        """The most calls that were ever running at once."""
        return self._max_in_flight

    def close(self) -> None:
        self.closed = True
