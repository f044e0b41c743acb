"""`aita transcribe` end to end against the simulated provider, in process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aita_cli.cli.app import app
from aita_cli.cli.options import RunOptions
from aita_cli.pipelines.transcribe import run_transcribe
from aita_cli.simulate.server import RunningSimulator, SimulatorConfig, start_simulator
from tests.pipelines.transcribe_support import add_students, env_for, make_assignment, make_pdf

runner = CliRunner()


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator(SimulatorConfig(seed=3)) as running:
        yield running


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    return tmp_path / "data"


def _run(sim: RunningSimulator, data_dir: Path, *args: str, **env: str) -> Result:
    environment = env_for(
        data_dir,
        data_dir.parent / "checkpoints",
        AITA_PROVIDER="openai",
        AITA_BASE_URL=sim.url,
        AITA_MODEL="sim",
        AITA_VISION_MODEL="sim",
        **env,
    )
    return runner.invoke(app, ["transcribe", "--assignment", "quiz", *args], env=environment)


def _transcript(data_dir: Path, output_name: str) -> dict[str, Any]:
    path = data_dir / "quiz" / "results" / "transcripts" / f"{output_name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _index(data_dir: Path) -> dict[str, Any]:
    return _transcript(data_dir, "index")


def test_all_pages_complete_despite_rate_limits_and_server_errors(data_dir: Path) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob", "carol"])
    # Seed 3 answers the very first request with a 5xx. Six workers send six small
    # pages at once (rendered at 50 dpi, quickly) into a bucket that holds three.
    config = SimulatorConfig(rps=3.0, error_rate=0.3, seed=3)
    with start_simulator(config) as sim:
        result = _run(sim, data_dir, "--workers", "6", AITA_MAX_RETRIES="8", AITA_RENDER_DPI="50")
        stats = sim.stats()
    assert result.exit_code == 0, result.output
    assert stats["errors"] > 0
    assert stats["rate_limited"] > 0
    assert stats["distinct_completions"] == 6
    alice = _transcript(data_dir, "alice")
    assert alice["status"] == "complete"
    assert [page["page_number"] for page in alice["pages"]] == [1, 2]
    assert list(alice["answers"]) == ["1", "2a", "10"]  # natural order, from page lines
    assert alice["answer_pages"] == {"1": [1], "2a": [2], "10": [2]}
    index = _index(data_dir)
    assert [row["student"] for row in index["students"]] == ["alice", "bob", "carol"]
    assert index["pages"] == 6
    assert index["failures"] == []
    assert 0.0 < index["mean_confidence"] <= 1.0
    assert "mean confidence" in result.output
    assert "retries" in result.output
    assert "checkpoint: " in result.output


def test_resume_requests_only_the_pages_missing_from_the_journal(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob", "carol"])
    assert _run(simulator, data_dir).exit_code == 0
    first = simulator.stats()["completions"]
    assert first == 6
    # A crash halfway: the journal holds half the pages and no transcripts were written.
    (journal,) = (data_dir.parent / "checkpoints").glob("quiz_transcribe_*.checkpoint.jsonl")
    lines = journal.read_text(encoding="utf-8").splitlines()
    tasks = [line for line in lines if json.loads(line).get("type") == "task"]
    journal.write_text("\n".join([lines[0], *tasks[:3]]) + "\n", encoding="utf-8")
    for path in (root / "results" / "transcripts").iterdir():
        path.unlink()

    result = _run(simulator, data_dir, "--resume")

    assert result.exit_code == 0, result.output
    assert simulator.stats()["completions"] - first == 3
    assert {_transcript(data_dir, name)["status"] for name in ("alice", "bob", "carol")} == {
        "complete"
    }


def test_student_filter_runs_only_that_student(simulator: RunningSimulator, data_dir: Path) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob"], pages=3)
    result = _run(simulator, data_dir, "--student", "bob")
    assert result.exit_code == 0, result.output
    assert simulator.stats()["completions"] == 3
    folder = root / "results" / "transcripts"
    assert sorted(path.name for path in folder.iterdir()) == ["bob.json", "bob.md", "index.json"]
    rows = {row["student"]: row["status"] for row in _index(data_dir)["students"]}
    assert rows == {"alice": "not_transcribed", "bob": "complete"}

    unknown = _run(simulator, data_dir, "--student", "zed")
    assert unknown.exit_code == 2
    assert "zed" in unknown.output


def test_a_hand_damaged_transcript_on_disk_counts_as_absent(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob"], pages=1)
    folder = root / "results" / "transcripts"
    folder.mkdir(parents=True)
    (folder / "alice.json").write_text('{"output_name": "alice"}', encoding="utf-8")
    result = _run(simulator, data_dir, "--student", "bob")
    assert result.exit_code == 0, result.output
    rows = {row["output_name"]: row["status"] for row in _index(data_dir)["students"]}
    assert rows == {"alice": "not_transcribed", "bob": "complete"}


def test_complete_transcripts_are_kept_unless_forced(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice"])
    assert _run(simulator, data_dir).exit_code == 0
    kept = _run(simulator, data_dir)
    assert kept.exit_code == 0
    assert "kept 1 complete transcript" in kept.output
    assert "for 0 student(s)" not in kept.output  # only the index was written
    assert simulator.stats()["requests"] == 2
    forced = _run(simulator, data_dir, "--force")
    assert forced.exit_code == 0
    assert simulator.stats()["requests"] == 4


def test_students_whose_names_normalise_alike_are_both_written(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["Zoe", "Zoë"], pages=1)
    result = _run(simulator, data_dir)
    assert result.exit_code == 0, result.output
    rows = _index(data_dir)["students"]
    assert len({row["output_name"] for row in rows}) == 2
    for row in rows:
        assert _transcript(data_dir, row["output_name"])["student"] == row["student"]
    assert {row["student"] for row in rows} == {"Zoe", "Zoë"}


def test_dry_run_calls_no_model_and_writes_nothing(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob"], pages=2)
    result = _run(simulator, data_dir, "--dry-run")
    assert result.exit_code == 0, result.output
    assert simulator.stats()["requests"] == 0
    assert not (root / "results").exists()
    assert not (data_dir.parent / "checkpoints").exists()
    assert "4 page(s)" in result.output
    assert "for images" in result.output
    assert "cost unknown (no price known for sim" in result.output


def test_a_dry_run_shows_two_students_of_one_name_as_two_rows(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice"], pages=1)  # submissions/alice.pdf
    make_pdf(root / "submissions" / "alice" / "scan.pdf", [["1. a"], ["2a. b"], ["10. c"]])
    for name, value in env_for(data_dir, data_dir.parent / "checkpoints").items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    outcome = run_transcribe(RunOptions(assignment="quiz", dry_run=True, provider="offline"))
    assert outcome.detail.plan is not None
    assert outcome.detail.plan.pages_per_student == {"alice (alice)": 1, "alice (alice-2)": 3}
    assert outcome.detail.plan.pages == 4


def test_a_budget_stop_writes_what_is_done_and_says_how_to_resume(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice", "bob"], pages=2)
    stopped = _run(simulator, data_dir, "--workers", "1", "--max-cost", "0.0000001")
    assert stopped.exit_code == 3, stopped.output
    assert "cost budget reached" in stopped.output
    assert "aita transcribe --assignment quiz --resume" in stopped.output
    statuses = [row["status"] for row in _index(data_dir)["students"]]
    assert "incomplete" in statuses
    done_before = simulator.stats()["completions"]

    resumed = _run(simulator, data_dir, "--resume")

    assert resumed.exit_code == 0, resumed.output
    assert simulator.stats()["completions"] - done_before == 4 - done_before
    assert {row["status"] for row in _index(data_dir)["students"]} == {"complete"}


def test_the_provider_is_announced_before_any_page_is_sent(
    simulator: RunningSimulator, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice"], pages=1)
    environment = env_for(
        data_dir,
        data_dir.parent / "checkpoints",
        AITA_PROVIDER="openai",
        AITA_BASE_URL=simulator.url,
        AITA_MODEL="sim",
    )
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    announced: list[tuple[str, int]] = []

    def announce(line: str) -> None:
        announced.append((line, simulator.stats()["requests"]))

    outcome = run_transcribe(RunOptions(assignment="quiz"), announce=announce)

    assert outcome.exit_code == 0
    assert [requests for _, requests in announced] == [0]
    assert announced[0][0].startswith("using OpenAI-compatible endpoint (sim)")
    assert simulator.stats()["requests"] == 1


def test_names_with_brackets_are_shown_as_they_are(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["[bold]zed"], pages=1)
    (root / "submissions" / "notes[1].txt").write_text("x", encoding="utf-8")
    result = _run(simulator, data_dir)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("using OpenAI-compatible endpoint (sim)")
    assert "[bold]zed" in result.output
    assert "submissions/notes[1].txt: unsupported file type, skipped" in result.output
    assert _transcript(data_dir, "bold_zed")["student"] == "[bold]zed"


def test_an_offline_ocr_transcript_is_redone_once_a_model_is_configured(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    root = make_assignment(data_dir)
    add_students(root, ["alice"], pages=1)
    assert _run(simulator, data_dir).exit_code == 0
    # What an earlier offline run leaves: the same transcript, read by the OCR.
    path = root / "results" / "transcripts" / "alice.json"
    transcript = json.loads(path.read_text(encoding="utf-8"))
    transcript["pages"][0]["source"] = "offline-ocr"
    path.write_text(json.dumps(transcript), encoding="utf-8")

    offline = _run(simulator, data_dir, "--provider", "offline")
    assert "kept 1 complete transcript" in offline.output  # offline keeps its own work
    with_model = _run(simulator, data_dir)
    assert with_model.exit_code == 0, with_model.output
    assert "kept" not in with_model.output
    assert simulator.stats()["requests"] == 2
    assert _transcript(data_dir, "alice")["pages"][0]["source"] == "model"
