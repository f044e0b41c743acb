"""Rich progress bars for a terminal.

Every column renders from the reporter's latest `ProgressSnapshot` rather than from the
Rich task's counters, so `update` is a single assignment (safe and cheap from any worker
thread) and Rich's own refresh thread does all the drawing, a few times a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID
from rich.progress_bar import ProgressBar
from rich.text import Text

from aita_cli.execution.progress import (
    ProgressSnapshot,
    RunRate,
    concurrency_note,
    format_cost,
    format_duration,
    format_rate,
    percent,
    stopping_message,
)

__all__ = ["RichProgressReporter"]

_EMPTY = ProgressSnapshot("", 0, 0, 0, 0, 0.0, False, 0, 0)


class _LiveState:
    """What the columns draw: the latest snapshot and the run's rate."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.snapshot = _EMPTY
        self.rate = RunRate(clock)


class _SnapshotColumn(ProgressColumn):
    """A text column computed from the live state."""

    def __init__(self, state: _LiveState, render: Callable[[_LiveState], Text]) -> None:
        super().__init__()
        self._state = state
        self._render = render

    def render(self, task: Task) -> Text:
        return self._render(self._state)


class _SnapshotBar(BarColumn):
    """Rich's bar, filled from the snapshot instead of the Rich task."""

    def __init__(self, state: _LiveState) -> None:
        super().__init__(bar_width=30)
        self._state = state

    def render(self, task: Task) -> ProgressBar:
        snapshot = self._state.snapshot
        return ProgressBar(
            total=max(snapshot.total, 1),
            completed=min(max(snapshot.completed, 0), max(snapshot.total, 1)),
            width=self.bar_width,
            animation_time=task.get_time(),
            style=self.style,
            complete_style="red" if snapshot.failed else self.complete_style,
            finished_style=self.finished_style,
        )


def _description(state: _LiveState) -> Text:
    return Text(state.snapshot.description, style="bold")


def _counts(state: _LiveState) -> Text:
    snapshot = state.snapshot
    return Text(f"{snapshot.completed}/{snapshot.total} {percent(snapshot):>3d}%")


def _times(state: _LiveState) -> Text:
    elapsed = format_duration(state.rate.elapsed())
    remaining = format_duration(state.rate.eta(state.snapshot))
    return Text(f"{elapsed} < {remaining}", style="cyan")


def _speed(state: _LiveState) -> Text:
    return Text(format_rate(state.rate.rate(state.snapshot)), style="green")


def _cost(state: _LiveState) -> Text:
    snapshot = state.snapshot
    return Text(format_cost(snapshot.cost, snapshot.cost_is_estimate), style="magenta")


def _problems(state: _LiveState) -> Text:
    snapshot = state.snapshot
    cached = f" {snapshot.cached} cached" if snapshot.cached else ""
    return Text(
        f"{snapshot.failed} failed {snapshot.retries} retries{cached}",
        style="red" if snapshot.failed else "dim",
    )


def _activity(state: _LiveState) -> Text:
    snapshot = state.snapshot
    if snapshot.stopping:
        return Text(stopping_message(snapshot), style="bold yellow")
    if snapshot.waiting_for_rate_limit:
        return Text(f"waiting for rate limit ({snapshot.waiting_for_rate_limit})", style="yellow")
    limit = snapshot.concurrency_limit
    if limit is not None:
        # Workers beyond the learnt limit wait for a slot: they are not calls running.
        running = min(snapshot.in_flight, limit)
        return Text(f"{running} running, {concurrency_note(limit)}", style="yellow")
    return Text(f"{snapshot.in_flight} running", style="dim")


class RichProgressReporter:
    """Progress bars on a terminal console."""

    def __init__(
        self,
        console: Console,
        clock: Callable[[], float] = time.monotonic,
        refresh_per_second: float = 4.0,
    ) -> None:
        self._console = console
        self._clock = clock
        self._refresh_per_second = refresh_per_second
        self._state = _LiveState(clock)
        self._progress: Progress | None = None
        self._task_id: TaskID | None = None

    def start(self, description: str, total: int, completed: int = 0) -> None:
        self._stop()
        self._state.snapshot = ProgressSnapshot(
            description, total, completed, 0, 0, 0.0, False, 0, 0
        )
        self._state.rate.start(completed)
        columns = [_SnapshotColumn(self._state, _description), _SnapshotBar(self._state)]
        columns += [
            _SnapshotColumn(self._state, render)
            for render in (_counts, _times, _speed, _cost, _problems, _activity)
        ]
        self._progress = Progress(
            *columns,
            console=self._console,
            refresh_per_second=self._refresh_per_second,
            get_time=self._clock,
        )
        self._task_id = self._progress.add_task(description, total=max(total, 1))
        self._progress.start()

    def update(self, snapshot: ProgressSnapshot) -> None:
        self._state.snapshot = snapshot  # drawn by Rich's refresh thread

    def finish(self, snapshot: ProgressSnapshot) -> None:
        self._state.snapshot = snapshot
        if self._progress is not None and self._task_id is not None:
            self._progress.update(self._task_id, completed=snapshot.completed)
        self._stop()

    def _stop(self) -> None:
        if self._progress is not None:
            self._progress.refresh()
            self._progress.stop()
            self._progress = None
            self._task_id = None
