"""The console entry point (`python -m aita_cli`): usage errors are one line, exit 2."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _aita(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aita_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("generate-rubric", "--workers", "0", "-a", "x"), "'--workers'"),
        (("simulate", "--port", "abc"), "'--port'"),
        (("generate-rubric", "--bogus"), "--bogus"),
        (("transcribe",), "'--assignment'"),
        (("bogus",), "'bogus'"),
    ],
)
def test_usage_errors_are_one_line_naming_the_problem(args: tuple[str, ...], expected: str) -> None:
    finished = _aita(*args)
    assert finished.returncode == 2
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    assert "--help" in lines[0]


def test_version_and_help_exit_zero() -> None:
    version = _aita("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("aita ")
    assert _aita("transcribe", "--help").returncode == 0
