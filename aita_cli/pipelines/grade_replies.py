"""Reading a model's grade: every rubric criterion scored within its points, adding up.

A reply that breaks a rule raises `ResponseValidationError` whose text says exactly what
to fix (the criterion, its points, what was given), so the executor's re-ask is specific;
after the retry budget the item is failed, never a guessed score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aita_cli.domain.grades import CriterionScore
from aita_cli.domain.models import Rubric, points_equal
from aita_cli.errors import ResponseValidationError
from aita_cli.pipelines.rubric_tasks import format_points

__all__ = ["GRADE_BATCH_SCHEMA", "GRADE_SCHEMA", "ModelGrade", "read_grade_reply"]

_CRITERION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "The rubric criterion's name, as given."},
        "points_awarded": {"type": "number"},
        "reason": {"type": "string", "description": "Why, citing the student's answer."},
    },
    "required": ["name", "points_awarded", "reason"],
    "additionalProperties": False,
}

GRADE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "question_id": {"type": "string"},
        "criteria": {"type": "array", "items": _CRITERION_SCHEMA},
        "total_points": {"type": "number"},
        "feedback": {"type": "string", "description": "Feedback for the student."},
        "confidence": {"type": "number", "description": "From 0 to 1."},
    },
    "required": ["question_id", "criteria", "total_points", "feedback", "confidence"],
    "additionalProperties": False,
}

GRADE_BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"grades": {"type": "array", "items": GRADE_SCHEMA}},
    "required": ["grades"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class ModelGrade:
    """A reply that keeps every rule: criteria in rubric order, and their total."""

    criteria: list[CriterionScore]
    points: float
    feedback: str
    confidence: float


def read_grade_reply(data: Mapping[str, Any], question_id: str, rubric: Rubric) -> ModelGrade:
    """The grade in one reply object for `question_id` under `rubric`, or the exact
    rule it breaks."""
    given_id = str(data.get("question_id", "")).strip()
    if given_id and given_id != question_id:
        raise ResponseValidationError(
            f"question_id is {given_id!r}, but this is question {question_id!r}"
        )
    criteria = _scored_criteria(data.get("criteria"), rubric)
    points = round(sum(criterion.points_awarded for criterion in criteria), 6)
    stated = data.get("total_points")
    if stated is not None:
        total = _number(stated, "total_points")
        if not points_equal(total, points):
            raise ResponseValidationError(
                f"total_points is {total:g}, but the criteria awarded add up to {points:g}"
            )
    confidence = _number(data.get("confidence"), "confidence")
    if not 0.0 <= confidence <= 1.0:
        raise ResponseValidationError(f"confidence must be from 0 to 1, got {confidence:g}")
    feedback = data.get("feedback", "")
    if not isinstance(feedback, str):
        raise ResponseValidationError("feedback must be a string")
    return ModelGrade(criteria, points, feedback.strip(), confidence)


def _scored_criteria(raw: Any, rubric: Rubric) -> list[CriterionScore]:
    if not isinstance(raw, list):
        raise ResponseValidationError("criteria must be a list, one entry per rubric criterion")
    by_name = {criterion.name.strip().casefold(): criterion for criterion in rubric.criteria}
    awarded: dict[str, tuple[float, str]] = {}
    for number, item in enumerate(raw, 1):
        if not isinstance(item, Mapping):
            raise ResponseValidationError(f"criteria entry {number} must be an object")
        name = str(item.get("name", "")).strip()
        criterion = by_name.get(name.casefold())
        if criterion is None:
            raise ResponseValidationError(
                f"criterion {name!r} is not in the rubric; its criteria are "
                + ", ".join(repr(c.name) for c in rubric.criteria)
            )
        key = criterion.name.strip().casefold()
        if key in awarded:
            raise ResponseValidationError(f"criterion {criterion.name!r} is scored twice")
        points = _number(item.get("points_awarded"), f"criterion {criterion.name!r} points_awarded")
        if points < 0 or (points > criterion.points and not points_equal(points, criterion.points)):
            raise ResponseValidationError(
                f"criterion {criterion.name!r} awards {points:g} points, but it is worth "
                f"0 to {format_points(criterion.points)}"
            )
        awarded[key] = (min(points, criterion.points), str(item.get("reason", "")).strip())
    missing = [c.name for c in rubric.criteria if c.name.strip().casefold() not in awarded]
    if missing:
        raise ResponseValidationError(
            "score every rubric criterion; missing: " + ", ".join(repr(name) for name in missing)
        )
    return _in_rubric_order(rubric, awarded)


def _in_rubric_order(
    rubric: Rubric, awarded: Mapping[str, tuple[float, str]]
) -> list[CriterionScore]:
    scores: Sequence[CriterionScore] = [
        CriterionScore(
            description=criterion.name,
            points_possible=criterion.points,
            points_awarded=awarded[criterion.name.strip().casefold()][0],
            reason=awarded[criterion.name.strip().casefold()][1],
        )
        for criterion in rubric.criteria
    ]
    return list(scores)


def _number(value: Any, what: str) -> float:
    # JSON's true/false would otherwise pass as 1 and 0.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResponseValidationError(f"{what} must be a number, got {value!r}")
    return float(value)
