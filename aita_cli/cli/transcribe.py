"""`aita transcribe`: parse options, run the transcription pipeline, render the outcome."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.options import RunOptions, StudentOpt, with_run_options
from aita_cli.cli.render import (
    OutcomeView,
    announcer,
    estimate_text,
    from_checkpoint,
    make_console,
    render_run,
)
from aita_cli.pipelines.transcribe import TranscribeOutcome, run_transcribe

__all__ = ["VIEW", "register", "render_outcome"]

_EPILOG = """\b
Examples:
  aita transcribe --assignment midterm
  aita transcribe -a midterm --student alice --student bob
  aita transcribe -a midterm --dry-run     # pages, tokens, cost; no call
  aita transcribe -a midterm --resume      # after Ctrl-C, budget, failures
  aita transcribe -a midterm --force --provider offline    # OCR, redo all
Writes results/transcripts/<student>.json and .md, and index.json.
"""


def register(app: typer.Typer) -> None:
    """Add the `transcribe` command to the app."""

    @app.command(name="transcribe", epilog=_EPILOG, cls=AitaCommand)
    @with_run_options
    def transcribe(options: RunOptions, *, student: StudentOpt = None) -> None:
        """Transcribe every student's scanned submission, all pages as one batch."""
        console = make_console()
        with exit_on_error():
            outcome = run_transcribe(options, student or (), announce=announcer(console))
            render_outcome(outcome, console)
        raise typer.Exit(outcome.exit_code)


def render_outcome(outcome: TranscribeOutcome, console: Console) -> None:
    """Print what a run did: warnings and notes, the plan or the failures, the students,
    a summary, the outputs and the next step (the provider was announced before)."""
    render_run(outcome, VIEW, console)


def _render_plan(outcome: TranscribeOutcome, console: Console) -> None:
    plan = outcome.detail.plan
    assert plan is not None  # a dry run always plans
    if not plan.pages_per_student:
        console.print("nothing to transcribe: every selected transcript is complete")
    else:
        table = Table(title="dry run: pages to transcribe — no model called")
        table.add_column("student")
        table.add_column("pages", justify="right")
        for name, pages in plan.pages_per_student.items():
            table.add_row(escape(name), str(pages))
        console.print(table)
    estimate = plan.estimate
    console.print(
        f"{plan.pages} page(s); model {escape(estimate.model)}; "
        f"~{estimate.prompt_tokens + estimate.completion_tokens:,} tokens "
        f"({estimate.prompt_tokens:,} prompt, of which ~{plan.image_tokens:,} for images, "
        f"{estimate.completion_tokens:,} reply); cost {escape(estimate_text(estimate))}"
    )
    console.print("dry run: no model was called and nothing was written")


def _failures(outcome: TranscribeOutcome) -> tuple[str, list[str]]:
    failed = [row for row in outcome.detail.failed_students if row["failures"]]
    return f"{len(failed)} student(s) failed:", [
        f"{row['student']}: {failure}" for row in failed for failure in row["failures"]
    ]


def _tables(outcome: TranscribeOutcome) -> list[RenderableType]:
    if outcome.detail.students:
        return [_students_table(outcome.detail.students)]
    if outcome.detail.kept:
        return ["nothing to do: every selected transcript is complete"]
    return []


def _students_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="students")
    for name in ("student", "status", "pages", "done", "failed", "confidence"):
        table.add_column(name, justify="left" if name in ("student", "status") else "right")
    for row in rows:
        table.add_row(
            escape(row["student"]),
            row["status"],
            str(row["pages"]),
            str(row["pages_done"]),
            str(row["pages_failed"]),
            _confidence(row["mean_confidence"]),
        )
    return table


def _figures(outcome: TranscribeOutcome) -> list[tuple[str, str]]:
    rows, kept = outcome.detail.students, outcome.detail.kept
    if not rows:  # nothing ran: the tables said why
        return []
    done = sum(row["pages_done"] for row in rows)
    weights = [(row["mean_confidence"], row["pages_done"]) for row in rows if row["pages_done"]]
    mean = sum(c * n for c, n in weights) / done if done else None
    students = str(len(rows)) + (f" (+{len(kept)} already complete, kept)" if kept else "")
    return [
        ("students", students),
        ("pages", str(sum(row["pages"] for row in rows))),
        ("pages done", from_checkpoint(done, outcome.tasks_resumed)),
        ("pages failed", str(sum(row["pages_failed"] for row in rows))),
        ("mean confidence", _confidence(mean)),
    ]


def _output_lines(outcome: TranscribeOutcome) -> list[str]:
    if not outcome.outputs:
        return []
    index = outcome.outputs[-1]
    transcripts = sum(1 for path in outcome.outputs if path.suffix == ".json") - 1
    if not transcripts:  # every transcript was kept: only the index was written
        return [str(index)]
    return [
        str(index),
        f"{index.parent}/<student>.json and .md for {transcripts} student(s)",
    ]


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


VIEW = OutcomeView(
    plan=_render_plan,
    failures=_failures,
    figures=_figures,
    tables=_tables,
    outputs=_output_lines,
)
