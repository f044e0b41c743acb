"""The HTML reports from the results alone: every stage, escaping, what is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from aita_cli.cli.app import app
from aita_cli.domain.assignment import load_assignment
from aita_cli.errors import InputError
from aita_cli.pipelines.report import write_reports
from tests.pipelines.report_support import make_reportable
from tests.pipelines.transcribe_support import env_for, make_assignment

runner = CliRunner()


def test_reports_of_a_graded_class_hold_every_student_and_escape_what_they_wrote(
    tmp_path: Path,
) -> None:
    root = make_reportable(tmp_path)
    result = write_reports(load_assignment(tmp_path, "quiz"))
    report = root / "results" / "report"
    assert [p.relative_to(report).as_posix() for p in result.paths] == [
        "index.html", "students/alice.html", "students/bob.html", "review.html",
    ]  # fmt: skip
    index = (report / "index.html").read_text(encoding="utf-8")
    assert index.count('class="student-row"') == 2
    assert "<svg" in index  # the charts are inline
    bob = (report / "students" / "bob.html").read_text(encoding="utf-8")
    assert "<script>document.title" not in bob
    assert "&lt;script&gt;document.title" in bob
    assert "instructor" in bob  # the override is marked as the instructor's
    review = (report / "review.html").read_text(encoding="utf-8")
    assert "low model confidence" in review
    assert "server error 500" in review  # a failed item is listed with its error


def test_page_images_are_scaled_copies_under_the_report(tmp_path: Path) -> None:
    root = make_reportable(tmp_path)
    result = write_reports(load_assignment(tmp_path, "quiz"))
    pages = sorted((root / "results" / "report" / "pages").rglob("*.jpg"))
    assert len(pages) == result.images == 4
    with Image.open(pages[0]) as image:
        assert max(image.size) <= 1100
    assert result.image_bytes == sum(page.stat().st_size for page in pages)


def test_after_transcription_alone_the_report_shows_transcripts(tmp_path: Path) -> None:
    root = make_reportable(tmp_path, graded=False)
    result = write_reports(load_assignment(tmp_path, "quiz"))
    assert not result.has_grades
    index = (root / "results" / "report" / "index.html").read_text(encoding="utf-8")
    assert "not graded yet" in index
    alice = (root / "results" / "report" / "students" / "alice.html").read_text()
    assert "Rayleigh scattering." in alice
    assert "confidence 0.93" in alice


def test_nothing_to_report_is_one_clear_error(tmp_path: Path) -> None:
    make_assignment(tmp_path)
    with pytest.raises(InputError, match="run aita transcribe or aita grade first"):
        write_reports(load_assignment(tmp_path, "quiz"))


def test_aita_report_rebuilds_without_touching_grades_or_transcripts(tmp_path: Path) -> None:
    root = make_reportable(tmp_path)
    grades = root / "results" / "grades" / "grades.json"
    before = grades.read_bytes()
    env = env_for(tmp_path, tmp_path / "checkpoints")
    result = runner.invoke(app, ["report", "--assignment", "quiz"], env=env)
    assert result.exit_code == 0, result.output
    assert "report of 2 student(s)" in result.output
    assert grades.read_bytes() == before
    assert json.loads(before)["students"]
    missing = runner.invoke(app, ["report", "--assignment", "nope"], env=env)
    assert missing.exit_code == 2
