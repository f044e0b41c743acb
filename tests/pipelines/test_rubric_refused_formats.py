"""generate-rubric against servers that refuse `response_format` json_schema, as
llama-cpp-python (500), vLLM-style validators (422) and others (400) do: over real
sockets to `aita simulate --refuse-json-schema`, every task succeeds, on its first
attempt, and the refusal is learnt once."""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.cli.options import RunOptions
from aita_cli.pipelines.rubric import run_generate_rubric
from aita_cli.simulate.server import SimulatorConfig, start_simulator
from tests.pipelines.rubric_support import QUESTIONS, isolate_environment, read_json, write_exam


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_environment(monkeypatch, tmp_path)


@pytest.mark.parametrize("status", [400, 422, 500])
def test_a_refused_json_schema_steps_down_without_failing_a_task(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, status: int
) -> None:
    root = write_exam(tmp_path / "data")
    workers = 3
    with start_simulator(SimulatorConfig(refuse_json_schema=status)) as sim:
        monkeypatch.setenv("AITA_PROVIDER", "openai")
        monkeypatch.setenv("AITA_BASE_URL", sim.url)
        monkeypatch.setenv("AITA_MODEL", "sim-model")
        monkeypatch.setenv("AITA_MAX_RETRIES", "0")  # a refusal must not need a retry
        outcome = run_generate_rubric(RunOptions(assignment="exam1", workers=workers))
        stats = sim.stats()
    assert outcome.exit_code == 0
    rubrics = read_json(root / "results" / "rubrics.json")
    assert [entry["status"] for entry in rubrics["rubrics"]] == ["ok"] * len(QUESTIONS)
    # Only the requests already in flight when the first refusal came back were refused.
    assert 1 <= stats["refused_format"] <= workers
    assert stats["completions"] == 2 * len(QUESTIONS)  # an answer key and a rubric each
    assert stats["errors"] == 0
