"""`aita grade` offline on the sample assignment, and every bad input it refuses."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aita_cli.cli.app import app
from tests.pipelines.rubric_support import SAMPLE_EXAM
from tests.pipelines.transcribe_support import env_for

runner = CliRunner()


def _grade(data_dir: Path, *args: str) -> Result:
    env = env_for(data_dir, data_dir.parent / "checkpoints", AITA_PROVIDER="offline")
    return runner.invoke(app, ["grade", "--assignment", "sample_exam", *args], env=env)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The sample, copied without results and graded offline once (OCR included)."""
    data_dir = tmp_path_factory.mktemp("offline") / "data"
    shutil.copytree(SAMPLE_EXAM, data_dir / "sample_exam", ignore=shutil.ignore_patterns("results"))
    return data_dir, _grade(data_dir)


def _grades(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "sample_exam" / "results" / "grades" / "grades.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _question(data: dict[str, Any], student: str, qid: str) -> dict[str, Any]:
    row = next(s for s in data["students"] if s["student"] == student)
    found: dict[str, Any] = next(q for q in row["questions"] if q["question_id"] == qid)
    return found


def test_offline_grading_scores_only_what_is_exact_and_leaves_the_rest_to_a_person(
    graded: tuple[Path, Result],
) -> None:
    data_dir, result = graded
    assert result.exit_code == 0, result.output
    data = _grades(data_dir)
    assert [s["student"] for s in data["students"]] == ["alice", "bob", "carol"]
    # The instructor's key scores choices and numbers; alice is right on all of them.
    for qid, points in (("1", 2), ("4", 4), ("5", 1), ("7", 3), ("9", 1)):
        grade = _question(data, "alice", qid)
        assert (grade["status"], grade["points"], grade["source"]) == (
            "graded",
            points,
            "offline-auto",
        )
    assert _question(data, "bob", "1")["points"] == 0  # chose (A)
    # Free text is never judged offline: ungraded, flagged, and the student incomplete.
    essay = _question(data, "alice", "3")
    assert (essay["status"], essay["points"], essay["needs_review"]) == ("ungraded", None, True)
    assert all(s["status"] == "incomplete" for s in data["students"])
    assert all(s["possible"] == 36.5 for s in data["students"])


def test_offline_grading_writes_every_file_and_the_stages_it_needed(
    graded: tuple[Path, Result],
) -> None:
    data_dir, result = graded
    results = data_dir / "sample_exam" / "results"
    grades = results / "grades"
    for name in ("grades.json", "gradebook.csv", "canvas.csv", "review.md"):
        assert (grades / name).is_file(), name
    assert sorted(p.name for p in (grades / "feedback").iterdir()) == [
        "alice.md", "bob.md", "carol.md",
    ]  # fmt: skip
    assert (results / "rubrics.json").is_file()  # made in the same batch
    assert (results / "transcripts" / "alice.json").is_file()
    rows = list(csv.reader((grades / "canvas.csv").open(encoding="utf-8")))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Introduction to Science — Midterm"]  # fmt: skip
    assert rows[1][0] == "Points Possible"
    assert rows[1][-1] == "36.5"
    gradebook = list(csv.DictReader((grades / "gradebook.csv").open(encoding="utf-8")))
    assert gradebook[0]["3"] == ""  # ungraded is blank, never 0
    review = (grades / "review.md").read_text(encoding="utf-8")
    assert "## Question 3" in review
    assert "needs a person" in review
    assert "grades" in result.output
    assert "items flagged for review" in result.output


def test_a_second_offline_run_reuses_every_stage(graded: tuple[Path, Result]) -> None:
    data_dir, _ = graded
    before = _grades(data_dir)["students"]
    again = _grade(data_dir)
    assert again.exit_code == 0, again.output
    assert "9 reused" in again.output  # pages: the transcripts on disk are kept
    assert _grades(data_dir)["students"] == before


@pytest.fixture
def assignment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The sample with alice only; nothing will run, so no OCR happens."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "data" / "sample_exam"
    shutil.copytree(SAMPLE_EXAM, root, ignore=shutil.ignore_patterns("results", "bob", "carol.pdf"))
    return root


@pytest.mark.parametrize(
    ("file", "content", "message"),
    [
        ("user_answer_keys.json", "{not json", "user_answer_keys.json"),
        ("user_answer_keys.json", '{"99": {"correct_answer": "A"}}', "99"),
        ("user_answer_keys.json", '{"4": {"correct_answer": "6", "tolerance": "x"}}', "tolerance"),
        ("grade_overrides.json", "[1, 2", "grade_overrides.json"),
        ("grade_overrides.json", '{"alice": {"3": {"points": 7}}}', "worth 6"),
        ("grade_overrides.json", '{"alice": {"3": {"points": -1}}}', "points"),
        ("grade_overrides.json", '{"zed": {"3": {"points": 1}}}', "zed"),
        ("grade_overrides.json", '{"alice": {"42": {"points": 1}}}', "42"),
        ("roster.csv", "name,id\nAlice,1\n", "student"),
        ("roster.csv", "student,name\nalice,A\nalice,B\n", "twice"),
    ],
)  # fmt: skip
def test_a_bad_instructor_file_is_one_line_naming_it_and_nothing_is_written(
    assignment: Path, file: str, content: str, message: str
) -> None:
    (assignment / file).write_text(content, encoding="utf-8")
    result = _grade(assignment.parent)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (assignment / "results").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--student", "zed"], "zed"), (["--question", "11"], "--question 11")],
)
def test_a_selection_naming_nothing_is_refused(
    assignment: Path, args: list[str], message: str
) -> None:
    result = _grade(assignment.parent, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (assignment / "results").exists()


def test_a_dry_run_plans_each_stage_and_writes_nothing(assignment: Path) -> None:
    result = _grade(assignment.parent, "--dry-run")
    assert result.exit_code == 0, result.output
    for stage in ("answer keys", "rubrics", "pages", "grades"):
        assert stage in result.output
    assert "no model was called" in result.output
    assert not (assignment / "results").exists()
