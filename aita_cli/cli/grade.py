"""`aita grade`: parse options, run the grading pipeline, render the outcome."""

from __future__ import annotations

import statistics
from typing import Annotated

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

from aita_cli.cli.errors import exit_on_error
from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.options import RunOptions, StudentOpt, with_run_options
from aita_cli.cli.render import (
    MAX_LISTED,
    OutcomeView,
    announcer,
    estimate_text,
    make_console,
    render_run,
)
from aita_cli.domain.grades import StudentGrades
from aita_cli.pipelines.grade import GradeOutcome, run_grade

__all__ = ["VIEW", "register", "render_outcome"]

QuestionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--question", "-q", metavar="<id>", help="Only this question id (e.g. 2a); repeatable."
    ),
]

_EPILOG = """\b
Examples:
  aita grade --assignment midterm
  aita grade -a midterm --student alice --question 3
  aita grade -a midterm --dry-run       # per stage: tasks, tokens, cost
  aita grade -a midterm --resume        # after Ctrl-C, budget, failures
  aita grade -a midterm --force         # regrade (instructor overrides stay)
Runs what grading needs and is missing (answer keys, rubrics, transcripts) in
the same batch. Offline, only multiple-choice and numeric answers are scored.
Writes results/grades/: grades.json, gradebook.csv, canvas.csv (with a
roster.csv), review.md and feedback/<student>.md.
"""


def register(app: typer.Typer) -> None:
    """Add the `grade` command to the app."""

    @app.command(name="grade", epilog=_EPILOG, cls=AitaCommand)
    @with_run_options
    def grade(
        options: RunOptions, *, student: StudentOpt = None, question: QuestionOpt = None
    ) -> None:
        """Grade every student's answers, with the stages the grades need in one batch."""
        console = make_console()
        with exit_on_error():
            outcome = run_grade(options, student or (), question or (), announce=announcer(console))
            render_outcome(outcome, console)
        raise typer.Exit(outcome.exit_code)


def render_outcome(outcome: GradeOutcome, console: Console) -> None:
    """Print what a run did, as every command does (`render_run`)."""
    render_run(outcome, VIEW, console)


def _render_plan(outcome: GradeOutcome, console: Console) -> None:
    stages = outcome.detail.plan
    assert stages is not None  # a dry run always plans
    table = Table(title="dry run: the batch by stage — no model called")
    for name in ("stage", "tasks", "reused", "prompt tokens", "reply tokens", "cost"):
        table.add_column(name, justify="left" if name == "stage" else "right")
    for stage in stages:
        estimate = stage.estimate
        table.add_row(
            stage.stage,
            str(stage.tasks),
            str(stage.reused),
            f"{estimate.prompt_tokens:,}",
            f"{estimate.completion_tokens:,}",
            escape(estimate_text(estimate)),
        )
    console.print(table)
    console.print("dry run: no model was called and nothing was written")


def _failures(outcome: GradeOutcome) -> tuple[str, list[str]]:
    failures = outcome.detail.failures
    return f"{len(failures)} item(s) failed (not graded, never counted as 0):", [
        f"{item.student} question {item.question_id}: {item.error}" for item in failures
    ]


def _tables(outcome: GradeOutcome) -> list[RenderableType]:
    students = _selected(outcome)
    if not students:
        return []
    table = Table(title="students")
    for name in ("student", "points", "percent", "status", "flagged"):
        table.add_column(name, justify="left" if name in ("student", "status") else "right")
    for grades in students[: MAX_LISTED * 5]:
        flagged = sum(1 for question in grades.questions if question.needs_review)
        scored = any(question.points is not None for question in grades.questions)
        table.add_row(
            escape(grades.student),
            f"{grades.total:g} / {grades.possible:g}" if scored else f"— / {grades.possible:g}",
            f"{grades.percent:.1f}%" if scored else "—",
            grades.status,
            str(flagged),
        )
    return [table]


def _selected(outcome: GradeOutcome) -> list[StudentGrades]:
    chosen = set(outcome.detail.selected)
    return [grades for grades in outcome.detail.students if grades.student in chosen]


def _figures(outcome: GradeOutcome) -> list[tuple[str, str]]:
    students = _selected(outcome)
    if not students:
        return []
    complete = [grades.percent for grades in students if grades.status == "complete"]
    flagged = sum(1 for g in students for question in g.questions if question.needs_review)
    rows = [
        ("students", str(len(students))),
        ("complete / incomplete", f"{len(complete)} / {len(students) - len(complete)}"),
        ("mean percent (complete)", _percent(statistics.fmean(complete) if complete else None)),
        ("median percent (complete)", _percent(statistics.median(complete) if complete else None)),
        ("items flagged for review", str(flagged)),
    ]
    for stage in outcome.detail.stages:
        ran = f"{stage.done} done" + (f", {stage.failed} failed" if stage.failed else "")
        rows.append((f"{stage.stage}", f"{ran} of {stage.tasks}; {stage.reused} reused"))
    if outcome.detail.first_grade_s is not None:
        rows.append(("first grade after", f"{outcome.detail.first_grade_s:.1f} s"))
    return rows


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


VIEW = OutcomeView(plan=_render_plan, failures=_failures, figures=_figures, tables=_tables)
