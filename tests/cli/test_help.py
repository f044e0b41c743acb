"""Help text: flags read as flags, --provider as its choices, for every command."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from aita_cli.cli.app import app

runner = CliRunner()
COMMANDS = sorted(typer.main.get_group(app).commands)  # a new command is checked too
WIDE = {"COLUMNS": "200"}  # one option a line: nothing wraps


@pytest.mark.parametrize("args", [[], *([name] for name in COMMANDS)], ids=["aita", *COMMANDS])
def test_flags_show_no_type(args: list[str]) -> None:
    result = runner.invoke(app, [*args, "--help"], env=WIDE)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output


@pytest.mark.parametrize("command", ["generate-rubric", "transcribe"])
def test_provider_shows_its_choices(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env=WIDE)
    line = next(line for line in result.output.splitlines() if " --provider " in line)
    assert "<auto|openrouter|openai|offline>" in line
    assert "<str>" not in line


@pytest.mark.parametrize("command", ["generate-rubric", "transcribe"])
def test_every_shared_option_is_listed_with_its_help_in_order(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], env=WIDE)
    shared = [
        ("--assignment", "Assignment folder name"),
        ("--data-dir", "Where assignment folders live"),
        ("--resume", "Continue the latest checkpoint"),
        ("--force", "Regenerate results"),
        ("--dry-run", "Validate and print the plan"),
        ("--workers", "Concurrent tasks"),
        ("--rate-limit", "Requests per second"),
        ("--max-cost", "Stop starting tasks"),
        ("--provider", "Where requests go"),
        ("--model", "Model id"),
    ]
    lines = result.output.splitlines()
    rows = [next(i for i, line in enumerate(lines) if f" {flag} " in line) for flag, _ in shared]
    assert rows == sorted(rows)
    for row, (_, help_text) in zip(rows, shared, strict=True):
        assert help_text in lines[row]
