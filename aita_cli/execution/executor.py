"""`ParallelLLMExecutor`: runs batches of LLM tasks on one shared, rate-limited pool.

One executor serves every batch of a command, so the thread pool, the rate limiter and
the cost ledger (and with it the `max_cost` budget) are created once and shared:

    with create_executor(client) as executor:
        result = executor.execute_batch(tasks, checkpoint_name="exam1_rubric")

How a batch runs is in `scheduling.py`; one attempt of one request in `attempt.py`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from aita_cli.config import Settings, load_settings
from aita_cli.execution.accounting import Accounting, LedgerScope, new_run_id
from aita_cli.execution.admission import AdmissionControl
from aita_cli.execution.batch_journal import OpenedJournal, open_batch_journal
from aita_cli.execution.batch_state import BatchContext
from aita_cli.execution.checkpoint import CheckpointManager
from aita_cli.execution.cost_ledger import CostLedger
from aita_cli.execution.graph import TaskGraph
from aita_cli.execution.interrupts import sigint_calls
from aita_cli.execution.progress import ProgressReporter, make_progress_reporter
from aita_cli.execution.rate_limiter import TokenBucketRateLimiter
from aita_cli.execution.results import BatchExecutionResult, TaskResult, build_metrics
from aita_cli.execution.retry import RetryPolicy
from aita_cli.execution.scheduling import BatchScheduler
from aita_cli.execution.tasks import LLMTask
from aita_cli.execution.token_budget import TokenBudget
from aita_cli.execution.worker_pool import WorkerPool
from aita_cli.llm.base import LLMClient
from aita_cli.store import Store

__all__ = ["ParallelLLMExecutor", "create_executor"]


def _retry_policy(max_retries: int | None, policy: RetryPolicy | None) -> RetryPolicy:
    """The one retry policy, whose `max_retries` is the cap (see the class docstring)."""
    if policy is None:
        return RetryPolicy(max_retries=3 if max_retries is None else max_retries)
    if max_retries is not None and max_retries != policy.max_retries:
        raise ValueError(
            f"max_retries={max_retries} disagrees with retry_policy.max_retries="
            f"{policy.max_retries}: give the cap once, in the policy"
        )
    return policy


class ParallelLLMExecutor:
    """Runs LLM tasks concurrently: rate-limited, retried, journaled, budgeted.

    `max_retries` is the number of retries after the first attempt (default 3). The
    cap belongs to the retry policy: without a `retry_policy` the executor builds
    ``RetryPolicy(max_retries=max_retries)``; with one, the policy's own `max_retries`
    is the cap, and a `max_retries` given as well must agree with it (ValueError
    otherwise: neither is silently ignored). `max_cost` (USD) stops new work once this
    executor has spent that much, over all its batches. `tokens_per_minute` makes every
    request reserve its estimated tokens first (`token_budget`). How many requests may
    be in flight is learnt per model from the provider's refusals (`admission`), and
    the pace from its 429s (`rate_limiter`); `adaptive=False` turns both off (a 429
    then only pauses), the baseline `make bench` compares against.
    `clock`/`sleep` drive the rate limiter and the retry backoff (tests inject fakes).
    The executor does not close `llm_client`; its owner does.
    """

    def __init__(  # noqa: PLR0917 - the positional order is the public contract
        self,
        llm_client: LLMClient,
        max_workers: int = 5,
        rate_limit: float = 10.0,
        enable_checkpointing: bool = True,
        checkpoint_interval: int = 10,
        checkpoint_dir: Path | str | None = None,
        max_retries: int | None = None,
        show_progress: bool = True,
        max_cost: float | None = None,
        *,
        max_batch_size: int = 8,
        progress: ProgressReporter | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        interrupt_grace: float = 5.0,
        tokens_per_minute: float | None = None,
        adaptive: bool = True,
        store: Store | None = None,
        use_cache: bool = True,
    ) -> None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, got {max_workers}")
        if checkpoint_interval < 1:
            raise ValueError(f"checkpoint_interval must be at least 1, got {checkpoint_interval}")
        self.llm_client = llm_client
        self.max_workers = max_workers
        self.enable_checkpointing = enable_checkpointing
        self.checkpoint_interval = checkpoint_interval
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir else Path("./checkpoints")
        self.retry_policy = _retry_policy(max_retries, retry_policy)
        self.max_retries = self.retry_policy.max_retries
        self.max_cost = max_cost
        self.max_batch_size = max(1, max_batch_size)
        self.interrupt_grace = interrupt_grace
        self.progress = progress if progress is not None else make_progress_reporter(show_progress)
        # No burst, even at the start: a provider may allow none, and a client limit
        # below the provider's must never meet a 429 (8 workers at once against a
        # 20/s provider with a burst of 3 got five).
        self.rate_limiter = TokenBucketRateLimiter(
            rate_limit, burst=1, clock=clock, sleep=sleep, adaptive=adaptive
        )
        self.admission = AdmissionControl(max_workers, adaptive=adaptive)
        self.token_budget = (
            TokenBudget(tokens_per_minute, clock=clock, sleep=sleep) if tokens_per_minute else None
        )
        self.cost_ledger = CostLedger()
        # The SQLite ledger and response cache (`store`), when the owner opened one: each
        # batch records every attempt there, and answers repeated requests from it.
        self.store = store
        self.use_cache = use_cache
        self.run_id = new_run_id()
        self._clock = clock
        self._sleep = sleep
        self._pool = WorkerPool(max_workers)
        self._pool.start()  # before any batch: its first requests should leave together
        self._stop = threading.Event()
        self._batch_lock = threading.Lock()
        self._batch_thread: int | None = None  # the thread running a batch, if any
        self._accounting: Accounting | None = None
        self._abandoned = False
        self._closed = False

    # -- lifecycle -----------------------------------------------------------------

    def __enter__(self) -> ParallelLLMExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Shut the pool down. Calls abandoned after an interrupt are not waited for
        (their daemon threads do not keep the process alive either)."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=not self._abandoned)

    def request_stop(self) -> None:
        """Stop the running batch as Ctrl-C does: start nothing new, give in-flight calls
        `interrupt_grace` seconds, and return with ``stopped="interrupted"``. Thread-safe;
        a batch started later is not affected."""
        self._stop.set()

    # -- running a batch -----------------------------------------------------------

    def execute_batch(
        self,
        tasks: Iterable[LLMTask],
        checkpoint_name: str | None = None,
        resume_from_checkpoint: bool = False,
        on_task_complete: Callable[[TaskResult], None] | None = None,
        description: str | None = None,
        *,
        ledger_scope: tuple[str, str] | None = None,
    ) -> BatchExecutionResult:
        """Run `tasks` and return one result per task, in the order given.

        With checkpointing on and a `checkpoint_name`, every finished task is journaled;
        `resume_from_checkpoint` reuses the latest journal of that name (successes whose
        request is unchanged are not run again). `on_task_complete` is called in this
        thread for every finished task, resumed ones included. A stop (Ctrl-C,
        `request_stop`, the cost budget) returns normally with `stopped` set. With a
        `store`, every attempt is recorded in its ledger under `ledger_scope`
        (assignment, operation), and repeated requests are answered from its cache.
        """
        if self._closed:
            raise RuntimeError("this executor is closed")
        if self._batch_thread == threading.get_ident():
            # Waiting for our own lock would hang for ever.
            raise RuntimeError("execute_batch cannot be called from inside a running batch")
        task_list = list(tasks)
        graph = TaskGraph.build(task_list)
        with self._batch_lock:
            self._batch_thread = threading.get_ident()
            try:
                self._stop = threading.Event()  # per batch: late workers keep their own
                opened = self._open_journal(checkpoint_name, resume_from_checkpoint, len(task_list))
                label = description or checkpoint_name or "tasks"
                self._accounting = self._batch_accounting(ledger_scope or (label, "batch"))
                return self._run(task_list, graph, opened, on_task_complete, label)
            finally:
                self._batch_thread = None

    def _batch_accounting(self, scope: tuple[str, str]) -> Accounting | None:
        if self.store is None:
            return None
        return Accounting(
            store=self.store,
            scope=LedgerScope(self.run_id, *scope),
            cache_scope=self.llm_client.cache_scope(),
            use_cache=self.use_cache,
        )

    def _open_journal(self, name: str | None, resume: bool, total: int) -> OpenedJournal:
        if not (self.enable_checkpointing and name):
            notices = []
            if resume:  # say so, rather than silently pay for everything again
                notices.append(
                    "nothing to resume: checkpointing is off (AITA_ENABLE_CHECKPOINTING=false)"
                    if name
                    else "nothing to resume: this batch has no checkpoint name"
                )
            return OpenedJournal(None, {}, notices)
        return open_batch_journal(
            CheckpointManager(self.checkpoint_dir),
            name,
            resume=resume,
            header={"name": name, "aita_version": _aita_version(), "total_tasks": total},
            fsync_interval=self.checkpoint_interval,
        )

    def _run(
        self,
        tasks: list[LLMTask],
        graph: TaskGraph,
        opened: OpenedJournal,
        on_task_complete: Callable[[TaskResult], None] | None,
        description: str,
    ) -> BatchExecutionResult:
        ctx = self._context(tasks, opened)
        scheduler = BatchScheduler(
            ctx,
            graph,
            self._pool,
            max_workers=self.max_workers,
            max_batch_size=self.max_batch_size,
            reporter=self.progress,
            description=description,
            on_task_complete=on_task_complete,
            opened=opened,
            interrupt_grace=self.interrupt_grace,
            sleep=self._sleep,
        )
        journal = opened.journal
        started = self._clock()
        try:
            with sigint_calls(scheduler.note_interrupt):
                scheduler.run()
        finally:
            self._abandoned = self._abandoned or bool(scheduler.still_running)
            reason = scheduler.stop_reason()
            results, not_started = scheduler.final_results(reason)
            if journal is not None:
                journal.finish_and_close(_summary(results, not_started, reason, ctx))
        if journal is not None and journal.error is not None:
            raise journal.error
        return self._result(
            ctx=ctx,
            scheduler=scheduler,
            opened=opened,
            results=results,
            not_started=not_started,
            started=started,
        )

    def _context(self, tasks: list[LLMTask], opened: OpenedJournal) -> BatchContext:
        return BatchContext(
            tasks=tasks,
            client=self.llm_client,
            limiter=self.rate_limiter,
            admission=self.admission,
            tokens=self.token_budget,
            limiter_learns=self.admission.adaptive,
            policy=self.retry_policy,
            ledger=self.cost_ledger,
            batch_ledger=CostLedger(),
            max_cost=self.max_cost,
            stop=self._stop,
            clock=self._clock,
            journaling=opened.journal is not None,
            accounting=self._accounting,
        )

    def _result(
        self,
        *,
        ctx: BatchContext,
        scheduler: BatchScheduler,
        opened: OpenedJournal,
        results: list[TaskResult],
        not_started: list[str],
        started: float,
    ) -> BatchExecutionResult:
        totals = ctx.batch_ledger.totals()
        metrics = build_metrics(
            results,
            not_started=set(not_started),
            spent=totals.usage,
            cost=totals.cost,
            cost_is_estimate=totals.cost_is_estimate,
            attempts=totals.attempts,
            rate_limit_wait_s=scheduler.rate_limit_wait_s,
            elapsed=max(self._clock() - started, 0.0),
        )
        notices = list(opened.notices)
        if ctx.accounting is not None:
            notices += ctx.accounting.problems
        if scheduler.fatal_error is not None:
            notices.append(
                f"stopped at: {scheduler.fatal_error} (every task left would fail the same way; "
                "fix it, then resume)"
            )
        if scheduler.fingerprint_changed:
            notices.append(
                f"{scheduler.fingerprint_changed} recorded task(s) changed since the "
                "checkpoint and ran again"
            )
        return BatchExecutionResult(
            task_results=results,
            metrics=metrics,
            checkpoint_path=opened.journal.path if opened.journal else None,
            stopped=scheduler.stop_reason() if not_started else None,
            not_started=not_started,
            notices=notices,
        )


def _aita_version() -> str:
    # Imported late: the package's __init__ imports this module.
    from aita_cli import __version__

    return __version__


def _summary(
    results: list[TaskResult], not_started: list[str], reason: str | None, ctx: BatchContext
) -> dict[str, Any]:
    succeeded = sum(1 for result in results if result.success)
    return {
        "total_tasks": len(results),
        "succeeded": succeeded,
        "failed": len(results) - succeeded - len(not_started),
        "not_finished": len(not_started),
        "stopped": reason if not_started else None,
        "cost": ctx.batch_ledger.spent,
        "cost_is_estimate": ctx.batch_ledger.cost_is_estimate,
    }


def create_executor(
    llm_client: LLMClient, settings: Settings | None = None, **overrides: Any
) -> ParallelLLMExecutor:
    """An executor configured from `Settings` (the AITA_* environment), `overrides` on top.

    A `retry_policy` override brings its own retry cap, which then replaces the
    settings' `max_retries` (unless `max_retries` is overridden too).
    """
    settings = settings or load_settings()
    options: dict[str, Any] = {
        "max_workers": settings.max_workers,
        "rate_limit": settings.rate_limit_rps,
        "enable_checkpointing": settings.enable_checkpointing,
        "checkpoint_interval": settings.checkpoint_interval,
        "checkpoint_dir": settings.checkpoint_dir,
        "max_retries": settings.max_retries,
        "show_progress": settings.show_progress,
        "max_cost": settings.max_cost,
        "tokens_per_minute": settings.tokens_per_minute,
    }
    options.update(overrides)
    if "retry_policy" in overrides and "max_retries" not in overrides:
        del options["max_retries"]
    return ParallelLLMExecutor(llm_client, **options)
