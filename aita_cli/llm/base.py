"""The one small contract between the engine and every model backend.

The executor calls `client.complete(messages, **params)` with typed messages
(`aita_cli.llm.messages.LLMMessage`); pipelines ask `model_for` and `is_local` instead of
looking at which class a client is. A backend raises only `aita_cli.errors.LLMError`
subclasses and never retries on its own: retries, backoff and rate limiting belong to the
executor, so every attempt is counted and paced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypedDict, runtime_checkable

from aita_cli.llm.messages import LLMMessage
from aita_cli.llm.rate_headers import RateLimitHint
from aita_cli.usage import Usage

__all__ = ["JsonSchemaSpec", "LLMClient", "LLMParams", "LLMResponse"]


class JsonSchemaSpec(TypedDict):
    """A structured-output request. `name` also tells offline and simulated backends
    which kind of task is asking (see `aita_cli.llm.task_kinds`)."""

    name: str
    schema: dict[str, Any]


class LLMParams(TypedDict, total=False):
    """What a task may ask of a call. Backends ignore keys they do not understand."""

    model: str  # overrides the configured model for this call
    vision: bool  # the messages carry images: use the vision model
    temperature: float
    max_tokens: int
    json_schema: JsonSchemaSpec  # sent as response_format json_schema when supported


@dataclass(frozen=True, slots=True)
class LLMResponse:
    """One completed call. `cost` is in USD; `cost_is_estimate` is True when it came
    from a price table rather than the provider's own figure."""

    content: str
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    model: str = ""
    finish_reason: str = "stop"
    cost_is_estimate: bool = False
    rate_limit: RateLimitHint | None = None  # what the provider's headers said is left


@runtime_checkable
class LLMClient(Protocol):
    """A model backend. Implementations must be safe to call from many threads."""

    @property
    def supports_vision(self) -> bool:
        """Whether messages may carry images."""
        ...

    @property
    def is_local(self) -> bool:
        """Whether calls run on this machine with no provider behind them (the offline
        backend): no rate limit to respect and nothing to pay, but this machine's CPU
        does the work."""
        ...

    def model_for(self, *, vision: bool = False) -> str:
        """The model id a text (or, with `vision`, an image) request goes to."""
        ...

    def describe(self) -> str:
        """One line naming the provider and model, for "using ..." messages (no secrets)."""
        ...

    def cache_scope(self) -> str | None:
        """What identifies where requests go, for response-cache keys (the endpoint,
        no secrets); None when replies must never be cached (an offline backend)."""
        ...

    def complete(self, messages: Sequence[LLMMessage], **params: Any) -> LLMResponse:
        """Run one chat completion, or raise an `LLMError`."""
        ...

    def close(self) -> None:
        """Release connections; safe to call twice."""
        ...
