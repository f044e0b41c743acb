"""`aita transcribe` through the CLI, offline (real OCR) on the sample submissions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aita_cli.cli.app import app
from tests.pipelines.transcribe_support import env_for

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "sample_exam"
runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample assignment plus dave, whose PDF is corrupt."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data"
    shutil.copytree(SAMPLE, data / "sample_exam", ignore=shutil.ignore_patterns("results"))
    (data / "sample_exam" / "submissions" / "dave.pdf").write_bytes(b"%PDF-1.4\nnot really")
    return data


def _invoke(data_dir: Path, *args: str) -> Any:
    env = env_for(data_dir, data_dir.parent / "checkpoints", AITA_PROVIDER="offline")
    return runner.invoke(app, ["transcribe", "--assignment", "sample_exam", *args], env=env)


def _read(data_dir: Path, name: str) -> dict[str, Any]:
    folder = data_dir / "sample_exam" / "results" / "transcripts"
    data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return data


def test_offline_ocr_transcribes_and_a_corrupt_pdf_fails_alone(data_dir: Path) -> None:
    # Three OCR'd pages (bob's folder of images, in natural order: page1, page2, page10).
    result = _invoke(data_dir, "--student", "bob", "--student", "dave")

    assert result.exit_code == 1, result.output
    assert "using offline" in result.output
    assert "dave" in result.output
    assert "corrupt" in result.output
    bob = _read(data_dir, "bob")
    assert bob["status"] == "complete"
    assert [page["file"] for page in bob["pages"]] == [
        "bob/page1.png",
        "bob/page2.jpg",
        "bob/page10.png",
    ]
    assert {page["source"] for page in bob["pages"]} == {"offline-ocr"}
    assert "doing" in bob["answers"]["2a"]
    assert "experiment" in bob["answers"]["10"]
    dave = _read(data_dir, "dave")
    assert dave["status"] == "failed"
    assert "corrupt" in dave["failures"][0]
    index = _read(data_dir, "index")
    assert [failure["student"] for failure in index["failures"]] == ["dave"]
    statuses = {row["student"]: row["status"] for row in index["students"]}
    assert statuses == {
        "alice": "not_transcribed",
        "bob": "complete",
        "carol": "not_transcribed",
        "dave": "failed",
    }
    markdown = (data_dir / "sample_exam" / "results" / "transcripts" / "bob.md").read_text()
    assert "### Question 10" in markdown


def test_dry_run_lists_pages_and_writes_nothing(data_dir: Path) -> None:
    result = _invoke(data_dir, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "9 page(s)" in result.output
    assert "cost none (offline)" in result.output
    for student in ("alice", "bob", "carol"):
        assert student in result.output
    assert not (data_dir / "sample_exam" / "results").exists()
    assert not (data_dir.parent / "checkpoints").exists()


def test_help_shows_examples() -> None:
    result = runner.invoke(app, ["transcribe", "--help"])
    assert result.exit_code == 0
    assert "--student" in result.output
    assert "--dry-run" in result.output
    assert "aita transcribe -a midterm --resume" in result.output
    assert "--student alice --student bob" in result.output


def test_a_missing_assignment_is_one_line_and_exit_2(data_dir: Path) -> None:
    env = env_for(data_dir, data_dir.parent / "checkpoints", AITA_PROVIDER="offline")
    result = runner.invoke(app, ["transcribe", "--assignment", "nope"], env=env)
    assert result.exit_code == 2
    assert "nope" in result.output
    assert "Traceback" not in result.output
