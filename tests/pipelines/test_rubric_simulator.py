"""The rubric pipeline over real HTTP against `aita simulate` under 429s and 5xx.

The client is the one the factory builds from the environment; only the executor's
backoff is shortened (an injected RetryPolicy), so a storm of injected failures costs
milliseconds instead of the seconds a real provider would ask for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.cli.options import RunOptions
from aita_cli.execution.retry import RetryPolicy
from aita_cli.pipelines.rubric import run_generate_rubric
from aita_cli.simulate.server import SimulatorConfig, start_simulator
from tests.pipelines.rubric_support import (
    QUESTIONS,
    USER_RUBRIC_FOR_3,
    isolate_environment,
    read_json,
    write_exam,
)


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_environment(monkeypatch, tmp_path)


def test_every_question_succeeds_through_429s_and_5xx(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = write_exam(tmp_path / "data", user_rubrics={"3": USER_RUBRIC_FOR_3})
    fast = RetryPolicy(max_retries=60, base_delay=0.005, max_delay=0.02)
    # rps=12 lets 12 requests through at once and then 12 a second: the 9 tasks and their
    # retried 5xx overrun it, so many requests are answered 429 with a Retry-After. The
    # retry budget is generous because every 429 retry counts against it.
    with start_simulator(SimulatorConfig(rps=12, error_rate=0.3, seed=7)) as sim:
        monkeypatch.setenv("AITA_PROVIDER", "openai")
        monkeypatch.setenv("AITA_BASE_URL", sim.url)
        monkeypatch.setenv("AITA_MODEL", "sim-model")
        monkeypatch.setenv("AITA_MAX_RETRIES", "60")
        outcome = run_generate_rubric(
            RunOptions(assignment="exam1", workers=4),
            executor_overrides={"retry_policy": fast},
        )
        stats = sim.stats()
    assert outcome.exit_code == 0, outcome.detail.failures
    assert stats["rate_limited"] > 0
    assert stats["errors"] > 0
    assert stats["distinct_completions"] == 9  # 5 answer keys + 4 rubrics, each once
    assert outcome.metrics is not None
    assert outcome.metrics.retried_tasks > 0
    assert outcome.metrics.total_cost > 0
    rubrics = read_json(root / "results" / "rubrics.json")
    assert [entry["status"] for entry in rubrics["rubrics"]] == ["ok"] * len(QUESTIONS)
