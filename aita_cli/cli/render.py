"""Rendering shared by the pipeline commands, so they all read alike: the provider first,
then warnings and notes, failures, the command's own tables, a summary table, the outputs,
and what to do next (why the run stopped, how to resume, where the checkpoint is).

`render_run` prints a `RunOutcome` in that order; a command supplies only what is its
own (its plan, failures, tables and summary figures) as an `OutcomeView`.

Every piece of text that comes from outside (file and student names, error messages) is
escaped: a name like "page[1].png" is not Rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from aita_cli.execution.results import ExecutionMetrics
from aita_cli.pipelines.outcome import DetailT, RunOutcome
from aita_cli.pipelines.runner import CostEstimate, retry_count

__all__ = [
    "MAX_LISTED",
    "OutcomeView",
    "announcer",
    "estimate_text",
    "from_checkpoint",
    "make_console",
    "print_listed",
    "print_messages",
    "print_next_step",
    "print_outputs",
    "render_run",
    "run_figures",
    "summary_table",
]

MAX_LISTED = 20  # longer lists are cut, with "and N more"


def _no_tables(outcome: RunOutcome[DetailT]) -> list[RenderableType]:
    return []


def _output_paths(outcome: RunOutcome[DetailT]) -> list[str]:
    return [str(path) for path in outcome.outputs]


@dataclass(frozen=True)
class OutcomeView(Generic[DetailT]):
    """What a command renders of its own outcome; `render_run` does the rest.

    `failures` gives a heading and one line per failure; `figures` the summary's first
    rows (none: no summary), before the rows every run ends with; `tables` what goes
    between the failures and the summary; `outputs` the lines listing what was written.
    """

    plan: Callable[[RunOutcome[DetailT], Console], None]
    failures: Callable[[RunOutcome[DetailT]], tuple[str, list[str]]]
    figures: Callable[[RunOutcome[DetailT]], list[tuple[str, str]]]
    tables: Callable[[RunOutcome[DetailT]], list[RenderableType]] = _no_tables
    outputs: Callable[[RunOutcome[DetailT]], list[str]] = _output_paths


def render_run(outcome: RunOutcome[DetailT], view: OutcomeView[DetailT], console: Console) -> None:
    """Print what a run did, in the same order for every command (the provider was
    announced before): messages, then a dry run's plan alone, or the failures, the
    command's tables, the summary, the outputs and the next step."""
    print_messages(console, warnings=outcome.warnings, notices=outcome.notices)
    if outcome.dry_run:
        view.plan(outcome, console)
        return
    heading, failures = view.failures(outcome)
    print_listed(console, heading, failures)
    for table in view.tables(outcome):
        console.print(table)
    figures = view.figures(outcome)
    if figures:
        console.print(summary_table(outcome.exam_name, figures + _run_rows(outcome)))
    print_outputs(console, view.outputs(outcome))
    print_next_step(console, outcome)


def _run_rows(outcome: RunOutcome[DetailT]) -> list[tuple[str, str]]:
    rows = [("not started", str(len(outcome.not_started)))] if outcome.not_started else []
    retries = retry_count(outcome.batch) if outcome.batch is not None else 0
    return rows + run_figures(outcome.metrics, retries, outcome.elapsed_s)


def from_checkpoint(done: int, resumed: int) -> str:
    """How many are done, and how many of those the checkpoint restored."""
    return f"{done} ({resumed} from the checkpoint)" if resumed else str(done)


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
    cached = (
        [("from the cache", str(metrics.cached_tasks))] if metrics and metrics.cached_tasks else []
    )
    return [
        *cached,
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


def print_next_step(console: Console, outcome: RunOutcome[DetailT]) -> None:
    """Why the run stopped early, what did not start, how to resume, where the journal is."""
    stopped, not_started = outcome.stopped, outcome.not_started
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
    if outcome.resume_hint:
        console.print(f"resume with: {escape(outcome.resume_hint)}")
    if outcome.checkpoint_path is not None:
        console.print(f"checkpoint: {escape(str(outcome.checkpoint_path))}")
