"""`aita simulate` as a user runs it: a subprocess whose first line is its URL."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from typer.testing import CliRunner

from aita_cli.cli.app import app
from aita_cli.domain.models import Rubric
from aita_cli.llm import task_kinds as tk

# `python -m aita_cli ARGS` started the way `aita simulate &` in a shell script starts it:
# with SIGINT ignored, which `kill -INT` must still overcome.
_IGNORING_SIGINT = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "sys.argv[0] = 'aita'; runpy.run_module('aita_cli', run_name='__main__')"
)


@pytest.fixture
def simulate_process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", _IGNORING_SIGINT, "simulate", "--port", "0", "--seed", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().strip()
        assert first_line.startswith("listening on http://127.0.0.1:"), first_line
        yield process, first_line.removeprefix("listening on ")
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_serves_until_stopped_then_exits_0(
    simulate_process: tuple[subprocess.Popen[str], str], stop_signal: signal.Signals
) -> None:
    process, url = simulate_process
    assert url.endswith("/v1")
    body = {
        "model": "x",
        "messages": [{"role": "user", "content": f"{tk.QUESTION_POINTS_LINE}: 3"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": tk.RUBRIC}},
    }
    with httpx.Client(timeout=10) as client:
        reply = client.post(f"{url}/chat/completions", json=body)
        assert reply.status_code == 200
        rubric = Rubric.model_validate_json(reply.json()["choices"][0]["message"]["content"])
        assert rubric.total_points == 3
        assert client.get(url.removesuffix("/v1") + "/stats").json()["completions"] == 1
    process.send_signal(stop_signal)
    assert process.wait(timeout=10) == 0
    assert process.stdout is not None
    assert process.stderr is not None
    assert process.stdout.read() == ""  # the URL line is all stdout carries
    errors = process.stderr.read()
    assert f"AITA_BASE_URL={url} AITA_MODEL=sim" in errors
    assert "served: requests 1, completions 1" in errors
    assert "Traceback" not in errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--latency", "-1"], "--latency"),
        (["--latency", "inf"], "--latency"),
        (["--error-rate", "1.5"], "--error-rate"),
        (["--jitter", "2"], "--jitter"),
        (["--rps", "0"], "--rps"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["simulate", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_help_shows_examples() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "aita simulate --latency" in result.output
    # The example that points aita at it names everything the openai provider needs.
    assert "AITA_PROVIDER=openai AITA_BASE_URL=" in result.output
    assert "AITA_MODEL=sim" in result.output
