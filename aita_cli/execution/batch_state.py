"""The state of one batch that attempts read and return: jobs, their outcomes, and the
context every attempt of the batch shares (see `attempt.py` for what an attempt does,
and `scheduling.py` for who acts on its outcome)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aita_cli.execution.accounting import Accounting
from aita_cli.execution.admission import AdmissionControl
from aita_cli.execution.cost_ledger import CostLedger
from aita_cli.execution.progress import ProgressSnapshot, task_rate_cap
from aita_cli.execution.rate_limiter import TokenBucketRateLimiter
from aita_cli.execution.results import TaskResult
from aita_cli.execution.retry import RetryPolicy
from aita_cli.execution.tasks import BatchableLLMTask, LLMTask
from aita_cli.execution.token_budget import TokenBudget
from aita_cli.llm.base import LLMClient, LLMResponse
from aita_cli.llm.messages import LLMMessage
from aita_cli.usage import Usage

__all__ = ["BatchContext", "Finished", "Job", "Outcome"]


@dataclass(eq=False)
class Job:
    """One model request and its history: which tasks it answers, what it cost so far."""

    task: LLMTask  # what is sent: the task itself, or the combined task
    members: list[int]  # positions of the original tasks this request answers
    leader: BatchableLLMTask | None = None  # for a combined request: who splits the result
    solo: bool = False  # never combine again (it went missing from a combined result)
    retries: int = 0
    attempts: int = 0
    follow_up: list[LLMMessage] = field(default_factory=list)  # re-ask conversation so far
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0
    cost_is_estimate: bool = False
    first_started: float | None = None
    last_reply: str | None = None
    granted_at: float = 0.0  # when the rate limiter let the latest attempt through
    cache_key: str | None = None  # of the first request, to store its accepted reply
    prepared: list[LLMMessage] | None = None  # built for the cache key: sent as they are
    cached: bool = False  # answered from the response cache
    reply: LLMResponse | None = None  # the first request's reply, to cache once accepted


@dataclass(frozen=True, slots=True)
class Finished:
    """A task the attempt finished, for the scheduler to publish and journal."""

    position: int
    result: TaskResult  # a success's `on_success` hook has run (in the worker)
    fingerprint: str = ""  # of a success's request, for the journal ("" without one)


@dataclass(eq=False)
class Outcome:
    """What an attempt tells the scheduler; only the scheduler acts on it."""

    job: Job
    finished: list[Finished] = field(default_factory=list)
    retry_at: list[tuple[float, Job]] = field(default_factory=list)
    cancelled: bool = False  # stopped before the call: nothing was sent
    fatal_error: Exception | None = None  # an error every task left would hit
    rate_limit_wait_s: float = 0.0
    error: Exception | None = None  # why this attempt failed, if it did
    requeue: list[Job] = field(default_factory=list)  # to run now: not retries


@dataclass(eq=False)
class BatchContext:
    """What every attempt of one batch reads; workers write only the thread-safe parts
    (the ledgers, the limiter, `stop`, `in_flight_tasks`)."""

    tasks: Sequence[LLMTask]
    client: LLMClient
    limiter: TokenBucketRateLimiter
    policy: RetryPolicy  # owns the retry cap
    admission: AdmissionControl  # the executor's: concurrency learnt per model
    tokens: TokenBudget | None  # the executor's tokens-per-minute budget, if one is set
    ledger: CostLedger  # the executor's: the budget spans batches
    batch_ledger: CostLedger  # this batch's metrics
    max_cost: float | None
    stop: threading.Event
    clock: Callable[[], float]
    journaling: bool  # whether successes need a request fingerprint for the journal
    limiter_learns: bool = True  # False: the baseline that learns nothing (benchmarks)
    accounting: Accounting | None = None  # the ledger and response cache, when kept
    _lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight_tasks: int = 0  # tasks whose attempt a worker is running right now

    def budget_reached(self) -> bool:
        return self.ledger.reached(self.max_cost)

    def charge(self, job: Job, usage: Usage | None, cost: float, estimate: bool) -> None:
        self.ledger.charge(usage, cost, estimate)
        self.batch_ledger.charge(usage, cost, estimate)
        if usage is not None:
            job.usage = job.usage + usage
        job.cost += cost
        job.cost_is_estimate = job.cost_is_estimate or (estimate and cost > 0)

    def progress(
        self,
        description: str,
        *,
        done: int,
        failed: int,
        retries: int,
        resumed: int,
        cached: int,
        stopping: bool,
    ) -> ProgressSnapshot:
        """The batch as progress shows it now: the scheduler's counts, and what the
        shared parts (ledger, limiter, admission) say at this moment."""
        ledger = self.batch_ledger
        return ProgressSnapshot(
            description=description,
            total=len(self.tasks),
            completed=done,
            failed=failed,
            retries=retries,
            cost=ledger.spent,
            cost_is_estimate=ledger.cost_is_estimate,
            waiting_for_rate_limit=self.limiter.waiting(),
            in_flight=self.in_flight_tasks,
            max_rate=task_rate_cap(self.limiter.current_rate(), ledger.attempts, done - resumed),
            stopping=stopping,
            concurrency_limit=self.admission.lowest_limit(),
            cached=cached,
        )

    def add_in_flight(self, tasks: int) -> None:
        # Several workers at once: `+=` on an attribute is not atomic.
        with self._lock:
            self.in_flight_tasks += tasks
