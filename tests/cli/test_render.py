"""`render_run`: every command's outcome prints its parts in one order."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console, RenderableType

from aita_cli.cli.render import OutcomeView, render_run
from aita_cli.execution.results import BatchExecutionResult, ExecutionMetrics, TaskResult
from aita_cli.pipelines.outcome import RunOutcome


def _plan(outcome: RunOutcome[str], console: Console) -> None:
    console.print(f"the plan: {outcome.detail}")


def _failures(outcome: RunOutcome[str]) -> tuple[str, list[str]]:
    return "1 thing failed:", ["b: bad reply"]


def _tables(outcome: RunOutcome[str]) -> list[RenderableType]:
    return ["the command's own table"]


def _figures(outcome: RunOutcome[str]) -> list[tuple[str, str]]:
    return [("things", "2")]


VIEW = OutcomeView(plan=_plan, failures=_failures, figures=_figures, tables=_tables)


def _outcome(*, dry_run: bool = False) -> RunOutcome[str]:
    batch = BatchExecutionResult(
        [TaskResult("a", True, attempts=2), TaskResult("b", False), TaskResult("c", False)],
        ExecutionMetrics(total_cost=0.5),
        checkpoint_path=Path("ck.jsonl"),
        stopped="budget",
        not_started=["c"],
    )
    return RunOutcome(
        assignment="exam1",
        exam_name="Quiz",
        provider="offline",
        detail="detail",
        batch=batch,
        dry_run=dry_run,
        warnings=["a warning"],
        notices=["a note"],
        outputs=[Path("out.json")],
        exit_code=3,
        resume_hint="aita x --assignment exam1 --resume",
        elapsed_s=1.25,
    )


def _shown(outcome: RunOutcome[str]) -> str:
    shown = io.StringIO()
    render_run(outcome, VIEW, Console(file=shown, width=120))
    return shown.getvalue()


def test_the_common_parts_come_in_one_order_around_the_commands_own() -> None:
    text = _shown(_outcome())
    order = [
        "warning: a warning",
        "note: a note",
        "1 thing failed:",
        "  b: bad reply",
        "the command's own table",
        "Quiz",
        "things",
        "│ not started │       1 │",
        "│ retries     │       1 │",
        "$0.5000",
        "1.2 s",
        "outputs:",
        "  out.json",
        "cost budget reached",
        "not started: c",
        "resume with: aita x --assignment exam1 --resume",
        "checkpoint: ck.jsonl",
    ]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions), text
    assert "the plan" not in text


def test_a_dry_run_shows_the_messages_then_the_plan_alone() -> None:
    text = _shown(_outcome(dry_run=True))
    assert text.splitlines() == ["warning: a warning", "note: a note", "the plan: detail"]
