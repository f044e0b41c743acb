"""The scheduler of one batch: what may start now, and what happens when a job ends.

It runs in the thread that called `execute_batch` and owns all batch state (results,
journal records, the fatal error), so nothing here needs a lock. Workers only run
attempts (`attempt.py`) and report their outcomes through a queue; one not handled by
the time the batch returns (an abandoned call's) never is. Per event the work is O(1)
plus the task's own dependents: no scan over all tasks while the batch runs.

- A task is *ready* once its dependencies succeeded (it gets their results) and it
  does not know its result without a call (`answer_without_call`). Ready tasks start
  in order, those released by dependencies first (`ready_queue`), at most
  `max_workers` requests at a time; compatible `BatchableLLMTask`s share a request.
- Up to `max_workers` more jobs wait in the pool's queue, so a worker that finishes
  starts its next job at once; a retry waits in a heap ordered by due time.
- A failed task fails its dependents at once ("dependency X failed"), except those
  that accept its failure (`accepts_failed`): they get None for it.
- Several tasks in a row failing alike, for good, stop the batch (`shared_failure`).
- On a stop (Ctrl-C, `request_stop`) nothing new starts and running requests get a
  grace period; once the cost budget is reached, nothing new starts.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import queue
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from aita_cli.errors import DependencyFailedError
from aita_cli.execution.attempt import (
    BatchContext,
    Finished,
    Job,
    Outcome,
    run_attempt,
)
from aita_cli.execution.batch_journal import OpenedJournal
from aita_cli.execution.combining import combinable, take_next_job
from aita_cli.execution.graph import TaskGraph
from aita_cli.execution.known_results import CHANGED, answered_without_call, reuse_record
from aita_cli.execution.progress import ProgressReporter, ProgressSnapshot
from aita_cli.execution.ready_queue import ReadyQueue
from aita_cli.execution.results import StopReason, TaskResult
from aita_cli.execution.shared_failure import SharedFailureDetector
from aita_cli.execution.unfinished import complete_results
from aita_cli.execution.worker_pool import WorkerPool

__all__ = ["BatchScheduler"]

# How often the scheduler wakes without news: bounds how late it notices a stop request
# and how stale the "waiting for rate limit" display can get.
_POLL_S = 0.1

TaskCallback = Callable[[TaskResult], None]


class BatchScheduler:
    """Runs one batch to completion or to a stop. Use `run`, then `final_results`."""

    def __init__(
        self,
        ctx: BatchContext,
        graph: TaskGraph,
        pool: WorkerPool,
        *,
        max_workers: int,
        max_batch_size: int,
        reporter: ProgressReporter,
        description: str,
        on_task_complete: TaskCallback | None,
        opened: OpenedJournal,  # the journal to write, and the successes it may reuse
        interrupt_grace: float,
        sleep: Callable[[float], None],
    ) -> None:
        self._ctx = ctx
        self._graph = graph
        self._pool = pool
        self._max_workers = max_workers
        self._max_submitted = 2 * max_workers  # running plus queued ahead of the workers
        self._max_batch_size = max_batch_size
        self._reporter = reporter
        self._description = description
        self._on_task_complete = on_task_complete
        self._journal, self._reusable = opened.journal, opened.reusable
        self._grace = interrupt_grace
        self._sleep = sleep
        self._results: list[TaskResult | None] = [None] * len(ctx.tasks)
        self._remaining_dependencies = list(graph.dependency_counts)
        self._ready = ReadyQueue()
        self._delayed: list[tuple[float, int, Job]] = []
        self._sequence = itertools.count()
        # Not SimpleQueue: in CPython 3.11 its get(timeout=...) can block for good when a
        # signal (Ctrl-C) lands near the end of the timeout, and the grace period and a
        # second Ctrl-C would be ignored until some call happened to finish.
        self._outcomes: queue.Queue[Outcome] = queue.Queue()
        self._running: set[Job] = set()
        self._stopped_jobs: list[Job] = []
        self._just_finished: deque[int] = deque()
        self._done = self._failed = self._retries = self._resumed = self._cached = 0
        self._interrupt_requested = self._hurry = False
        self.fingerprint_changed = 0
        self.fatal_error: Exception | None = None  # the first error that stopped the batch
        self._shared = SharedFailureDetector()
        self.rate_limit_wait_s = 0.0

    # -- the main loop -------------------------------------------------------------

    def run(self) -> None:
        """Run until every task finished, or the batch stopped and in-flight work ended."""
        try:
            try:
                self._seed()
                self._reporter.start(self._description, len(self._ctx.tasks), self._done)
                self._loop()
            except KeyboardInterrupt:
                self._interrupt_requested = True
            except BaseException:
                self._ctx.stop.set()
                self._drain()
                raise
            self._drain()
        finally:
            # Also on an error: Rich bars left running would keep redrawing over the
            # error message and leave the terminal's cursor hidden after aita exits.
            self._reporter.finish(self._snapshot())

    def note_interrupt(self) -> None:
        """Ctrl-C from the signal handler: only flags, so it is safe at any moment."""
        if self._interrupt_requested:
            self._hurry = True  # a second Ctrl-C: stop waiting for in-flight calls
        self._interrupt_requested = True

    def _loop(self) -> None:
        while not self._stopping():
            self._release_due_retries()
            self._start_ready_jobs()
            if self._running:
                self._wait_for_outcomes()
            elif self._delayed and not self._ctx.budget_reached():
                self._sleep_until_next_retry()
            else:
                return

    def _stopping(self) -> bool:
        if self._interrupt_requested:
            self._ctx.stop.set()
        journal = self._journal
        return self._ctx.stop.is_set() or (journal is not None and journal.error is not None)

    def _release_due_retries(self) -> None:
        now = self._ctx.clock()
        while self._delayed and self._delayed[0][0] <= now:
            self._ready.add_due_retry(heapq.heappop(self._delayed)[2])

    def _start_ready_jobs(self) -> None:
        while (ready := self._ready.head()) is not None:
            # A batchable job is not queued ahead of the workers: left in its queue, it can
            # still be combined with compatible tasks that become ready meanwhile.
            batchable = self._max_batch_size > 1 and combinable(ready[0])
            if len(self._running) >= (self._max_workers if batchable else self._max_submitted):
                return
            if self._ctx.budget_reached():
                return
            job = take_next_job(ready, self._max_batch_size)
            self._running.add(job)
            self._pool.submit(functools.partial(self._work, job))

    def _work(self, job: Job) -> None:
        self._ctx.add_in_flight(len(job.members))
        outcome = run_attempt(self._ctx, job)  # never raises
        self._ctx.add_in_flight(-len(job.members))
        self._outcomes.put(outcome)
        if outcome.fatal_error is not None:
            # Stop at once, before this worker takes its queued next job and makes a call
            # that fails the same way; after the put, so whoever sees the stop finds the
            # outcome (and the error it reports) already queued.
            self._ctx.stop.set()

    def _wait_for_outcomes(self) -> None:
        timeout = _POLL_S
        if self._delayed and len(self._running) < self._max_submitted:
            timeout = min(timeout, max(self._delayed[0][0] - self._ctx.clock(), 0.0))
        try:
            outcome = self._outcomes.get(timeout=timeout) if timeout > 0 else None
        except queue.Empty:
            outcome = None
        if outcome is not None:
            self._handle(outcome)
            self._handle_queued_outcomes()
        self._reporter.update(self._snapshot())

    def _handle_queued_outcomes(self) -> None:
        while True:
            try:
                outcome = self._outcomes.get_nowait()
            except queue.Empty:
                return
            self._handle(outcome)

    def _sleep_until_next_retry(self) -> None:
        # Nothing is running: sleep through the backoff in short steps, so a stop
        # request is noticed quickly. The injected sleep lets tests skip the wait.
        delay = self._delayed[0][0] - self._ctx.clock()
        self._reporter.update(self._snapshot())
        if delay > 0:
            self._sleep(min(delay, _POLL_S))

    def _drain(self) -> None:
        """After a stop: give running requests `interrupt_grace` seconds to finish."""
        if self._running:
            self._wait_for_running()
        # Delivered outcomes are complete, deadline or not; the fatal error that stopped
        # the batch may be among them.
        self._handle_queued_outcomes()

    def _wait_for_running(self) -> None:
        self._ctx.stop.set()
        self._reporter.update(self._snapshot())  # says "stopping" after a Ctrl-C
        deadline = self._ctx.clock() + self._grace
        while self._running and not self._hurry:
            remaining = deadline - self._ctx.clock()
            if remaining <= 0:
                return
            try:
                outcome = self._outcomes.get(timeout=min(remaining, _POLL_S))
            except queue.Empty:
                continue
            except KeyboardInterrupt:
                return
            self._handle(outcome)

    # -- events --------------------------------------------------------------------

    def _handle(self, outcome: Outcome) -> None:
        job = outcome.job
        self._running.discard(job)
        self.rate_limit_wait_s += outcome.rate_limit_wait_s
        fatal = outcome.fatal_error
        if outcome.finished:  # how tasks ended, not attempts that will be retried
            succeeded = any(finished.result.success for finished in outcome.finished)
            fatal = fatal or self._shared.observe(None if succeeded else outcome.error)
        if fatal is not None and self.fatal_error is None:
            self.fatal_error = fatal
            self._ctx.stop.set()
        for due, retry in outcome.retry_at:
            heapq.heappush(self._delayed, (due, next(self._sequence), retry))
            self._retries += 1
        for again in outcome.requeue:  # what the cache could not answer: first in line
            self._ready.add_due_retry(again)
        if outcome.cancelled:
            self._stopped_jobs.append(job)
        for finished in outcome.finished:
            self._finish(finished)
        self._process_finished()

    def _finish(self, finished: Finished) -> None:
        """A task an attempt finished (its `on_success` hook ran in the worker)."""
        self._publish(finished.position, finished.result, finished.fingerprint)

    def _process_finished(self) -> None:
        results = self._results
        while self._just_finished:
            position = self._just_finished.popleft()
            result = results[position]
            assert result is not None  # set by whoever put it here
            self._done += 1
            self._cached += result.cached
            if result.success:
                self._release_dependents(position)
            else:
                self._failed += 1
                self._fail_dependents(position)
            if self._on_task_complete is not None:
                self._on_task_complete(result)

    def _release_dependents(self, position: int) -> None:
        for dependent in self._graph.dependents[position]:
            self._dependency_done(dependent)

    def _dependency_done(self, dependent: int) -> None:
        self._remaining_dependencies[dependent] -= 1
        if self._remaining_dependencies[dependent] == 0:
            self._make_ready(dependent)

    def _fail_dependents(self, position: int) -> None:
        failed_id = self._ctx.tasks[position].task_id
        for dependent in self._graph.dependents[position]:
            task = self._ctx.tasks[dependent]
            if self._results[dependent] is not None:
                continue
            if task.accepts_failed(failed_id):  # it gets None for it, and decides
                self._dependency_done(dependent)
            else:
                error = str(DependencyFailedError(failed_id))
                self._publish(dependent, TaskResult(task.task_id, False, error=error))

    def _publish(self, position: int, result: TaskResult, fingerprint: str = "") -> None:
        """Record a finished task's result and journal it."""
        self._results[position] = result
        if self._journal is not None:
            self._journal.record(result, fingerprint)
        self._just_finished.append(position)

    # -- making tasks ready --------------------------------------------------------

    def _seed(self) -> None:
        for position, count in enumerate(self._graph.dependency_counts):
            if count == 0:
                self._make_ready(position)
        self._process_finished()

    def _make_ready(self, position: int) -> None:
        if self._results[position] is not None:
            return
        task = self._ctx.tasks[position]
        try:
            if task.dependencies:
                found, index = self._results, self._graph.index_of
                task.set_dependency_results(
                    {dep: _result_of(found[index[dep]]) for dep in task.dependencies}
                )
        except Exception as error:
            self._publish(position, TaskResult(task.task_id, False, error=str(error)))
            return
        if self._answer_without_call(position) or (self._reusable and self._restore(position)):
            return
        self._ready.add(Job(task, [position]), continuing=bool(task.dependencies))

    def _answer_without_call(self, position: int) -> bool:
        """Publish the result a task knows without a call; True when it did."""
        known = answered_without_call(self._ctx.tasks[position], journaling=self._ctx.journaling)
        if known is not None:
            self._publish(position, *known)
        return known is not None

    def _restore(self, position: int) -> bool:
        """Reuse a journaled success whose request is unchanged; True when reused."""
        task = self._ctx.tasks[position]
        record = self._reusable.pop(task.task_id, None)
        reused = reuse_record(task, record) if record is not None else None
        self.fingerprint_changed += reused == CHANGED
        if not isinstance(reused, TaskResult):
            return False
        self._results[position] = reused
        self._resumed += 1
        self._just_finished.append(position)
        return True

    # -- reporting -----------------------------------------------------------------

    def _snapshot(self) -> ProgressSnapshot:
        return self._ctx.progress(
            self._description,
            done=self._done,
            failed=self._failed,
            retries=self._retries,
            resumed=self._resumed,
            cached=self._cached,
            stopping=self._interrupt_requested,
        )

    def stop_reason(self) -> StopReason | None:
        """Why tasks were left unfinished, if they were."""
        if self.fatal_error is not None:
            return "fatal"
        if self._interrupt_requested or self._ctx.stop.is_set():
            return "interrupted"
        if self._ctx.budget_reached():
            return "budget"
        return None

    def final_results(self, reason: StopReason | None) -> tuple[list[TaskResult], list[str]]:
        """Every task's result in the given order, and the ids left unfinished."""
        return complete_results(self._ctx.tasks, self._results, self._unfinished_jobs(), reason)

    def _unfinished_jobs(self) -> Iterator[Job]:
        delayed = (job for _, _, job in self._delayed)
        return itertools.chain(self._stopped_jobs, self._running, self._ready, delayed)

    @property
    def still_running(self) -> int:
        """Tasks whose calls were still in flight when the run ended (abandoned); jobs
        still waiting in the pool's queue are not calls and do not count."""
        return self._ctx.in_flight_tasks


def _result_of(result: TaskResult | None) -> Any:
    return result.result if result is not None else None
