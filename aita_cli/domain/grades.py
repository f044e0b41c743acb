"""Grades as `results/grades/grades.json` holds them, with the rules that keep them honest.

The shapes follow the grades contract (docs/architecture.md): one `StudentGrades` per
student, one `QuestionGrade` per question of the exam. The rules are checked when a
grade is made, so no code path can write one that breaks them:

- a grade's awarded criteria points sum exactly to its `points`, each within 0 and its
  criterion's points, and `points` is within 0 and the question's `possible`;
- only a graded or overridden question has points: an ungraded or failed one has
  `points` None, never 0 ("a failure is never a 0");
- a student's `total` counts only questions with points, `possible` counts every
  question of the exam, and a student with any ungraded or failed question is
  "incomplete".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from aita_cli.domain.models import points_equal

__all__ = [
    "CriterionScore",
    "GradeSource",
    "GradeStatus",
    "QuestionGrade",
    "StudentGrades",
]

GradeStatus = Literal["graded", "overridden", "ungraded", "failed"]
GradeSource = Literal["model", "offline-auto", "instructor"]
_HAS_POINTS: frozenset[str] = frozenset({"graded", "overridden"})


class CriterionScore(BaseModel):
    """The points one rubric criterion earned, and why."""

    description: str
    points_possible: float = Field(ge=0, allow_inf_nan=False)
    points_awarded: float = Field(ge=0, allow_inf_nan=False)
    reason: str = ""

    @model_validator(mode="after")
    def _within_its_points(self) -> CriterionScore:
        if self.points_awarded > self.points_possible and not points_equal(
            self.points_awarded, self.points_possible
        ):
            raise ValueError(
                f"criterion {self.description!r} awards {self.points_awarded:g} of "
                f"{self.points_possible:g} points"
            )
        return self


class QuestionGrade(BaseModel):
    """One question of one student's submission."""

    question_id: str = Field(min_length=1)
    status: GradeStatus
    points: float | None = Field(None, ge=0, allow_inf_nan=False)
    possible: float = Field(gt=0, allow_inf_nan=False)
    criteria: list[CriterionScore] = Field(default_factory=list)
    feedback: str = ""
    confidence: float | None = Field(None, ge=0.0, le=1.0)
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)
    source: GradeSource | None = None
    # Beyond the contract's fields: why a failed question failed (or why an ungraded one
    # has not been graded yet), and the fingerprint of the inputs a grade was made from,
    # so an unchanged grade is kept rather than paid for again.
    error: str | None = None
    fingerprint: str | None = None

    @model_validator(mode="after")
    def _points_follow_the_rules(self) -> QuestionGrade:
        if self.status not in _HAS_POINTS:
            if self.points is not None:
                raise ValueError(f"a {self.status} question has no points, got {self.points:g}")
            return self
        if self.points is None:
            raise ValueError(f"a {self.status} question needs its points")
        if self.points > self.possible and not points_equal(self.points, self.possible):
            raise ValueError(f"{self.points:g} points, but the question is worth {self.possible:g}")
        if self.criteria:
            awarded = sum(criterion.points_awarded for criterion in self.criteria)
            if not points_equal(awarded, self.points):
                raise ValueError(
                    f"criteria award {awarded:g} points, but points is {self.points:g}"
                )
        if self.review_reasons and not self.needs_review:
            raise ValueError("review_reasons given, but needs_review is false")
        return self


class StudentGrades(BaseModel):
    """One student's grades; build it with `from_questions` so the totals add up."""

    student: str = Field(min_length=1)
    status: Literal["complete", "incomplete"]
    total: float = Field(ge=0, allow_inf_nan=False)
    possible: float = Field(gt=0, allow_inf_nan=False)
    percent: float = Field(ge=0, allow_inf_nan=False)
    questions: list[QuestionGrade]

    @classmethod
    def from_questions(cls, student: str, questions: Sequence[QuestionGrade]) -> StudentGrades:
        """The totals of `questions` (every question of the exam, in exam order)."""
        if not questions:
            raise ValueError(f"{student}: no questions to grade")
        total = sum(grade.points or 0.0 for grade in questions if grade.status in _HAS_POINTS)
        possible = sum(grade.possible for grade in questions)
        complete = all(grade.status in _HAS_POINTS for grade in questions)
        return cls(
            student=student,
            status="complete" if complete else "incomplete",
            total=round(total, 6),
            possible=round(possible, 6),
            percent=round(100.0 * total / possible, 2),
            questions=list(questions),
        )

    @model_validator(mode="after")
    def _totals_add_up(self) -> StudentGrades:
        total = sum(g.points or 0.0 for g in self.questions if g.status in _HAS_POINTS)
        possible = sum(grade.possible for grade in self.questions)
        if not (points_equal(total, self.total) and points_equal(possible, self.possible)):
            raise ValueError(f"{self.student}: total or possible does not match the questions")
        complete = all(grade.status in _HAS_POINTS for grade in self.questions)
        if (self.status == "complete") != complete:
            raise ValueError(f"{self.student}: status {self.status!r} does not match the questions")
        return self
