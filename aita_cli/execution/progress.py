"""Live progress of a batch: a snapshot type, the reporter protocol, and the reporters.

The executor builds a `ProgressSnapshot` whenever something changes and hands it to
`update`, from any thread and as often as it likes: reporters only keep the latest
snapshot (one assignment) and render on their own schedule, so progress never slows the
engine down. `make_progress_reporter` picks Rich bars on a terminal, plain periodic lines
otherwise, and silence when progress is off. This module and `progress_rich` are the only
engine modules that touch Rich.

Throughput and ETA come from completions over the whole run (done / elapsed since
`start`), not from a short moving window, so a pause at the rate limiter does not make
them jump about.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol, TextIO

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "PlainProgressReporter",
    "ProgressReporter",
    "ProgressSnapshot",
    "RunRate",
    "SilentProgressReporter",
    "concurrency_note",
    "format_cost",
    "format_duration",
    "format_rate",
    "make_progress_reporter",
    "percent",
    "stopping_message",
    "task_rate_cap",
]


@dataclass(frozen=True, slots=True)
class ProgressSnapshot:
    """The state of a batch at one moment.

    `completed` counts finished tasks, successes and failures alike (so the bar reaches
    100%); `failed` is how many of those failed for good. `retries` counts retry
    attempts so far; `cost` is the money spent so far (`cost_is_estimate` when any of it
    came from a price table rather than the provider). `max_rate` bounds the ETA: tasks
    cannot finish faster than the limiter lets their requests through, whatever the
    start-up burst suggests.
    """

    description: str
    total: int
    completed: int
    failed: int
    retries: int
    cost: float
    cost_is_estimate: bool
    waiting_for_rate_limit: int
    in_flight: int
    max_rate: float | None = None  # tasks/s the rate limiter allows at most; None: no cap
    stopping: bool = False  # Ctrl-C was pressed: nothing new starts, in-flight calls end
    concurrency_limit: int | None = None  # learnt from refusals, when below the workers
    cached: int = 0  # of `completed`, answered from the response cache (nothing paid)


def concurrency_note(limit: int) -> str:
    """Why fewer calls run than there are workers."""
    return f"provider allows {limit} at once"


def stopping_message(snapshot: ProgressSnapshot) -> str:
    """What the user sees between the first Ctrl-C and the end of the grace period."""
    return (
        f"stopping: waiting for {snapshot.in_flight} call(s) in flight to finish "
        "(Ctrl-C again to stop now)"
    )


class ProgressReporter(Protocol):
    """What the executor tells about a batch's progress."""

    def start(self, description: str, total: int, completed: int = 0) -> None:
        """A batch begins; `completed` tasks are already done (restored on resume)."""

    def update(self, snapshot: ProgressSnapshot) -> None:
        """The batch changed. Called often, from worker threads: must be cheap."""

    def finish(self, snapshot: ProgressSnapshot) -> None:
        """The batch ended (or stopped); show the final state."""


class RunRate:
    """Tasks per second and time remaining, over the whole run since `start`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._baseline = 0

    def start(self, completed: int = 0) -> None:
        """Restart the measurement; `completed` tasks done before now do not count."""
        self._started = self._clock()
        self._baseline = completed

    def elapsed(self) -> float:
        return max(self._clock() - self._started, 0.0)

    def rate(self, snapshot: ProgressSnapshot) -> float | None:
        """Tasks finished per second in this run, or None before the first one."""
        done = snapshot.completed - self._baseline
        elapsed = self.elapsed()
        if done <= 0 or elapsed <= 0:
            return None
        return done / elapsed

    def eta(self, snapshot: ProgressSnapshot) -> float | None:
        """Seconds until every task has finished at the run's rate so far, or None."""
        remaining = max(snapshot.total - snapshot.completed, 0)
        if remaining == 0:
            return 0.0
        rate = self.rate(snapshot)
        if rate is None:
            return None
        if snapshot.max_rate is not None and snapshot.max_rate > 0:
            rate = min(rate, snapshot.max_rate)
        return remaining / rate


def format_cost(cost: float, estimate: bool) -> str:
    """``$0.0123``, or ``~$0.0123`` when the cost is (partly) an estimate."""
    return f"{'~' if estimate else ''}${cost:.4f}"


def format_duration(seconds: float | None) -> str:
    """``13s``, ``2m05s``, ``1h02m``; ``?`` when unknown."""
    if seconds is None:
        return "?"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_rate(rate: float | None) -> str:
    """``2.1 tasks/s`` (two decimals below 1/s, so 0.2/s shows as 0.20)."""
    if rate is None:
        return "- tasks/s"
    return f"{rate:.2f} tasks/s" if rate < 1 else f"{rate:.1f} tasks/s"


def percent(snapshot: ProgressSnapshot) -> int:
    """Whole percent done, rounded down (99.9% is not yet 100%)."""
    if snapshot.total <= 0:
        return 100
    return snapshot.completed * 100 // snapshot.total


class SilentProgressReporter:
    """Shows nothing (progress off)."""

    def start(self, description: str, total: int, completed: int = 0) -> None:
        return None

    def update(self, snapshot: ProgressSnapshot) -> None:
        return None

    def finish(self, snapshot: ProgressSnapshot) -> None:
        return None


class PlainProgressReporter:
    """One line every `interval` seconds and a final line, for logs and pipes:

    ``rubric: 12/40 (30%) 2 failed 3 retries $0.0123 2.1 tasks/s eta 13s``
    """

    def __init__(
        self,
        stream: IO[str],
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._interval = interval
        self._clock = clock
        self._rate = RunRate(clock)
        self._next_line_at = clock() + interval
        self._lock = threading.Lock()
        self._told_stopping = False

    def start(self, description: str, total: int, completed: int = 0) -> None:
        self._rate.start(completed)
        self._next_line_at = self._clock() + self._interval

    def update(self, snapshot: ProgressSnapshot) -> None:
        if snapshot.stopping and not self._told_stopping:
            with self._lock:  # at once, not at the next interval: the user just pressed Ctrl-C
                self._told_stopping = True
                self._write(stopping_message(snapshot))
            return
        # The cheap check runs on every update without the lock; only the rare update
        # that is due takes it (and re-checks, so two threads never print twice).
        if self._clock() < self._next_line_at:
            return
        with self._lock:
            now = self._clock()
            if now < self._next_line_at:
                return
            self._next_line_at = now + self._interval
            self._write(self._line(snapshot, final=False))

    def finish(self, snapshot: ProgressSnapshot) -> None:
        with self._lock:
            self._write(self._line(snapshot, final=True))

    def _line(self, snapshot: ProgressSnapshot, *, final: bool) -> str:
        parts = [
            f"{snapshot.description}: {snapshot.completed}/{snapshot.total}",
            f"({percent(snapshot)}%)",
            f"{snapshot.failed} failed",
            f"{snapshot.retries} retries",
            *([f"{snapshot.cached} cached"] if snapshot.cached else []),
            format_cost(snapshot.cost, snapshot.cost_is_estimate),
            format_rate(self._rate.rate(snapshot)),
        ]
        if final:
            parts.append(f"done in {format_duration(self._rate.elapsed())}")
        else:
            parts.append(f"eta {format_duration(self._rate.eta(snapshot))}")
            if snapshot.waiting_for_rate_limit:
                parts.append(f"waiting for rate limit ({snapshot.waiting_for_rate_limit})")
            if snapshot.concurrency_limit is not None:
                parts.append(concurrency_note(snapshot.concurrency_limit))
        return " ".join(parts)

    def _write(self, line: str) -> None:
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (OSError, ValueError):  # a closed pipe must not fail the batch
            pass


def make_progress_reporter(
    show: bool,
    *,
    console: Console | None = None,
    stream: TextIO | None = None,
    plain_interval: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> ProgressReporter:
    """Silence when `show` is false; Rich bars on a terminal; plain lines otherwise.

    The default destination is stderr, so progress never mixes with a command's output;
    a given `stream` gets Rich only when it is a terminal.
    """
    if not show:
        return SilentProgressReporter()
    from rich.console import Console

    from aita_cli.execution.progress_rich import RichProgressReporter

    if console is None:
        if stream is not None and not _isatty(stream):
            return PlainProgressReporter(stream, interval=plain_interval, clock=clock)
        console = Console(file=stream if stream is not None else sys.stderr)
    if console.is_terminal:
        return RichProgressReporter(console, clock=clock)
    return PlainProgressReporter(console.file, interval=plain_interval, clock=clock)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real stream
        return False


def task_rate_cap(request_rate: float, requests: int, tasks_finished: int) -> float | None:
    """The rate limiter's pace in tasks/s, None when unlimited: a combined request
    finishes several tasks, so the pace in tasks is the request pace times tasks per
    request so far."""
    if request_rate <= 0:
        return None
    return request_rate * max(1.0, tasks_finished / requests) if requests else request_rate
