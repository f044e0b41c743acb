"""`aita generate-rubric`: answer keys and grading rubrics for every question of an exam."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.options import RunOptions, with_run_options
from aita_cli.cli.render import (
    OutcomeView,
    announcer,
    estimate_text,
    from_checkpoint,
    make_console,
    render_run,
)
from aita_cli.pipelines.rubric import RubricOutcome, run_generate_rubric
from aita_cli.pipelines.rubric_tasks import format_points

__all__ = ["VIEW", "register", "render_outcome"]

EPILOG = """\b
Examples:
  aita generate-rubric --assignment midterm
  aita generate-rubric -a midterm --dry-run
  aita generate-rubric -a midterm --resume
  aita generate-rubric -a midterm --force --provider offline
  aita generate-rubric -a midterm --workers 10 --rate-limit 5 --max-cost 2.50
"""


def register(app: typer.Typer) -> None:
    """Add the generate-rubric command to `app`."""

    @app.command(name="generate-rubric", epilog=EPILOG, cls=AitaCommand)
    @with_run_options
    def generate_rubric(options: RunOptions) -> None:
        """Write answer keys and grading rubrics for every question of an assignment.

        Reads <data-dir>/ASSIGNMENT/exam.json (plus instructions.txt,
        question_instructions.json and user_rubrics.json when present) and writes
        results/answer_keys.json, results/rubrics.json and results/rubrics.md.
        """
        console = make_console()
        with exit_on_error():
            outcome = run_generate_rubric(options, announce=announcer(console))
            render_outcome(outcome, console)
        raise typer.Exit(outcome.exit_code)


def render_outcome(outcome: RubricOutcome, console: Console) -> None:
    """Show what a run did: notes, the plan or the failures, a summary, the outputs."""
    render_run(outcome, VIEW, console)


def _render_plan(outcome: RubricOutcome, console: Console) -> None:
    detail, plan = outcome.detail, outcome.detail.plan
    assert plan is not None  # a dry run always plans
    table = Table(title=f"dry run: {escape(outcome.exam_name)} — no model called")
    for column in ("task", "question", "prompt tokens", "reply tokens"):
        table.add_column(column, justify="right" if "tokens" in column else "left")
    for task in plan.tasks:
        table.add_row(
            escape(task.task_id),
            escape(task.question_id),
            str(task.prompt_tokens),
            str(task.completion_tokens),
        )
    console.print(table)
    estimate = plan.estimate
    console.print(
        f"{len(plan.tasks)} tasks for {detail.questions} questions "
        f"({format_points(detail.total_points)} points); model {escape(estimate.model)}; "
        f"~{estimate.prompt_tokens + estimate.completion_tokens:,} tokens "
        f"({estimate.prompt_tokens:,} prompt, {estimate.completion_tokens:,} reply); "
        f"cost {escape(estimate_text(estimate))}"
    )
    if plan.user_rubric_questions:
        given = ", ".join(plan.user_rubric_questions)
        console.print(f"user rubrics used as given for: {escape(given)}")
    console.print("dry run: no model was called and nothing was written")


def _failures(outcome: RubricOutcome) -> tuple[str, list[str]]:
    failures = outcome.detail.failures
    return f"{len(failures)} task(s) failed:", [
        f"question {failure.question_id} ({failure.kind}): {failure.error}" for failure in failures
    ]


def _figures(outcome: RubricOutcome) -> list[tuple[str, str]]:
    if outcome.batch is None:  # complete results were kept: nothing ran
        return []
    detail = outcome.detail
    done = from_checkpoint(outcome.tasks_done, outcome.tasks_resumed)
    return [
        ("questions", str(detail.questions)),
        ("total points", format_points(detail.total_points)),
        ("tasks done", f"{done} of {outcome.tasks_total}"),
        ("tasks failed", str(len(detail.failures))),
    ]


VIEW = OutcomeView(plan=_render_plan, failures=_failures, figures=_figures)
