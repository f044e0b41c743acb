"""Progress reporters: plain periodic lines, Rich rendering, silence, rate and ETA."""

from __future__ import annotations

import io
import re
import threading
import time

import pytest
from rich.console import Console

from aita_cli.execution.progress import (
    PlainProgressReporter,
    ProgressSnapshot,
    RunRate,
    SilentProgressReporter,
    format_cost,
    format_duration,
    format_rate,
    make_progress_reporter,
)
from aita_cli.execution.progress_rich import RichProgressReporter


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def snap(completed: int, **fields: object) -> ProgressSnapshot:
    values: dict[str, object] = {
        "description": "rubric",
        "total": 40,
        "completed": completed,
        "failed": 0,
        "retries": 0,
        "cost": 0.0,
        "cost_is_estimate": False,
        "waiting_for_rate_limit": 0,
        "in_flight": 0,
    }
    values.update(fields)
    return ProgressSnapshot(**values)  # type: ignore[arg-type]


def test_plain_lines_are_periodic_with_a_final_line() -> None:
    clock, out = FakeClock(), io.StringIO()
    reporter = make_progress_reporter(True, stream=out, plain_interval=5.0, clock=clock)
    assert isinstance(reporter, PlainProgressReporter)
    reporter.start("rubric", 40)
    for second in range(1, 13):  # one update per second for 12 seconds
        clock.now += 1.0
        reporter.update(snap(second, failed=2 if second > 4 else 0, retries=3, cost=0.0123))
    clock.now += 1.0
    reporter.finish(snap(40, failed=2, retries=3, cost=0.04, cost_is_estimate=True))
    lines = out.getvalue().splitlines()
    assert lines == [
        "rubric: 5/40 (12%) 2 failed 3 retries $0.0123 1.0 tasks/s eta 35s",
        "rubric: 10/40 (25%) 2 failed 3 retries $0.0123 1.0 tasks/s eta 30s",
        "rubric: 40/40 (100%) 2 failed 3 retries ~$0.0400 3.1 tasks/s done in 13s",
    ]


def test_plain_line_shows_rate_limit_waiting() -> None:
    clock, out = FakeClock(), io.StringIO()
    reporter = PlainProgressReporter(out, interval=1.0, clock=clock)
    reporter.start("transcribe", 10)
    clock.now += 5.0
    reporter.update(snap(1, total=10, description="transcribe", waiting_for_rate_limit=4))
    assert out.getvalue() == (
        "transcribe: 1/10 (10%) 0 failed 0 retries $0.0000 0.20 tasks/s eta 45s "
        "waiting for rate limit (4)\n"
    )


def test_plain_line_shows_a_learnt_concurrency_limit() -> None:
    clock, out = FakeClock(), io.StringIO()
    reporter = PlainProgressReporter(out, interval=1.0, clock=clock)
    reporter.start("rubric", 40)
    clock.now += 5.0
    reporter.update(snap(5, concurrency_limit=6))
    assert out.getvalue().rstrip().endswith("provider allows 6 at once")


def test_ctrl_c_is_acknowledged_at_once_and_only_once() -> None:
    clock, out = FakeClock(), io.StringIO()
    reporter = PlainProgressReporter(out, interval=60.0, clock=clock)
    reporter.start("rubric", 40)
    reporter.update(snap(3, in_flight=2, stopping=True))
    reporter.update(snap(4, in_flight=1, stopping=True))
    assert out.getvalue() == (
        "stopping: waiting for 2 call(s) in flight to finish (Ctrl-C again to stop now)\n"
    )


def test_plain_reporter_prints_once_per_interval_across_threads() -> None:
    clock, out = FakeClock(), io.StringIO()
    reporter = PlainProgressReporter(out, interval=5.0, clock=clock)
    reporter.start("rubric", 40)
    clock.now += 6.0

    def hammer() -> None:
        for _ in range(500):
            reporter.update(snap(3))

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(out.getvalue().splitlines()) == 1


def test_resumed_tasks_do_not_inflate_the_rate() -> None:
    clock = FakeClock()
    rate = RunRate(clock)
    rate.start(completed=30)  # 30 restored from the journal
    clock.now += 10.0
    assert rate.rate(snap(35)) == pytest.approx(0.5)
    assert rate.eta(snap(35)) == pytest.approx(10.0)
    assert rate.eta(snap(30)) is None
    assert rate.eta(snap(40)) == 0.0


def test_eta_does_not_jump_while_waiting_for_the_limiter() -> None:
    clock = FakeClock()
    rate = RunRate(clock)
    rate.start()
    clock.now += 10.0
    before = rate.eta(snap(10))
    clock.now += 0.5  # a short wait at the limiter with no completions
    after = rate.eta(snap(10))
    assert before is not None
    assert after is not None
    assert after == pytest.approx(before * 1.05)


def test_silent_when_progress_is_off() -> None:
    out = io.StringIO()
    reporter = make_progress_reporter(False, stream=out)
    assert isinstance(reporter, SilentProgressReporter)
    reporter.start("rubric", 3)
    reporter.update(snap(1))
    reporter.finish(snap(3))
    assert out.getvalue() == ""


def test_a_non_terminal_console_gets_plain_lines() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False)
    reporter = make_progress_reporter(True, console=console)
    assert isinstance(reporter, PlainProgressReporter)


def _drawn(out: io.StringIO) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())


def test_rich_mode_renders_every_column() -> None:
    clock, out = FakeClock(), io.StringIO()
    console = Console(file=out, force_terminal=True, width=200, color_system=None)
    assert isinstance(make_progress_reporter(True, console=console), RichProgressReporter)
    reporter = RichProgressReporter(console, clock=clock, refresh_per_second=50.0)
    reporter.start("rubric", 40)
    clock.now += 4.0
    reporter.update(snap(8, failed=1, retries=2, cost=0.0123, waiting_for_rate_limit=3))
    deadline = time.monotonic() + 5.0  # drawn by Rich's refresh thread, soon
    while "8/40" not in _drawn(out) and time.monotonic() < deadline:
        time.sleep(0.01)
    text = _drawn(out)
    for expected in [
        "rubric",
        "8/40",
        "20%",
        "4s < 16s",
        "2.0 tasks/s",
        "$0.0123",
        "1 failed 2 retries",
        "waiting for rate limit (3)",
    ]:
        assert expected in text
    clock.now += 16.0
    reporter.finish(snap(40, failed=1, retries=2, cost=0.05, cost_is_estimate=True, in_flight=0))
    text = _drawn(out)
    assert "40/40" in text
    assert "100%" in text
    assert "~$0.0500" in text


def test_rich_reporter_can_run_several_batches() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    reporter = RichProgressReporter(console, clock=FakeClock())
    for name in ("answer keys", "rubrics"):
        reporter.start(name, 2)
        reporter.update(snap(1, total=2, description=name))
        reporter.finish(snap(2, total=2, description=name))
    assert "rubrics" in console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "?"), (0.4, "0s"), (13.2, "13s"), (125, "2m05s"), (3720, "1h02m")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_cost_and_rate() -> None:
    assert format_cost(0.0123, False) == "$0.0123"
    assert format_cost(0.0123, True) == "~$0.0123"
    assert format_rate(None) == "- tasks/s"
    assert format_rate(0.2) == "0.20 tasks/s"
    assert format_rate(12.345) == "12.3 tasks/s"


def test_the_eta_never_assumes_more_than_the_rate_limiter_allows() -> None:
    # Two tasks went through in the start-up burst at once; from then on the limiter
    # lets 2 requests a second through, so 18 remaining tasks take 9 s, not 1 s.
    clock = FakeClock()
    rate = RunRate(clock)
    rate.start()
    clock.now += 0.2
    assert rate.eta(snap(2, total=20)) == pytest.approx(1.8)
    assert rate.eta(snap(2, total=20, max_rate=2.0)) == pytest.approx(9.0)
    assert rate.eta(snap(2, total=20, max_rate=50.0)) == pytest.approx(1.8)
