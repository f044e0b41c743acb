"""`aita transcribe`: parse options, run the transcription pipeline, render the outcome."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.options import (
    AssignmentOpt,
    DataDirOpt,
    DryRunOpt,
    ForceOpt,
    MaxCostOpt,
    ModelOpt,
    ProviderOpt,
    RateLimitOpt,
    ResumeOpt,
    RunOptions,
    WorkersOpt,
)
from aita_cli.pipelines.transcribe import TranscribeOutcome, TranscribePlan, run_transcribe

__all__ = ["register", "render_outcome"]

_EPILOG = """\b
Examples:
  aita transcribe --assignment midterm
  aita transcribe -a midterm --student alice --student bob
  aita transcribe -a midterm --dry-run     # pages, tokens, cost; no call
  aita transcribe -a midterm --resume      # after Ctrl-C, budget, failures
  aita transcribe -a midterm --force --provider offline    # OCR, redo all
Writes results/transcripts/<student>.json and .md, and index.json.
"""

StudentOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--student",
        "-s",
        help="Only this student (file or folder name in submissions/); repeatable.",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the `transcribe` command to the app."""

    @app.command(name="transcribe", epilog=_EPILOG)
    def transcribe(
        *,
        assignment: AssignmentOpt,
        student: StudentOpt = None,
        data_dir: DataDirOpt = None,
        resume: ResumeOpt = False,
        force: ForceOpt = False,
        dry_run: DryRunOpt = False,
        workers: WorkersOpt = None,
        rate_limit: RateLimitOpt = None,
        max_cost: MaxCostOpt = None,
        provider: ProviderOpt = None,
        model: ModelOpt = None,
    ) -> None:
        """Transcribe every student's scanned submission, all pages as one batch."""
        options = RunOptions(
            assignment=assignment,
            data_dir=data_dir,
            resume=resume,
            force=force,
            dry_run=dry_run,
            workers=workers,
            rate_limit=rate_limit,
            max_cost=max_cost,
            provider=provider,
            model=model,
        )
        with exit_on_error():
            outcome = run_transcribe(options, student or ())
            render_outcome(outcome, Console(highlight=False))
        raise typer.Exit(outcome.exit_code)


def render_outcome(outcome: TranscribeOutcome, console: Console) -> None:
    """Print what a run did: provider, warnings, failures, summary, outputs, next step."""
    console.print(f"using {outcome.provider}")
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    for notice in outcome.notices:
        console.print(f"[cyan]note:[/] {notice}")
    if outcome.plan is not None:
        _render_plan(outcome.plan, console)
        return
    _render_failures(outcome, console)
    if outcome.students:
        console.print(_students_table(outcome.students))
        console.print(_summary_table(outcome))
    elif outcome.kept:
        console.print("nothing to do: every selected transcript is complete")
    _render_outputs(outcome, console)


def _render_plan(plan: TranscribePlan, console: Console) -> None:
    table = Table(title="Plan (dry run)", title_justify="left")
    table.add_column("Student")
    table.add_column("Pages", justify="right")
    for name, pages in plan.pages_per_student.items():
        table.add_row(name, str(pages))
    console.print(table)
    estimate = plan.estimate
    price = "" if estimate.price_known else f" (no price known for {estimate.model})"
    console.print(
        f"{plan.pages} page(s) for {estimate.model}: about {plan.image_tokens:,} image "
        f"tokens, {estimate.prompt_tokens:,} prompt tokens in all, "
        f"{estimate.completion_tokens:,} completion tokens; "
        f"estimated cost ${estimate.cost:.4f}{price}"
    )
    console.print("dry run: no model was called and nothing was written")


def _render_failures(outcome: TranscribeOutcome, console: Console) -> None:
    for row in outcome.failed_students:
        for failure in row["failures"]:
            console.print(f"[red]✗ {row['student']}:[/] {failure}")
        unstarted = row["pages"] - row["pages_done"] - row["pages_failed"]
        if unstarted > 0:
            console.print(f"[yellow]… {row['student']}:[/] {unstarted} page(s) not started yet")


def _students_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="Students", title_justify="left")
    for name in ("Student", "Status", "Pages", "Done", "Failed", "Confidence"):
        table.add_column(name, justify="left" if name in ("Student", "Status") else "right")
    for row in rows:
        table.add_row(
            row["student"],
            row["status"],
            str(row["pages"]),
            str(row["pages_done"]),
            str(row["pages_failed"]),
            _confidence(row["mean_confidence"]),
        )
    return table


def _summary_table(outcome: TranscribeOutcome) -> Table:
    rows = outcome.students
    done = sum(row["pages_done"] for row in rows)
    failed = sum(row["pages_failed"] for row in rows)
    weights = [(row["mean_confidence"], row["pages_done"]) for row in rows if row["pages_done"]]
    mean = sum(c * n for c, n in weights) / done if done else None
    metrics = outcome.batch.metrics if outcome.batch is not None else None
    table = Table(title="Summary", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    table.add_row("Students", f"{len(rows)} ({len(outcome.kept)} kept as they were)")
    table.add_row("Pages", str(sum(row["pages"] for row in rows)))
    table.add_row("Done / failed", f"{done} / {failed}")
    table.add_row("Mean confidence", _confidence(mean))
    table.add_row("Retries", str(metrics.retried_tasks if metrics else 0))
    estimate = " (estimate)" if metrics and metrics.cost_is_estimate else ""
    table.add_row("Cost", f"${metrics.total_cost if metrics else 0.0:.4f}{estimate}")
    table.add_row("Time", f"{outcome.seconds:.1f} s")
    return table


def _render_outputs(outcome: TranscribeOutcome, console: Console) -> None:
    if outcome.outputs:
        folder = outcome.outputs[-1].parent
        transcripts = sum(1 for path in outcome.outputs if path.suffix == ".json") - 1
        console.print(f"wrote {transcripts} transcript(s) and index.json to {folder}")
    batch = outcome.batch
    if batch is not None and batch.stopped:
        why = "interrupted" if batch.stopped == "interrupted" else "cost budget reached"
        console.print(f"[yellow]{why}:[/] {len(batch.not_started)} page(s) not started")
    if outcome.resume_hint:
        console.print(f"to continue: {outcome.resume_hint}")
    if batch is not None and batch.checkpoint_path is not None:
        console.print(f"checkpoint: {batch.checkpoint_path}")


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"
