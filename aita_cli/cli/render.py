"""Rendering shared by generate-rubric and transcribe, so the two commands read alike:
the provider first, then warnings and notes, failures, a summary table, the outputs, and
what to do next (why the run stopped, how to resume, where the checkpoint is).

Every piece of text that comes from outside (file and student names, error messages) is
escaped: a name like "page[1].png" is not Rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aita_cli.execution.results import ExecutionMetrics
from aita_cli.pipelines.runner import CostEstimate

__all__ = [
    "MAX_LISTED",
    "announcer",
    "estimate_text",
    "make_console",
    "print_listed",
    "print_messages",
    "print_next_step",
    "print_outputs",
    "run_figures",
    "summary_table",
]

MAX_LISTED = 20  # longer lists are cut, with "and N more"


def make_console() -> Console:
    """The stdout console both commands print on (long lines wrap at words)."""
    return Console(highlight=False, soft_wrap=True)


def announcer(console: Console) -> Callable[[str], None]:
    """A callback printing a pipeline's early lines ("using ...") before progress starts."""
    return lambda line: console.print(escape(line))


def print_messages(
    console: Console, *, warnings: Sequence[str] = (), notices: Sequence[str] = ()
) -> None:
    """Warnings (something was skipped or is wrong) then notes (good to know)."""
    for warning in warnings:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    for notice in notices:
        console.print(f"[cyan]note:[/] {escape(notice)}")


def print_listed(console: Console, heading: str, lines: Sequence[str]) -> None:
    """A red heading and up to MAX_LISTED indented lines, e.g. the failures."""
    if not lines:
        return
    console.print(f"[bold red]{escape(heading)}[/]")
    for line in lines[:MAX_LISTED]:
        console.print(f"  {escape(line)}")
    if len(lines) > MAX_LISTED:
        console.print(f"  … and {len(lines) - MAX_LISTED} more")


def summary_table(title: str, rows: Sequence[tuple[str, str]]) -> Table:
    """A two-column table without a header: what, and how many."""
    table = Table(title=escape(title), title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(escape(name), escape(value))
    return table


def run_figures(
    metrics: ExecutionMetrics | None, retries: int, elapsed_s: float
) -> list[tuple[str, str]]:
    """The rows every summary ends with: retries, cost and time."""
    cost = metrics.total_cost if metrics is not None else 0.0
    approximate = "~" if metrics is not None and metrics.cost_is_estimate else ""
    return [
        ("retries", str(retries)),
        ("cost", f"{approximate}${cost:.4f}"),
        ("time", f"{elapsed_s:.1f} s"),
    ]


def estimate_text(estimate: CostEstimate) -> str:
    """A dry run's cost: "~$0.0123", "none (offline)", or why it is unknown."""
    if estimate.local:
        return "none (offline)"
    if not estimate.price_known:
        return f"unknown (no price known for {estimate.model}; set AITA_PRICES)"
    return f"~${estimate.cost:.4f}"


def print_outputs(console: Console, lines: Sequence[str]) -> None:
    """The files a run wrote, one per line."""
    if not lines:
        return
    console.print("outputs:")
    for line in lines:
        console.print(f"  {escape(line)}")


def print_next_step(
    console: Console,
    *,
    stopped: str | None,
    not_started: Sequence[str],
    resume_hint: str | None,
    checkpoint_path: Path | None,
) -> None:
    """Why the run stopped early, what did not start, how to resume, where the journal is."""
    if stopped == "interrupted":
        console.print("[yellow]interrupted:[/] finished tasks are saved in the checkpoint.")
    elif stopped == "budget":
        console.print("[yellow]cost budget reached:[/] the tasks not started can be resumed.")
    elif stopped == "fatal":
        console.print(
            "[red]stopped:[/] the tasks left would all fail the same way; fix it, then resume."
        )
    if not_started:
        shown = ", ".join(not_started[:MAX_LISTED])
        more = len(not_started) - MAX_LISTED
        console.print(f"not started: {escape(shown)}" + (f" and {more} more" if more > 0 else ""))
    if resume_hint:
        console.print(f"resume with: {escape(resume_hint)}")
    if checkpoint_path is not None:
        console.print(f"checkpoint: {escape(str(checkpoint_path))}")
