"""The files aita grade writes: grades.json, gradebook.csv, canvas.csv, review.md and
feedback/, written for real into tmp_path and read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aita_cli.domain.instructor_inputs import RosterEntry
from aita_cli.errors import InputError
from aita_cli.pipelines.grade_output import (
    GradesDocument,
    canvas_csv,
    gradebook_csv,
    grades_json,
    write_grade_outputs,
)
from tests.pipelines.grade_output_support import (
    csv_rows,
    sample_doc,
)


def test_gradebook_rows_in_natural_order_with_blank_cells_for_failed_and_ungraded() -> None:
    rows = csv_rows(gradebook_csv(sample_doc()))
    assert rows[0] == [
        "student",
        "name",
        "q1",
        "q2",
        "q3",
        "total",
        "possible",
        "percent",
        "status",
        "needs_review",
    ]
    assert rows[1] == ["s1", "Ada Lovelace", "3", "", "0", "3", "12", "25", "incomplete", "yes"]
    # A failed question needs a person even when nothing flagged it.
    assert rows[2] == ["s2", "", "2.5", "", "2", "4.5", "12", "37.5", "incomplete", "yes"]
    # A formula-looking name is kept as text; the overridden grade counts.
    assert rows[3] == [
        "s10",
        '\'=HYPERLINK("http://evil")',
        "4",
        "5",
        "2",
        "11",
        "12",
        "91.67",
        "complete",
        "no",
    ]


def test_canvas_csv_follows_the_import_format_and_leaves_incomplete_scores_blank() -> None:
    result = canvas_csv(sample_doc())
    assert result is not None
    text, warnings = result
    rows = csv_rows(text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Midterm 1"]
    assert rows[1] == ["Points Possible", "", "", "", "", "12"]
    assert rows[2:] == [
        ['\'=HYPERLINK("http://evil")', "110", "", "", "A", "11"],
        ["Ada Lovelace", "101", "U1", "", "B", ""],
    ]
    assert warnings == [
        "canvas.csv: s2 is graded but not on the roster; left out",
        "canvas.csv: s99 is on the roster but has no grades",
        "canvas.csv: score left blank for 1 incomplete student(s) (not graded yet): s1",
    ]


def test_canvas_uses_the_student_key_when_the_roster_has_no_name() -> None:
    result = canvas_csv(sample_doc([RosterEntry(student="s10")]))
    assert result is not None
    assert csv_rows(result[0])[2] == ["s10", "", "", "", "", "11"]
    assert canvas_csv(sample_doc(None)) is None


def test_grades_json_has_whole_points_as_integers_and_a_summary() -> None:
    data = grades_json(sample_doc())
    assert [student["student"] for student in data["students"]] == ["s1", "s2", "s10"]
    assert data["summary"] == {
        "students": 3,
        "complete": 1,
        "incomplete": 2,
        "mean_percent": 91.67,
        "median_percent": 91.67,
        "items_flagged": 3,
        "items_failed": 1,
        "items_ungraded": 1,
    }
    s2 = data["students"][1]
    assert s2["total"] == 4.5
    assert s2["possible"] == 12
    assert isinstance(s2["possible"], int)
    assert s2["questions"][1]["points"] is None
    assert s2["questions"][1]["error"] == "timed out after 3 retries"


def test_summary_means_are_none_without_complete_students() -> None:
    doc = sample_doc()
    only_incomplete = GradesDocument(
        assignment=doc.assignment,
        exam=doc.exam,
        students=[s for s in doc.students if s.status == "incomplete"],
        roster=None,
        answers={},
        rubrics={},
    )
    summary = grades_json(only_incomplete)["summary"]
    assert summary["mean_percent"] is None
    assert summary["median_percent"] is None


def test_every_file_is_written_and_parses_back(tmp_path: Path) -> None:
    grades_dir = tmp_path / "results" / "grades"
    paths, warnings = write_grade_outputs(grades_dir, sample_doc())
    names = [path.relative_to(grades_dir).as_posix() for path in paths]
    assert names == [
        "grades.json",
        "gradebook.csv",
        "canvas.csv",
        "review.md",
        "feedback/s1.md",
        "feedback/s2.md",
        "feedback/s10.md",
    ]
    assert len(warnings) == 3
    data = json.loads((grades_dir / "grades.json").read_text(encoding="utf-8"))
    assert data["assignment"] == "midterm"
    assert data["exam_name"] == "Midterm 1"
    for name in ("gradebook.csv", "canvas.csv"):
        rows = csv_rows((grades_dir / name).read_text(encoding="utf-8"))
        assert len({len(row) for row in rows}) == 1  # a rectangle
    assert all(path.read_text(encoding="utf-8").endswith("\n") for path in paths)


def test_a_stale_canvas_csv_goes_when_the_roster_does(tmp_path: Path) -> None:
    write_grade_outputs(tmp_path, sample_doc())
    assert (tmp_path / "canvas.csv").is_file()
    paths, warnings = write_grade_outputs(tmp_path, sample_doc(None))
    assert not (tmp_path / "canvas.csv").exists()
    assert tmp_path / "canvas.csv" not in paths
    assert warnings == []


def test_two_students_on_one_feedback_file_stop_before_anything_is_written(
    tmp_path: Path,
) -> None:
    doc = sample_doc()
    clashing = GradesDocument(
        assignment=doc.assignment,
        exam=doc.exam,
        students=doc.students,
        roster=None,
        answers={},
        rubrics={},
        output_names={"s1": "same", "s2": "same"},
    )
    with pytest.raises(InputError, match=r"s1 and s2 would share feedback/same\.md"):
        write_grade_outputs(tmp_path, clashing)
    assert not (tmp_path / "grades.json").exists()


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("-1", "-1"),
        ("+44", "+44"),
        ("S1001", "S1001"),
        ("1001", "1001"),
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+44+cmd", "'+44+cmd"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("+A1", "'+A1"),
    ],
)
def test_canvas_guards_only_cells_that_could_be_formulas(cell: str, written: str) -> None:
    entry = RosterEntry(student="s10", name="Ann", id=cell, sis_user_id=cell,
                        sis_login_id=cell, section=cell)  # fmt: skip
    result = canvas_csv(sample_doc([entry]))
    assert result is not None
    assert csv_rows(result[0])[2] == ["Ann", written, written, written, written, "11"]
