"""Grades keep the rules of grades.json: points add up, a failure is never a 0."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from aita_cli.domain.grades import CriterionScore, QuestionGrade, StudentGrades


def _graded(qid: str, points: float, possible: float = 4.0) -> QuestionGrade:
    half = possible / 2
    criteria = [
        CriterionScore(
            description="Key idea", points_possible=half, points_awarded=min(points, half)
        ),
        CriterionScore(
            description="Accuracy", points_possible=half, points_awarded=max(0.0, points - half)
        ),
    ]
    return QuestionGrade(
        question_id=qid, status="graded", points=points, possible=possible, criteria=criteria,
        source="model",
    )  # fmt: skip


def test_totals_count_only_questions_with_points_and_every_question_is_possible() -> None:
    grades = StudentGrades.from_questions(
        "alice",
        [
            _graded("1", 3.0),
            QuestionGrade(question_id="2", status="failed", possible=6.0),
            QuestionGrade(
                question_id="3", status="overridden", points=2.0, possible=2.0, source="instructor"
            ),
        ],
    )
    assert (grades.total, grades.possible, grades.percent) == (5.0, 12.0, 41.67)
    assert grades.status == "incomplete"  # the failed question is not a 0


def test_a_failed_or_ungraded_question_has_no_points() -> None:
    with pytest.raises(ValidationError, match="no points"):
        QuestionGrade(question_id="2", status="failed", points=0.0, possible=6.0)
    with pytest.raises(ValidationError, match="needs its points"):
        QuestionGrade(question_id="2", status="graded", possible=6.0)


def test_criteria_must_add_up_and_stay_within_their_points() -> None:
    with pytest.raises(ValidationError, match="criteria award 2 points"):
        QuestionGrade(
            question_id="1", status="graded", points=3.0, possible=4.0,
            criteria=[CriterionScore(description="a", points_possible=2, points_awarded=2)],
        )  # fmt: skip
    with pytest.raises(ValidationError, match="awards 3 of 2 points"):
        CriterionScore(description="a", points_possible=2, points_awarded=3)
    with pytest.raises(ValidationError, match="worth 4"):
        QuestionGrade(question_id="1", status="graded", points=5.0, possible=4.0)


def test_a_complete_student_has_every_question_graded() -> None:
    grades = StudentGrades.from_questions("bob", [_graded("1", 4.0), _graded("2", 0.0)])
    assert grades.status == "complete"
    assert grades.percent == 50.0
    data = grades.model_dump(mode="json")
    assert StudentGrades.model_validate(data) == grades
    data["total"] = 3.0
    with pytest.raises(ValidationError, match="does not match"):
        StudentGrades.model_validate(data)
