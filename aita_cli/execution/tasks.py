"""The units of work the executor runs: one task, one model request (plus its retries).

A task builds its messages, parses the reply, and may name tasks it depends on. The
executor hands it their results before it builds its request, so a rubric task can put its
answer key into its prompt. Everything a task returns from `parse_response` must be
JSON-serialisable or a pydantic model, because it is journaled; `restore_result` turns the
journaled JSON back into the task's own type on resume.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from pydantic import BaseModel

from aita_cli.errors import AitaError
from aita_cli.llm.base import LLMParams
from aita_cli.llm.messages import ImageAttachment, LLMMessage, MessageLike, as_messages

__all__ = [
    "BatchableLLMTask",
    "LLMTask",
    "SimpleLLMTask",
    "VisionLLMTask",
    "request_fingerprint",
    "to_jsonable",
]


def to_jsonable(value: Any) -> Any:
    """A task result as plain JSON data (pydantic models dumped), for the journal."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    return value


def request_fingerprint(material: Any) -> str:
    """A stable sha256 of whatever identifies a request (keys sorted)."""
    try:
        # Plain JSON data (the usual case) encodes to the same bytes either way; the
        # walk through `to_jsonable` is only needed for models and non-string keys.
        encoded = orjson.dumps(material, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        encoded = orjson.dumps(to_jsonable(material), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(encoded).hexdigest()


class LLMTask(ABC):
    """One model request and what to do with its reply.

    Subclasses set `task_id` (unique within a batch) and implement `build_messages` and
    `parse_response`. `parse_response` raises `ResponseValidationError` for a reply that
    breaks the task's rules; the executor then re-asks, appending the error (bounded by
    the retry budget).
    """

    task_id: str
    #: ids of tasks whose successful results this task needs before it can start
    dependencies: tuple[str, ...] = ()
    #: what its calls count as in the cost ledger (None: the batch's operation)
    ledger_operation: str | None = None

    def __init__(self, task_id: str, dependencies: Sequence[str] = ()) -> None:
        self.task_id = task_id
        self.dependencies = tuple(dependencies)
        self.dependency_results: dict[str, Any] = {}

    @abstractmethod
    def build_messages(self) -> Sequence[MessageLike]:
        """The chat messages to send (`LLMMessage`s, or OpenAI dicts). Called in the
        worker, just before sending."""

    @abstractmethod
    def parse_response(self, text: str) -> Any:
        """Turn the reply's text into this task's result, or raise ResponseValidationError."""

    def get_llm_params(self) -> LLMParams:
        """Per-call parameters (model, temperature, json_schema, ...)."""
        return {}

    def should_retry(self, error: Exception, retry_count: int) -> bool:
        """Whether to try again after `error`; `retry_count` retries have been made.

        The default retries what can succeed next time (see `aita_cli.execution.retry`);
        the executor's `RetryPolicy` enforces its `max_retries` cap first.
        """
        return isinstance(error, AitaError) and bool(getattr(error, "retryable", False))

    def accepts_failed(self, dependency_id: str) -> bool:
        """Whether this task still runs when that dependency fails for good (it then
        gets None as its result); False, the default, fails this task too."""
        return False

    def answer_without_call(self) -> Any | None:
        """The result, when it is already known once the dependencies are in, so no call
        is made (a blank answer scores 0; offline grading scores exactly); None (the
        default) to call the model. Called in the batch thread: keep it cheap."""
        return None

    def on_success(self, result: Any) -> None:  # noqa: B027 - an optional hook
        """Called once with the result when the task succeeds (also when resumed), in
        the thread that runs the batch; if it raises, the task fails instead."""

    def set_dependency_results(self, results: Mapping[str, Any]) -> None:
        """Receive the results of `dependencies`, keyed by task id, before building."""
        self.dependency_results = dict(results)

    def restore_result(self, data: Any) -> Any:
        """Rebuild a result from its journaled JSON form; identity by default."""
        return data

    def fingerprint_material(self) -> Any:
        """What identifies this request; a journaled success is reused only while its
        fingerprint is unchanged. Override when building messages is expensive."""
        messages = as_messages(self.build_messages())
        return {
            "messages": [message.identity() for message in messages],
            "params": self.get_llm_params(),
        }

    def fingerprint(self) -> str:
        return request_fingerprint(self.fingerprint_material())


class SimpleLLMTask(LLMTask):
    """A single-prompt task: `SimpleLLMTask("q1", "What is 2+2?", int)`."""

    def __init__(
        self,
        task_id: str,
        prompt: str,
        parse_fn: Callable[[str], Any] | None = None,
        *,
        system: str | None = None,
        params: LLMParams | None = None,
        dependencies: Sequence[str] = (),
    ) -> None:
        super().__init__(task_id, dependencies)
        self.prompt = prompt
        self.parse_fn = parse_fn
        self.system = system
        self.params: LLMParams = params or {}

    def build_messages(self) -> list[LLMMessage]:
        messages = [LLMMessage.system(self.system)] if self.system else []
        messages.append(LLMMessage.user(self.prompt))
        return messages

    def parse_response(self, text: str) -> Any:
        return self.parse_fn(text) if self.parse_fn else text

    def get_llm_params(self) -> LLMParams:
        return self.params


class VisionLLMTask(LLMTask):
    """A task that sends images: one user message with the prompt text and the images.

    `get_images` is called in the worker just before sending, and returns attachments
    (`ImageURL`, or a `LazyImage` rendered only when the client sends it), so rendered
    pages never pile up in memory. How they travel on the wire is the client's business.
    """

    @abstractmethod
    def get_images(self) -> Sequence[ImageAttachment]:
        """The images to send."""

    @abstractmethod
    def get_prompt_text(self) -> str:
        """The instruction text that goes with the images."""

    def get_system_prompt(self) -> str | None:
        return None

    def build_messages(self) -> list[LLMMessage]:
        system = self.get_system_prompt()
        messages = [LLMMessage.system(system)] if system else []
        messages.append(LLMMessage.user(self.get_prompt_text(), self.get_images()))
        return messages

    def get_llm_params(self) -> LLMParams:
        return {"vision": True}

    def image_identity(self) -> Any:
        """What identifies the images without loading them: each attachment's identity
        (a URL, or a page's file identity and how it is rendered)."""
        return [image.identity() for image in self.get_images()]

    def fingerprint_material(self) -> Any:
        return {
            "system": self.get_system_prompt(),
            "prompt": self.get_prompt_text(),
            "images": self.image_identity(),
            "params": self.get_llm_params(),
        }


class BatchableLLMTask(LLMTask):
    """A task the executor may combine with compatible pending tasks into one call.

    The combined task's result is split back so each original task gets its own result
    and its own journal record.
    """

    @abstractmethod
    def can_batch_with(self, other: LLMTask) -> bool:
        """Whether `other` may share a call with this task."""

    @abstractmethod
    def combine_with(self, others: Sequence[LLMTask]) -> LLMTask:
        """One task that asks for this task's and `others`' results in a single call."""

    def reply_alone(self, result: Any) -> str | None:
        """The reply text this task would have had asked alone, rebuilt from its part of
        a combined result, for the response cache; None (the default): not cached."""
        return None

    @abstractmethod
    def split_batch_result(self, result: Any) -> Mapping[str, Any]:
        """Split the combined task's result into {task_id: result} for every member.

        Called on the task that `combine_with` was called on. A member missing from the
        mapping fails (and is retried alone).
        """
