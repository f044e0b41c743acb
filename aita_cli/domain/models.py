"""Pydantic models of the teaching domain: exams, answer keys, rubrics and transcripts.

These are the shapes of aita's files (docs/architecture.md, "The assignment folder") and
of the JSON replies the tasks ask models for (`aita_cli.llm.task_kinds`).
"""

from __future__ import annotations

import math
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AnswerKey",
    "ExamSpec",
    "PageAnswer",
    "PageImage",
    "PageTranscription",
    "Question",
    "QuestionType",
    "Rubric",
    "RubricCriterion",
    "StudentTranscript",
    "points_equal",
]


def points_equal(a: float, b: float) -> bool:
    """Points compare exactly up to float noise (0.1 + 0.2 == 0.3 here)."""
    return math.isclose(a, b, rel_tol=0.0, abs_tol=1e-6)


def _no_bool_points(value: object) -> object:
    # JSON's true/false would otherwise pass as 1 and 0 points.
    if isinstance(value, bool):
        raise ValueError("points must be a number, not true or false")
    return value


class QuestionType(StrEnum):
    MULTIPLE_CHOICE = "multiple_choice"
    SHORT_ANSWER = "short_answer"
    LONG_ANSWER = "long_answer"
    CALCULATION = "calculation"
    DIAGRAM = "diagram"


class Question(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question_id: str = Field(min_length=1)
    question_text: str = Field(min_length=1)
    points: float = Field(gt=0, allow_inf_nan=False)
    question_type: QuestionType
    page_number: int | None = Field(None, ge=1)

    @field_validator("question_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: object) -> object:
        return str(value).strip() if isinstance(value, int | str) else value

    @field_validator("points", mode="before")
    @classmethod
    def _points_not_bool(cls, value: object) -> object:
        return _no_bool_points(value)


class ExamSpec(BaseModel):
    model_config = ConfigDict(extra="ignore")

    exam_name: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_unique(self) -> ExamSpec:
        seen: set[str] = set()
        for question in self.questions:
            if question.question_id in seen:
                raise ValueError(f"duplicate question_id {question.question_id!r}")
            seen.add(question.question_id)
        return self

    @property
    def total_points(self) -> float:
        return sum(question.points for question in self.questions)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.question_id == question_id), None)


class AnswerKey(BaseModel):
    """The model's (or the offline template's) answer to one question."""

    question_id: str
    correct_answer: str
    solution_steps: list[str] = Field(default_factory=list)
    alternative_answers: list[str] = Field(default_factory=list)
    explanation: str = ""
    grading_notes: str = ""
    source: str | None = None  # "offline-template" when no model wrote it


class RubricCriterion(BaseModel):
    name: str = Field(min_length=1)
    description: str = ""
    points: float = Field(ge=0, allow_inf_nan=False)
    examples: list[str] = Field(default_factory=list)

    @field_validator("points", mode="before")
    @classmethod
    def _points_not_bool(cls, value: object) -> object:
        return _no_bool_points(value)


class Rubric(BaseModel):
    """Criteria whose points sum exactly to `total_points`."""

    question_id: str
    total_points: float = Field(gt=0, allow_inf_nan=False)
    criteria: list[RubricCriterion] = Field(min_length=1)
    source: str | None = None  # "user" for user_rubrics.json, "offline-template", ...

    @field_validator("total_points", mode="before")
    @classmethod
    def _points_not_bool(cls, value: object) -> object:
        return _no_bool_points(value)

    @model_validator(mode="after")
    def _criteria_sum_to_total(self) -> Rubric:
        total = sum(criterion.points for criterion in self.criteria)
        if not points_equal(total, self.total_points):
            raise ValueError(
                f"criteria points sum to {total:g}, but total_points is {self.total_points:g}"
            )
        return self


class PageAnswer(BaseModel):
    question_id: str
    text: str


class PageTranscription(BaseModel):
    """One page as transcribed."""

    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    notes: str = ""
    answers: list[PageAnswer] = Field(default_factory=list)
    source: str | None = None  # "offline-ocr" when no model read it


class PageImage(BaseModel):
    """Where one page comes from; rendered only when it is sent."""

    student: str
    page_number: int = Field(ge=1)  # 1-based across the student's whole submission
    source_path: Path
    source_kind: Literal["pdf", "image"]
    pdf_page_index: int | None = None  # 0-based page within source_path when a PDF
    image_frame_index: int | None = None  # 0-based frame of a multi-page TIFF, else None


class StudentTranscript(BaseModel):
    student: str
    pages: list[dict[str, object]] = Field(default_factory=list)
    answers: dict[str, str] = Field(default_factory=dict)
    mean_confidence: float | None = None
    failures: list[str] = Field(default_factory=list)
