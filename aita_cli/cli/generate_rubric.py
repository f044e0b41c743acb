"""`aita generate-rubric`: answer keys and grading rubrics for every question of an exam."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
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
from aita_cli.pipelines.rubric import RubricOutcome, RubricPlan, run_generate_rubric
from aita_cli.pipelines.rubric_tasks import format_points

__all__ = ["register", "render_outcome"]

EPILOG = """\b
Examples:
  aita generate-rubric --assignment midterm
  aita generate-rubric -a midterm --dry-run
  aita generate-rubric -a midterm --resume
  aita generate-rubric -a midterm --force --provider offline
  aita generate-rubric -a midterm --workers 10 --rate-limit 5 --max-cost 2.50
"""
_MAX_LISTED = 20


def register(app: typer.Typer) -> None:
    """Add the generate-rubric command to `app`."""

    @app.command(name="generate-rubric", epilog=EPILOG)
    def generate_rubric(
        *,
        assignment: AssignmentOpt,
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
        """Write answer keys and grading rubrics for every question of an assignment.

        Reads <data-dir>/ASSIGNMENT/exam.json (plus instructions.txt,
        question_instructions.json and user_rubrics.json when present) and writes
        results/answer_keys.json, results/rubrics.json and results/rubrics.md.
        """
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
        console = Console(highlight=False, soft_wrap=True)
        with exit_on_error():
            outcome = run_generate_rubric(
                options, announce=lambda line: console.print(escape(line))
            )
            render_outcome(outcome, console)
        raise typer.Exit(outcome.exit_code)


def render_outcome(outcome: RubricOutcome, console: Console) -> None:
    """Show what a run did: notices, the plan or the failures, a summary, the outputs."""
    for notice in outcome.notices:
        console.print(f"[yellow]note:[/] {escape(notice)}")
    if outcome.plan is not None:
        _render_plan(outcome, outcome.plan, console)
        return
    if outcome.kept_existing:
        return
    _render_failures(outcome, console)
    console.print(_summary_table(outcome))
    if outcome.paths:
        console.print("outputs:")
        for path in outcome.paths:
            console.print(f"  {escape(str(path))}")
    _render_next_step(outcome, console)


def _render_plan(outcome: RubricOutcome, plan: RubricPlan, console: Console) -> None:
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
    price = f"~${estimate.cost:.4f}" if estimate.price_known else "unknown (no price for model)"
    console.print(
        f"{len(plan.tasks)} tasks for {outcome.questions} questions "
        f"({format_points(outcome.total_points)} points); model {escape(estimate.model)}; "
        f"~{estimate.prompt_tokens + estimate.completion_tokens} tokens "
        f"({estimate.prompt_tokens} prompt, {estimate.completion_tokens} reply); cost {price}"
    )
    if plan.user_rubric_questions:
        given = ", ".join(plan.user_rubric_questions)
        console.print(f"user rubrics used as given for: {escape(given)}")
    console.print("nothing was written")


def _render_failures(outcome: RubricOutcome, console: Console) -> None:
    if not outcome.failures:
        return
    console.print(f"[bold red]{len(outcome.failures)} task(s) failed:[/]")
    for failure in outcome.failures:
        console.print(
            f"  question {escape(failure.question_id)} ({failure.kind}): {escape(failure.error)}"
        )


def _summary_table(outcome: RubricOutcome) -> Table:
    metrics = outcome.metrics
    table = Table(title=f"{escape(outcome.exam_name)}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    done = str(outcome.tasks_done)
    if outcome.tasks_resumed:
        done += f" ({outcome.tasks_resumed} from the checkpoint)"
    table.add_row("questions", str(outcome.questions))
    table.add_row("total points", format_points(outcome.total_points))
    table.add_row("tasks done", f"{done} of {outcome.tasks_total}")
    table.add_row("tasks failed", str(outcome.tasks_failed))
    if outcome.not_started:
        table.add_row("not started", str(len(outcome.not_started)))
    if metrics is not None:
        estimate = "~" if metrics.cost_is_estimate else ""
        table.add_row("retries", str(metrics.retried_tasks))
        table.add_row("cost", f"{estimate}${metrics.total_cost:.4f}")
    table.add_row("time", f"{outcome.elapsed_s:.1f} s")
    return table


def _render_next_step(outcome: RubricOutcome, console: Console) -> None:
    if outcome.stopped == "interrupted":
        console.print("[yellow]interrupted:[/] finished tasks are saved in the checkpoint.")
    elif outcome.stopped == "budget":
        console.print("[yellow]cost budget reached:[/] the tasks not started can be resumed.")
    if outcome.not_started:
        shown = ", ".join(outcome.not_started[:_MAX_LISTED])
        more = len(outcome.not_started) - _MAX_LISTED
        console.print(f"not started: {escape(shown)}" + (f" and {more} more" if more > 0 else ""))
    if outcome.resume_hint:
        console.print(f"resume with: {escape(outcome.resume_hint)}")
