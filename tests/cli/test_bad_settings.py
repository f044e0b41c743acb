"""Bad settings and flags through the real CLI, for both commands: one line on stderr
naming the variable (or the flag), exit 2, nothing written, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aita_cli.cli.app import app
from tests.pipelines.rubric_support import isolate_environment, write_exam

runner = CliRunner()
COMMANDS = ("generate-rubric", "transcribe")


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AITA_PROVIDER", "offline")
    root = write_exam(tmp_path / "data")
    (root / "submissions").mkdir()


def _invoke(command: str, *args: str, **env: str) -> Result:
    return runner.invoke(app, [command, "--assignment", "exam1", *args], env=env)


def _one_error_line(result: Result, tmp_path: Path) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "data" / "exam1" / "results").exists()
    assert not (tmp_path / "checkpoints").exists()
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AITA_MAX_WORKERS", "abc"),
        ("AITA_MAX_WORKERS", "0"),
        ("AITA_MAX_WORKERS", "-3"),
        ("AITA_RATE_LIMIT_RPS", "-1"),
        ("AITA_ENABLE_CHECKPOINTING", "maybe"),
    ],
)
def test_a_bad_variable_is_named(tmp_path: Path, command: str, variable: str, value: str) -> None:
    line = _one_error_line(_invoke(command, **{variable: value}), tmp_path)
    assert line.startswith(f"error: {variable} must be ")
    assert repr(value) in line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_flag_value_is_named_as_the_flag(tmp_path: Path, command: str) -> None:
    line = _one_error_line(_invoke(command, "--provider", "bogus"), tmp_path)
    assert line.startswith("error: --provider must be one of auto, openrouter, openai, offline")


@pytest.mark.parametrize("command", COMMANDS)
def test_workers_zero_is_a_usage_error(tmp_path: Path, command: str) -> None:
    result = _invoke(command, "--workers", "0")
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert not (tmp_path / "checkpoints").exists()


def test_brackets_in_a_message_are_printed_not_taken_for_markup(tmp_path: Path) -> None:
    line = _one_error_line(_invoke("generate-rubric", AITA_PRICES="{bad"), tmp_path)
    assert "[prompt_usd_per_mtok, completion_usd_per_mtok]" in line


def test_an_empty_submissions_folder_is_bad_input(tmp_path: Path) -> None:
    line = _one_error_line(_invoke("transcribe"), tmp_path)
    assert line.startswith("error: exam1/submissions: no student submissions in it")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_zero_budget_is_refused_not_taken_for_no_budget(tmp_path: Path, command: str) -> None:
    line = _one_error_line(_invoke(command, "--max-cost", "0"), tmp_path)
    assert line.startswith("error: --max-cost must be an amount in USD greater than 0")
