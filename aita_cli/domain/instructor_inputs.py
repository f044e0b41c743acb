"""The instructor's own inputs to grading, loaded and checked before anything runs.

- `user_answer_keys.json`: {question_id: {"correct_answer", "alternative_answers"?,
  "tolerance"?}}, the instructor's key, used as given (an answer may be a JSON number:
  60 is "60"; a tolerance must be one);
- `grade_overrides.json`: {student: {question_id: {"points", "comment"?}}}, the
  instructor's decisions, applied as given and never regraded;
- `roster.csv`: student,name,id,sis_user_id,sis_login_id,section (a header row, in any
  case and with spaces for underscores, as Canvas writes "Student" and "SIS User ID";
  only `student` is required), for the gradebook exports.

Each is optional. A bad one stops the command with one InputError line naming the file,
the entry and the problem; nothing is guessed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aita_cli.domain.assignment import read_json_file, require_question
from aita_cli.domain.models import AnswerKey, ExamSpec, points_equal
from aita_cli.errors import InputError

__all__ = [
    "ANSWER_KEYS_FILE",
    "INSTRUCTOR_SOURCE",
    "OVERRIDES_FILE",
    "ROSTER_COLUMNS",
    "ROSTER_FILE",
    "GradeOverride",
    "InstructorKey",
    "RosterEntry",
    "instructor_answer_keys",
    "load_grade_overrides",
    "load_roster",
    "load_user_answer_keys",
]

ANSWER_KEYS_FILE = "user_answer_keys.json"
OVERRIDES_FILE = "grade_overrides.json"
ROSTER_FILE = "roster.csv"
ROSTER_COLUMNS = ("student", "name", "id", "sis_user_id", "sis_login_id", "section")
INSTRUCTOR_SOURCE = "instructor"


def _json_number(value: object) -> object:
    # JSON's true would otherwise pass as 1, and "0.5" as 0.5: a number must be a number.
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueError("must be a number (not text, true or false)")
    return value


def _answer_text(value: object) -> object:
    # "correct_answer": 60 is the answer "60"; true is no answer at all.
    if isinstance(value, bool):
        raise ValueError("must be text or a number, not true or false")
    return str(value) if isinstance(value, int | float) else value


class InstructorKey(BaseModel):
    """The instructor's answer to one question."""

    model_config = ConfigDict(extra="forbid")

    correct_answer: str = Field(min_length=1)
    alternative_answers: list[str] = Field(default_factory=list)
    tolerance: float | None = Field(None, ge=0, allow_inf_nan=False)

    _numbers_are_answers = field_validator("correct_answer", mode="before")(_answer_text)
    _tolerance_is_a_number = field_validator("tolerance", mode="before")(_json_number)

    @field_validator("alternative_answers", mode="before")
    @classmethod
    def _alternatives_as_text(cls, value: object) -> object:
        return [_answer_text(item) for item in value] if isinstance(value, list) else value

    def as_answer_key(self, question_id: str) -> AnswerKey:
        """The key in the shape every prompt and score reads, marked as the instructor's."""
        notes = f"Numeric answers within ±{self.tolerance:g} are correct." if self.tolerance else ""
        return AnswerKey(
            question_id=question_id,
            correct_answer=self.correct_answer,
            alternative_answers=list(self.alternative_answers),
            grading_notes=notes,
            source=INSTRUCTOR_SOURCE,
        )


class GradeOverride(BaseModel):
    """The instructor's points for one question of one student."""

    model_config = ConfigDict(extra="forbid")

    points: float = Field(ge=0, allow_inf_nan=False)
    comment: str = ""

    _points_are_a_number = field_validator("points", mode="before")(_json_number)


class RosterEntry(BaseModel):
    """One row of the roster."""

    student: str = Field(min_length=1)
    name: str = ""
    id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _object(data: object, label: str, what: str) -> dict[str, object]:
    if not isinstance(data, dict):
        raise InputError(f"{label}: must be a JSON object of {what}")
    return data


def load_user_answer_keys(root: Path, name: str, exam: ExamSpec) -> dict[str, InstructorKey]:
    """The instructor's keys by question id ({} without the file)."""
    path, label = root / ANSWER_KEYS_FILE, f"{name}/{ANSWER_KEYS_FILE}"
    if not path.is_file():
        return {}
    data = _object(read_json_file(path, label), label, "question ids to answer keys")
    keys: dict[str, InstructorKey] = {}
    for question_id, raw in data.items():
        require_question(exam, question_id, label)
        try:
            keys[question_id] = InstructorKey.model_validate(raw)
        except ValidationError as exc:
            raise InputError(f"{label}: question {question_id}: {_first_problem(exc)}") from None
    return keys


def instructor_answer_keys(root: Path, name: str, exam: ExamSpec) -> dict[str, AnswerKey]:
    """The instructor's keys as answer keys, by question id ({} without the file)."""
    return {
        qid: key.as_answer_key(qid) for qid, key in load_user_answer_keys(root, name, exam).items()
    }


def load_grade_overrides(
    root: Path, name: str, exam: ExamSpec
) -> dict[str, dict[str, GradeOverride]]:
    """The instructor's points by student and question id ({} without the file)."""
    path, label = root / OVERRIDES_FILE, f"{name}/{OVERRIDES_FILE}"
    if not path.is_file():
        return {}
    data = _object(read_json_file(path, label), label, "students to their questions")
    overrides: dict[str, dict[str, GradeOverride]] = {}
    for student, questions in data.items():
        where = f"{label}: student {student}"
        per_question = _object(questions, where, "question ids to points")
        overrides[student] = {
            qid: _override(exam, qid, raw, where) for qid, raw in per_question.items()
        }
    return overrides


def _override(exam: ExamSpec, question_id: str, raw: object, where: str) -> GradeOverride:
    question = require_question(exam, question_id, where)
    try:
        override = GradeOverride.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"{where}, question {question_id}: {_first_problem(exc)}") from None
    if override.points > question.points and not points_equal(override.points, question.points):
        raise InputError(
            f"{where}, question {question_id}: {override.points:g} points, but the question "
            f"is worth {question.points:g}"
        )
    return override


def _roster_column(header: str) -> str:
    """A header cell as its column: Canvas writes "Student" and "SIS User ID", a
    spreadsheet may leave spaces around it; all are the same column as "sis_user_id"."""
    return re.sub(r"[\s_-]+", "_", header.strip().lower())


def _check_roster_header(header: Sequence[str], label: str) -> None:
    columns = [_roster_column(column) for column in header]
    if "student" not in columns:
        raise InputError(f"{label}: needs a header row with a 'student' column")
    # "Student" and "student" both there: which one holds the students is a guess.
    twice = [column for column in ROSTER_COLUMNS if columns.count(column) > 1]
    if twice:
        raise InputError(f"{label}: the column {twice[0]!r} is in the header twice")


def load_roster(root: Path, name: str) -> list[RosterEntry] | None:
    """The roster's rows in file order, or None without the file."""
    path, label = root / ROSTER_FILE, f"{name}/{ROSTER_FILE}"
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{label}: cannot read it as UTF-8 text ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    _check_roster_header(reader.fieldnames or [], label)
    entries: list[RosterEntry] = []
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        values = {
            _roster_column(key): (value or "").strip()
            for key, value in row.items()
            if key and _roster_column(key) in ROSTER_COLUMNS
        }
        if not any(values.values()):
            continue  # a blank line
        try:
            entry = RosterEntry.model_validate(values)
        except ValidationError:
            raise InputError(f"{label}: line {line} has no student") from None
        if entry.student in seen:
            raise InputError(f"{label}: line {line}: student {entry.student!r} is listed twice")
        seen.add(entry.student)
        entries.append(entry)
    return entries
