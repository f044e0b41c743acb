"""`aita generate-rubric` end to end: offline, against `aita simulate`, resume, bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aita_cli.cli.app import app
from aita_cli.simulate.server import RunningSimulator, SimulatorConfig, start_simulator
from tests.pipelines.rubric_support import (
    QUESTIONS,
    USER_RUBRIC_FOR_3,
    copy_sample_exam,
    isolate_environment,
    read_json,
    write_exam,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_environment(monkeypatch, tmp_path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _invoke(*args: str, **env: str) -> Result:
    return runner.invoke(app, ["generate-rubric", *args], env=env)


def _simulated(sim: RunningSimulator, **extra: str) -> dict[str, str]:
    return {
        "AITA_PROVIDER": "openai",
        "AITA_BASE_URL": sim.url,
        "AITA_MODEL": "sim-model",
        **extra,
    }


@pytest.fixture
def sim() -> Iterator[RunningSimulator]:
    with start_simulator(SimulatorConfig(seed=3)) as running:
        yield running


def test_offline_on_the_sample_exam(data_dir: Path) -> None:
    root = copy_sample_exam(data_dir)
    exam = read_json(root / "exam.json")
    result = _invoke("--assignment", root.name, AITA_PROVIDER="offline")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("using offline")
    assert "questions" in result.output
    assert "rubrics.md" in result.output
    assert "checkpoint: " in result.output
    rubrics = read_json(root / "results" / "rubrics.json")
    ids = [question["question_id"] for question in exam["questions"]]
    assert [entry["question_id"] for entry in rubrics["rubrics"]] == ids
    assert all(entry["status"] == "ok" for entry in rubrics["rubrics"])
    user_given = set(read_json(root / "user_rubrics.json"))
    sources = {entry["question_id"]: entry["source"] for entry in rubrics["rubrics"]}
    assert {qid for qid, source in sources.items() if source == "user"} == user_given
    assert "offline-template" in set(sources.values())
    markdown = (root / "results" / "rubrics.md").read_text(encoding="utf-8")
    assert "Offline template" in markdown
    assert len(read_json(root / "results" / "answer_keys.json")["answer_keys"]) == len(ids)

    again = _invoke("--assignment", root.name, AITA_PROVIDER="offline")
    assert again.exit_code == 0
    assert "kept them" in again.output


def test_against_the_simulator_with_injected_5xx(data_dir: Path) -> None:
    root = write_exam(data_dir, user_rubrics={"3": USER_RUBRIC_FOR_3})
    # Seed 7 fails the 4th request at once; the executor's real backoff (up to 0.5 s for
    # a first retry) stays short at this error rate. 429 storms are covered with a
    # shortened backoff in tests/pipelines/test_rubric_simulator.py.
    with start_simulator(SimulatorConfig(error_rate=0.15, seed=7)) as sim:
        env = _simulated(sim, AITA_MAX_WORKERS="4", AITA_MAX_RETRIES="5")
        result = _invoke("--assignment", "exam1", **env)
        stats = sim.stats()
    assert result.exit_code == 0, result.output
    assert stats["errors"] > 0
    assert stats["distinct_completions"] == 9  # 5 answer keys + 4 rubrics, each once
    rubrics = read_json(root / "results" / "rubrics.json")
    assert [entry["status"] for entry in rubrics["rubrics"]] == ["ok"] * len(QUESTIONS)
    assert "retries" in result.output
    assert "cost" in result.output


def test_offline_template_results_are_redone_once_a_model_is_configured(
    data_dir: Path, sim: RunningSimulator
) -> None:
    root = write_exam(data_dir)
    assert _invoke("--assignment", "exam1", AITA_PROVIDER="offline").exit_code == 0
    kept = _invoke("--assignment", "exam1", AITA_PROVIDER="offline")
    assert "kept them" in kept.output
    with_model = _invoke("--assignment", "exam1", **_simulated(sim))
    assert with_model.exit_code == 0, with_model.output
    assert "kept them" not in with_model.output
    assert sim.stats()["completions"] == 10
    sources = {entry["source"] for entry in read_json(root / "results" / "rubrics.json")["rubrics"]}
    assert sources == {"model"}
    again = _invoke("--assignment", "exam1", **_simulated(sim))
    assert "kept them" in again.output  # a model's complete results are kept


def _task_lines(journal: Path) -> tuple[list[str], list[str]]:
    lines = journal.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if json.loads(line)["type"] == "header"]
    tasks = [line for line in lines if json.loads(line)["type"] == "task"]
    return header, tasks


def test_resume_after_a_crash_runs_only_the_missing_tasks(
    data_dir: Path, tmp_path: Path, sim: RunningSimulator
) -> None:
    root = write_exam(data_dir)
    first = _invoke("--assignment", "exam1", **_simulated(sim))
    assert first.exit_code == 0, first.output
    [journal] = (tmp_path / "checkpoints").glob("exam1_rubric_*.checkpoint.jsonl")
    header, tasks = _task_lines(journal)
    assert len(tasks) == 10
    kept = tasks[: len(tasks) // 2]
    # What a crash leaves: the header, half the records, and a torn line; no results.
    journal.write_text("\n".join([*header, *kept]) + '\n{"type": "ta', encoding="utf-8")
    (root / "results" / "rubrics.json").unlink()
    (root / "results" / "answer_keys.json").unlink()
    sim.reset_stats()

    resumed = _invoke("--assignment", "exam1", "--resume", **_simulated(sim))
    assert resumed.exit_code == 0, resumed.output
    assert sim.stats()["completions"] == len(tasks) - len(kept)
    assert f"{len(kept)} from the checkpoint" in resumed.output
    rubrics = read_json(root / "results" / "rubrics.json")
    assert rubrics["complete"] is True


def test_dry_run_writes_nothing_and_calls_no_model(
    data_dir: Path, tmp_path: Path, sim: RunningSimulator
) -> None:
    root = write_exam(data_dir)
    result = _invoke("--assignment", "exam1", "--dry-run", **_simulated(sim))
    assert result.exit_code == 0, result.output
    assert "dry run" in result.output
    assert "sim-model" in result.output
    assert "10 tasks for 5 questions" in result.output
    assert sim.stats()["requests"] == 0
    assert not (root / "results").exists()
    assert not (tmp_path / "checkpoints").exists()


def test_flags_override_the_environment(data_dir: Path, sim: RunningSimulator) -> None:
    write_exam(data_dir)
    result = _invoke(
        "--assignment", "exam1", "--provider", "offline", "--workers", "2", **_simulated(sim)
    )
    assert result.exit_code == 0, result.output
    assert "using offline" in result.output
    assert sim.stats()["requests"] == 0


def _broken_json(root: Path) -> None:
    (root / "exam.json").write_text('{"exam_name": "x", "questions": [', encoding="utf-8")


def _duplicate_ids(root: Path) -> None:
    questions = [QUESTIONS[0], dict(QUESTIONS[1], question_id="1")]
    (root / "exam.json").write_text(json.dumps({"exam_name": "x", "questions": questions}))


def _bad_user_rubric(root: Path) -> None:
    rubric = {"2a": {"criteria": [{"name": "a", "points": 4}]}}
    (root / "user_rubrics.json").write_text(json.dumps(rubric))


def _unknown_type(root: Path) -> None:
    questions = [dict(QUESTIONS[0], question_type="essay")]
    (root / "exam.json").write_text(json.dumps({"exam_name": "x", "questions": questions}))


@pytest.mark.parametrize(
    ("assignment", "spoil", "expected"),
    [
        ("missing", None, "missing"),
        ("../exam1", None, "exam1"),
        ("exam1", _broken_json, "exam.json"),
        ("exam1", _duplicate_ids, "exam.json"),
        ("exam1", _unknown_type, "exam.json"),
        ("exam1", _bad_user_rubric, "user_rubrics.json"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    data_dir: Path, tmp_path: Path, assignment: str, spoil: object, expected: str
) -> None:
    root = write_exam(data_dir)
    if callable(spoil):
        spoil(root)
    result = _invoke("--assignment", assignment, AITA_PROVIDER="offline")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error:")
    assert expected in lines[0]
    assert "Traceback" not in result.output
    assert not (root / "results").exists()
    assert not (tmp_path / "checkpoints").exists()


def test_help_shows_examples() -> None:
    result = runner.invoke(app, ["generate-rubric", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    for flag in ("--resume", "--force", "--dry-run", "--max-cost", "--provider"):
        assert flag in result.output
    assert "Examples" in result.output
    assert "aita generate-rubric -a midterm --resume" in result.output
