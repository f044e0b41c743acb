"""The instructor's keys, overrides and roster: used as given, checked first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aita_cli.domain.instructor_inputs import (
    load_grade_overrides,
    load_roster,
    load_user_answer_keys,
)
from aita_cli.domain.models import ExamSpec
from aita_cli.errors import InputError

EXAM = ExamSpec.model_validate(
    {
        "exam_name": "Quiz",
        "questions": [
            {"question_id": "1", "question_text": "Pick one", "points": 2,
             "question_type": "multiple_choice"},
            {"question_id": "2", "question_text": "F = ?", "points": 4,
             "question_type": "calculation"},
        ],
    }
)  # fmt: skip


def _write(root: Path, name: str, data: object) -> None:
    (root / name).write_text(json.dumps(data) if not isinstance(data, str) else data)


def test_without_the_files_nothing_is_given(tmp_path: Path) -> None:
    assert load_user_answer_keys(tmp_path, "quiz", EXAM) == {}
    assert load_grade_overrides(tmp_path, "quiz", EXAM) == {}
    assert load_roster(tmp_path, "quiz") is None


def test_answer_keys_are_read_and_checked(tmp_path: Path) -> None:
    keys_given = {"1": {"correct_answer": "B"}, "2": {"correct_answer": "6 N", "tolerance": 0.1}}
    _write(tmp_path, "user_answer_keys.json", keys_given)
    keys = load_user_answer_keys(tmp_path, "quiz", EXAM)
    assert keys["2"].tolerance == 0.1
    _write(tmp_path, "user_answer_keys.json", {"9": {"correct_answer": "B"}})
    with pytest.raises(InputError, match="unknown question '9'"):
        load_user_answer_keys(tmp_path, "quiz", EXAM)
    _write(tmp_path, "user_answer_keys.json", {"2": {"correct_answer": "6", "tolerance": -1}})
    with pytest.raises(InputError, match=r"quiz/user_answer_keys.json: question 2: tolerance"):
        load_user_answer_keys(tmp_path, "quiz", EXAM)


def test_overrides_may_not_exceed_the_questions_points(tmp_path: Path) -> None:
    _write(tmp_path, "grade_overrides.json", {"alice": {"2": {"points": 3, "comment": "ok"}}})
    assert load_grade_overrides(tmp_path, "quiz", EXAM)["alice"]["2"].points == 3
    _write(tmp_path, "grade_overrides.json", {"alice": {"1": {"points": 5}}})
    with pytest.raises(InputError, match="5 points, but the question is worth 2"):
        load_grade_overrides(tmp_path, "quiz", EXAM)
    _write(tmp_path, "grade_overrides.json", "[1, 2]")
    with pytest.raises(InputError, match="must be a JSON object"):
        load_grade_overrides(tmp_path, "quiz", EXAM)


def test_the_roster_needs_a_student_column_and_no_twice_listed_student(tmp_path: Path) -> None:
    _write(
        tmp_path, "roster.csv", "student,name,id,section\nalice,Alice A,101,A\n\nbob,Bob B,102,B\n"
    )
    roster = load_roster(tmp_path, "quiz")
    assert roster is not None
    assert [(entry.student, entry.name, entry.section) for entry in roster] == [
        ("alice", "Alice A", "A"),
        ("bob", "Bob B", "B"),
    ]
    _write(tmp_path, "roster.csv", "name,id\nAlice,101\n")
    with pytest.raises(InputError, match="'student' column"):
        load_roster(tmp_path, "quiz")
    _write(tmp_path, "roster.csv", "student\nalice\nalice\n")
    with pytest.raises(InputError, match="line 3: student 'alice' is listed twice"):
        load_roster(tmp_path, "quiz")


def test_answers_may_be_numbers_but_tolerances_and_points_must_be(tmp_path: Path) -> None:
    keys_given = {"2": {"correct_answer": 60, "alternative_answers": [2.5, "sixty"]}}
    _write(tmp_path, "user_answer_keys.json", keys_given)
    key = load_user_answer_keys(tmp_path, "quiz", EXAM)["2"]
    assert (key.correct_answer, key.alternative_answers) == ("60", ["2.5", "sixty"])
    for tolerance in (True, "0.5"):
        _write(
            tmp_path,
            "user_answer_keys.json",
            {"2": {"correct_answer": "6", "tolerance": tolerance}},
        )
        with pytest.raises(InputError, match=r"question 2: tolerance: must be a number"):
            load_user_answer_keys(tmp_path, "quiz", EXAM)
    _write(tmp_path, "user_answer_keys.json", {"1": {"correct_answer": True}})
    with pytest.raises(InputError, match=r"correct_answer: must be text or a number"):
        load_user_answer_keys(tmp_path, "quiz", EXAM)
    for points in (True, "1"):
        _write(tmp_path, "grade_overrides.json", {"alice": {"1": {"points": points}}})
        with pytest.raises(
            InputError, match=r"student alice, question 1: points: must be a number"
        ):
            load_grade_overrides(tmp_path, "quiz", EXAM)


def test_the_roster_header_is_read_as_canvas_and_spreadsheets_write_it(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "roster.csv",
        " Student ,Name,ID,SIS User ID,SIS Login ID,SECTION\nalice,Alice A,101,u1,a@x,A\n",
    )
    roster = load_roster(tmp_path, "quiz")
    assert roster is not None
    entry = roster[0]
    assert (entry.student, entry.name, entry.id, entry.section) == ("alice", "Alice A", "101", "A")
    assert (entry.sis_user_id, entry.sis_login_id) == ("u1", "a@x")
    _write(tmp_path, "roster.csv", "Student,student\nalice,bob\n")
    with pytest.raises(InputError, match="the column 'student' is in the header twice"):
        load_roster(tmp_path, "quiz")
