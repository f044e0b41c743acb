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
from aita_cli.cli.render import (
    announcer,
    estimate_text,
    make_console,
    print_listed,
    print_messages,
    print_next_step,
    print_outputs,
    run_figures,
    summary_table,
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
        console = make_console()
        with exit_on_error():
            outcome = run_generate_rubric(options, announce=announcer(console))
            render_outcome(outcome, console)
        raise typer.Exit(outcome.exit_code)


def render_outcome(outcome: RubricOutcome, console: Console) -> None:
    """Show what a run did: notes, the plan or the failures, a summary, the outputs."""
    print_messages(console, notices=outcome.notices)
    if outcome.plan is not None:
        _render_plan(outcome, outcome.plan, console)
        return
    if outcome.kept_existing:
        return
    print_listed(
        console,
        f"{len(outcome.failures)} task(s) failed:",
        [
            f"question {failure.question_id} ({failure.kind}): {failure.error}"
            for failure in outcome.failures
        ],
    )
    console.print(_summary_table(outcome))
    print_outputs(console, [str(path) for path in outcome.paths])
    print_next_step(
        console,
        stopped=outcome.stopped,
        not_started=outcome.not_started,
        resume_hint=outcome.resume_hint,
        checkpoint_path=outcome.checkpoint_path,
    )


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
    console.print(
        f"{len(plan.tasks)} tasks for {outcome.questions} questions "
        f"({format_points(outcome.total_points)} points); model {escape(estimate.model)}; "
        f"~{estimate.prompt_tokens + estimate.completion_tokens:,} tokens "
        f"({estimate.prompt_tokens:,} prompt, {estimate.completion_tokens:,} reply); "
        f"cost {escape(estimate_text(estimate))}"
    )
    if plan.user_rubric_questions:
        given = ", ".join(plan.user_rubric_questions)
        console.print(f"user rubrics used as given for: {escape(given)}")
    console.print("dry run: no model was called and nothing was written")


def _summary_table(outcome: RubricOutcome) -> Table:
    done = str(outcome.tasks_done)
    if outcome.tasks_resumed:
        done += f" ({outcome.tasks_resumed} from the checkpoint)"
    rows = [
        ("questions", str(outcome.questions)),
        ("total points", format_points(outcome.total_points)),
        ("tasks done", f"{done} of {outcome.tasks_total}"),
        ("tasks failed", str(outcome.tasks_failed)),
    ]
    if outcome.not_started:
        rows.append(("not started", str(len(outcome.not_started))))
    return summary_table(
        outcome.exam_name, rows + run_figures(outcome.metrics, outcome.retries, outcome.elapsed_s)
    )
