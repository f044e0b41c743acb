"""What the engine tells the store (`aita_cli.store`): every attempt for the cost ledger,
and the response cache around each call.

The cache key is the canonical request: where it goes (the client's `cache_scope`), the
model, the call's parameters and the messages, with every image's bytes hashed (a page
is rendered once for the key; the client reuses that rendering). Only a reply the task
accepted is stored, so a cached reply always parses; a re-ask (a conversation with
corrections) is never answered from the cache. A store that cannot be written stops
nothing: the failure is reported once, after the batch, and the run's costs are still
in its journal.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aita_cli.errors import AitaError, LLMError
from aita_cli.execution.tasks import BatchableLLMTask, LLMTask
from aita_cli.llm.base import LLMResponse
from aita_cli.llm.messages import LLMMessage, as_messages
from aita_cli.store import CachedReply, LedgerRow, LedgerStatus, Store, request_key
from aita_cli.usage import Usage

__all__ = ["Accounting", "CacheLookup", "LedgerScope", "new_run_id"]


def new_run_id() -> str:
    """A run's id in the ledger: sortable by start time (to the microsecond), unique."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%f") + "-" + uuid.uuid4().hex[:8]


@dataclass(frozen=True)
class LedgerScope:
    """Which run, assignment and operation a batch's attempts belong to."""

    run_id: str
    assignment: str
    operation: str


@dataclass
class Accounting:
    """One batch's ledger and cache; safe to use from every worker at once."""

    store: Store
    scope: LedgerScope
    cache_scope: str | None  # None: this backend's replies are never cached (offline)
    use_cache: bool = True
    clock: Callable[[], float] = time.time
    problems: list[str] = field(default_factory=list)  # write failures, said once
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def key(
        self, model: str, messages: Sequence[LLMMessage], params: Mapping[str, Any]
    ) -> str | None:
        """The request's cache key, or None when this backend's replies are never cached.
        With the cache off (`--no-cache`) keys are still made: a fresh reply then
        replaces the stored one, it is just never read."""
        if self.cache_scope is None:
            return None
        return request_key(
            {
                "endpoint": self.cache_scope,
                "model": model,
                "params": dict(params),
                "messages": [_canonical(message) for message in messages],
            }
        )

    def cached(self, key: str | None) -> LLMResponse | None:
        """The stored reply for `key`, as a response that cost nothing now."""
        if key is None or not self.use_cache:
            return None
        reply = self._safely(lambda: self.store.cached(key))
        if reply is None:
            return None
        return LLMResponse(content=reply.content, usage=Usage(), cost=0.0, model=reply.model)

    def remember(self, key: str | None, response: LLMResponse) -> None:
        """Store a reply the task accepted."""
        if key is None:
            return
        usage = response.usage
        reply = CachedReply(
            content=response.content,
            model=response.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=response.cost,
        )
        self._safely(lambda: self.store.remember(key, reply))

    def remember_alone(self, task: LLMTask, model: str, result: Any) -> None:
        """Store a combined call's member as if it had been asked alone (when the task
        can say what its own reply would have been), so the cache finds it however it
        is asked next time: alone, or combined with other tasks."""
        if not isinstance(task, BatchableLLMTask):
            return
        content = task.reply_alone(result)
        if content is None:
            return
        key = self.key(model, as_messages(task.build_messages()), task.get_llm_params())
        self.remember(key, LLMResponse(content=content, model=model))

    def record(
        self,
        task: LLMTask,
        model: str,
        usage: Usage | None,
        cost: float,
        *,
        estimate: bool,
        status: LedgerStatus,
        error: str | None = None,
    ) -> None:
        """One attempt's row in the ledger, under the task's own operation if it names
        one (a rubric made inside `aita grade` counts as "rubric"), else the batch's."""
        usage = usage or Usage()
        row = LedgerRow(
            run_id=self.scope.run_id,
            assignment=self.scope.assignment,
            operation=task.ledger_operation or self.scope.operation,
            task_id=task.task_id,
            model=model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cached_tokens=usage.cached_tokens,
            cost=cost,
            cost_is_estimate=estimate and cost > 0,
            status=status,
            at=self.clock(),
            error=error,
        )
        self._safely(lambda: self.store.record(row))

    def look_up(self, task: LLMTask, model: str, *, record: bool = True) -> CacheLookup:
        """A task's first request, built once, and its stored reply if the cache holds
        one the task still accepts (its rules may have changed since). A hit is a
        ledger row unless `record` is False (the caller records it once it is used)."""
        messages = as_messages(task.build_messages())
        key = self.key(model, messages, task.get_llm_params())
        response = self.cached(key)
        if response is None:
            return CacheLookup(messages, key)
        try:
            result = task.parse_response(response.content)
        except Exception:
            return CacheLookup(messages, key)
        if record:
            self.record_hit(task, model)
        return CacheLookup(messages, key, hit=True, result=result)

    def record_hit(self, task: LLMTask, model: str) -> None:
        """A request answered from the cache: a row that cost nothing."""
        self.record(task, model, None, 0.0, estimate=False, status="cache_hit")

    def record_call(
        self, task: LLMTask, model: str, paid: LLMResponse | LLMError, error: Exception | None
    ) -> None:
        """The row of an attempt that reached the provider: "success", or "failed" with
        the error (a reply that broke the task's rules, a provider error), and its cost."""
        status: LedgerStatus = "success" if error is None else "failed"
        self.record(
            task, model, paid.usage, paid.cost, estimate=paid.cost_is_estimate,
            status=status, error=(str(error) or type(error).__name__) if error else None,
        )  # fmt: skip

    def _safely(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except AitaError as error:
            with self._lock:
                if not self.problems:
                    self.problems.append(
                        f"{error}; the summary below still counts this run's costs"
                    )
            return None


@dataclass
class CacheLookup:
    """What looking a request up found: the messages built for the key (sent as they
    are on a miss), the key, and on a hit the task's result from the stored reply."""

    messages: list[LLMMessage]
    key: str | None
    hit: bool = False
    result: Any = None


def _canonical(message: LLMMessage) -> dict[str, Any]:
    images = []
    for image in message.images:
        loaded = image.load()
        images.append(
            {"type": loaded.media_type, "sha256": hashlib.sha256(loaded.data).hexdigest()}
        )
    return {"role": message.role, "text": message.text, "images": images}
