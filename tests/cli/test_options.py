"""`with_run_options`: a command declares its own options and gets the shared ones as
one RunOptions, as `aita grade` will."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.testing import CliRunner

from aita_cli.cli.help_format import AitaCommand
from aita_cli.cli.options import RunOptions, StudentOpt, with_run_options

runner = CliRunner()
QuestionOpt = Annotated[list[str] | None, typer.Option("--question", "-q", help="Only this one.")]


def _grade_app(received: list[tuple[RunOptions, list[str], list[str]]]) -> typer.Typer:
    app = typer.Typer()

    @app.command(name="grade", cls=AitaCommand)
    @with_run_options
    def grade(
        options: RunOptions, *, student: StudentOpt = None, question: QuestionOpt = None
    ) -> None:
        """Grade the students' answers."""
        received.append((options, student or [], question or []))

    @app.command(name="other")  # a second command: Typer shows the first by name
    def _other() -> None: ...

    return app


def test_shared_and_own_options_arrive_parsed() -> None:
    received: list[tuple[RunOptions, list[str], list[str]]] = []
    arguments = ["grade", "-a", "midterm", "--student", "alice", "-q", "2a", "--resume"]
    result = runner.invoke(_grade_app(received), [*arguments, "--workers", "3"])
    assert result.exit_code == 0, result.output
    [(options, students, questions)] = received
    assert options == RunOptions(assignment="midterm", resume=True, workers=3)
    assert (students, questions) == (["alice"], ["2a"])


def test_defaults_are_the_run_options_defaults() -> None:
    received: list[tuple[RunOptions, list[str], list[str]]] = []
    args = ["grade", "--assignment", "x", "--data-dir", "d", "--provider", "offline"]
    assert runner.invoke(_grade_app(received), args).exit_code == 0
    assert received[0][0] == RunOptions(assignment="x", data_dir=Path("d"), provider="offline")


def test_help_lists_assignment_then_own_options_then_the_shared_rest() -> None:
    result = runner.invoke(_grade_app([]), ["grade", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Grade the students' answers." in result.output
    flags = ["--assignment", "--student", "--question", "--data-dir", "--resume", "--model"]
    positions = [result.output.index(f" {flag} ") for flag in flags]
    assert positions == sorted(positions)
    assert "--help" in result.output


def test_the_assignment_is_required() -> None:
    result = runner.invoke(_grade_app([]), ["grade", "--student", "alice"])
    assert result.exit_code == 2
    assert "--assignment" in result.output
