"""The files aita grade writes to results/grades/ (docs: "Grades" in DESIGN.md).

- grades.json: every student's grades as `StudentGrades`, and a summary;
- gradebook.csv: one row per student, one column per question;
- canvas.csv (only with a roster): Canvas's gradebook import format;
- review.md and feedback/<student>.md: see `grade_markdown`.

Everything here is built from one `GradesDocument` by pure functions; only
`write_grade_outputs` touches the disk. A question that is ungraded or failed has no
points anywhere: its cells are blank, never 0.
"""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aita_cli.domain.grades import QuestionGrade, StudentGrades
from aita_cli.domain.instructor_inputs import RosterEntry
from aita_cli.domain.models import ExamSpec, Rubric
from aita_cli.domain.naming import natural_key, safe_name
from aita_cli.errors import InputError
from aita_cli.pipelines.files import (
    plain_number,
    tidy_points,
    write_json_atomic,
    write_text_atomic,
)
from aita_cli.pipelines.grade_markdown import feedback_markdown, needs_a_person, review_markdown

__all__ = [
    "CANVAS_FILE",
    "FEEDBACK_DIR",
    "GRADEBOOK_FILE",
    "GRADES_FILE",
    "REVIEW_FILE",
    "GradesDocument",
    "canvas_csv",
    "feedback_markdown",
    "gradebook_csv",
    "grades_json",
    "review_markdown",
    "write_grade_outputs",
]

GRADES_FILE = "grades.json"
GRADEBOOK_FILE = "gradebook.csv"
CANVAS_FILE = "canvas.csv"
REVIEW_FILE = "review.md"
FEEDBACK_DIR = "feedback"
_HAS_POINTS = frozenset({"graded", "overridden"})
# Canvas's importer recognises its identity columns by these names, in this order, and
# the row of maxima by "Points Possible" in the first column.
_CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_CANVAS_POINTS_POSSIBLE = "Points Possible"
# A spreadsheet evaluates a cell starting with "=", "@", "+" or "-" as a formula (OWASP,
# "CSV Injection"), so a roster name like "=HYPERLINK(...)" could run when the instructor
# opens the file. Such a text cell gets a leading apostrophe, which spreadsheets show as
# text; the text stays readable. But a sign followed only by digits ("-1", "+44") is a
# plain number to a spreadsheet, not a formula, and Canvas matches students by their
# ID and SIS cells exactly: "'-1" there would match nobody. So only a sign followed by
# something other than digits is guarded. Score cells are numbers we format ourselves
# and are never touched, or Canvas would read "'-" instead of a score.
_FORMULA = re.compile(r"^(?:[=@\t\r]|[+-](?!\d+\Z))")


@dataclass(frozen=True)
class GradesDocument:
    """Everything the grade files are written from."""

    assignment: str
    exam: ExamSpec
    # In natural order by student; every question of the exam, in exam order.
    students: list[StudentGrades]
    roster: list[RosterEntry] | None  # None: no roster.csv
    # student -> question_id -> transcribed answer ("" or absent: none found)
    answers: dict[str, dict[str, str]]
    rubrics: dict[str, Rubric]  # question_id -> the rubric used (absent when none)
    # student -> safe file stem for feedback/ (default: safe_name(student))
    output_names: dict[str, str] = field(default_factory=dict)

    def name_of(self, student: str) -> str:
        """The student's name on the roster, or "" (no roster, not on it, no name)."""
        for entry in self.roster or []:
            if entry.student == student:
                return entry.name
        return ""

    def output_name(self, student: str) -> str:
        """The file stem of the student's feedback page."""
        return self.output_names.get(student) or safe_name(student)

    def in_natural_order(self) -> list[StudentGrades]:
        """The students, s2 before s10, whatever order they were given in."""
        return sorted(self.students, key=lambda grades: natural_key(grades.student))


def grades_json(doc: GradesDocument) -> dict[str, Any]:
    """The content of grades.json, whole points as integers."""
    tidied: dict[str, Any] = tidy_points(
        {
            "assignment": doc.assignment,
            "exam_name": doc.exam.exam_name,
            "summary": _summary(doc.students),
            "students": [grades.model_dump(mode="json") for grades in doc.in_natural_order()],
        }
    )
    return tidied


def _summary(students: Sequence[StudentGrades]) -> dict[str, Any]:
    # Only complete students: an incomplete total is a lower bound, not a score.
    percents = [grades.percent for grades in students if grades.status == "complete"]
    items = [grade for grades in students for grade in grades.questions]
    return {
        "students": len(students),
        "complete": len(percents),
        "incomplete": len(students) - len(percents),
        "mean_percent": round(statistics.fmean(percents), 2) if percents else None,
        "median_percent": round(statistics.median(percents), 2) if percents else None,
        "items_flagged": sum(1 for grade in items if grade.needs_review),
        "items_failed": sum(1 for grade in items if grade.status == "failed"),
        "items_ungraded": sum(1 for grade in items if grade.status == "ungraded"),
    }


def gradebook_csv(doc: GradesDocument) -> str:
    """gradebook.csv: one row per student in natural order; a question's cell is blank
    unless it has points (a failure is never a 0)."""
    question_ids = [question.question_id for question in doc.exam.questions]
    rows = [
        [
            "student",
            "name",
            *(_text_cell(qid) for qid in question_ids),
            "total",
            "possible",
            "percent",
            "status",
            "needs_review",
        ]
    ]
    for grades in doc.in_natural_order():
        by_id = {grade.question_id: grade for grade in grades.questions}
        rows.append(
            [
                _text_cell(grades.student),
                _text_cell(doc.name_of(grades.student)),
                *(_points_cell(by_id.get(qid)) for qid in question_ids),
                plain_number(grades.total),
                plain_number(grades.possible),
                plain_number(grades.percent),
                grades.status,
                "yes" if any(needs_a_person(grade) for grade in grades.questions) else "no",
            ]
        )
    return _csv_text(rows)


def _points_cell(grade: QuestionGrade | None) -> str:
    if grade is None or grade.status not in _HAS_POINTS or grade.points is None:
        return ""
    return plain_number(grade.points)


def _text_cell(text: str) -> str:
    return "'" + text if _FORMULA.match(text) else text


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def canvas_csv(doc: GradesDocument) -> tuple[str, list[str]] | None:
    """canvas.csv and its warnings, or None without a roster.

    One row per roster student with grades, in roster order. An incomplete student's
    score is blank, so an upload leaves that grade as it is in Canvas instead of posting
    a partial total as if it were final.
    """
    if doc.roster is None:
        return None
    graded = {grades.student: grades for grades in doc.students}
    listed = {entry.student for entry in doc.roster}
    not_listed = [
        f"canvas.csv: {grades.student} is graded but not on the roster; left out"
        for grades in doc.in_natural_order()
        if grades.student not in listed
    ]
    no_grades: list[str] = []
    blank: list[str] = []
    rows = [_canvas_header(doc.exam), _canvas_points_possible(doc.exam)]
    for entry in doc.roster:
        grades = graded.get(entry.student)
        if grades is None:
            no_grades.append(f"canvas.csv: {entry.student} is on the roster but has no grades")
            continue
        if grades.status == "incomplete":
            blank.append(grades.student)
        rows.append(_canvas_row(entry, grades))
    return _csv_text(rows), [*not_listed, *no_grades, *_incomplete_warning(blank)]


def _canvas_header(exam: ExamSpec) -> list[str]:
    return [*_CANVAS_IDENTITY, _text_cell(exam.exam_name)]


def _canvas_points_possible(exam: ExamSpec) -> list[str]:
    blanks = [""] * (len(_CANVAS_IDENTITY) - 1)
    return [_CANVAS_POINTS_POSSIBLE, *blanks, plain_number(exam.total_points)]


def _canvas_row(entry: RosterEntry, grades: StudentGrades) -> list[str]:
    identity = [entry.name or entry.student, entry.id, entry.sis_user_id, entry.sis_login_id]
    score = plain_number(grades.total) if grades.status == "complete" else ""
    return [*(_text_cell(cell) for cell in [*identity, entry.section]), score]


def _incomplete_warning(students: list[str]) -> list[str]:
    """One line for every incomplete student (a class may have hundreds); review.md
    says which questions each still needs."""
    if not students:
        return []
    shown = ", ".join(students[:10]) + (
        f" and {len(students) - 10} more" if len(students) > 10 else ""
    )
    return [
        f"canvas.csv: score left blank for {len(students)} incomplete student(s) "
        f"(not graded yet): {shown}"
    ]


def write_grade_outputs(grades_dir: Path, doc: GradesDocument) -> tuple[list[Path], list[str]]:
    """Write every grade file into `grades_dir`, each atomically; returns the paths
    written (grades.json first) and the warnings to show. Without a roster, a canvas.csv
    left by an earlier run is removed: it would hold stale scores."""
    stems = _feedback_stems(doc)
    written = [grades_dir / GRADES_FILE, grades_dir / GRADEBOOK_FILE]
    write_json_atomic(written[0], grades_json(doc))
    write_text_atomic(written[1], gradebook_csv(doc))
    warnings: list[str] = []
    canvas = canvas_csv(doc)
    if canvas is None:
        _remove(grades_dir / CANVAS_FILE)
    else:
        text, warnings = canvas
        written.append(grades_dir / CANVAS_FILE)
        write_text_atomic(written[-1], text)
    written.append(grades_dir / REVIEW_FILE)
    write_text_atomic(written[-1], review_markdown(doc))
    for grades in doc.in_natural_order():
        written.append(grades_dir / FEEDBACK_DIR / f"{stems[grades.student]}.md")
        write_text_atomic(written[-1], feedback_markdown(doc, grades))
    return written, warnings


def _feedback_stems(doc: GradesDocument) -> dict[str, str]:
    """Each student's feedback file stem, checked before anything is written: two
    students on one file would silently lose one student's feedback."""
    stems: dict[str, str] = {}
    owners: dict[str, str] = {}
    for grades in doc.in_natural_order():
        stem = doc.output_name(grades.student)
        if Path(stem).name != stem or stem in {".", ".."}:
            raise InputError(f"feedback file name {stem!r} for {grades.student} is not a name")
        if stem.casefold() in owners:
            raise InputError(
                f"{owners[stem.casefold()]} and {grades.student} would share "
                f"{FEEDBACK_DIR}/{stem}.md: give them distinct output names"
            )
        owners[stem.casefold()] = grades.student
        stems[grades.student] = stem
    return stems


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise InputError(f"cannot remove {path}: {exc.strerror or exc}") from exc
