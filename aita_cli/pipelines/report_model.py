"""What the HTML reports show, read from an assignment's results alone (no model call).

The reports work at every stage: transcripts alone give each student's answers and
pages with their confidence; grades add points, criteria, feedback and flags. Anything
missing or damaged on disk is simply not shown, never guessed.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from pydantic import ValidationError

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.grades import QuestionGrade, StudentGrades
from aita_cli.domain.instructor_inputs import RosterEntry
from aita_cli.domain.models import Question, Rubric
from aita_cli.domain.naming import natural_key, safe_name
from aita_cli.pipelines.rubric_output import RUBRICS_FILE

__all__ = [
    "ClassView",
    "PageView",
    "QuestionStat",
    "QuestionView",
    "StudentView",
    "build_class_view",
    "read_grades",
    "read_rubrics",
]


@dataclass(frozen=True)
class PageView:
    """One scanned page: where its scaled copy is (relative to report/), what was read."""

    number: int
    image: str | None  # e.g. "pages/alice/p001.jpg"; None when the scan is gone
    text: str
    confidence: float | None
    source: str  # "model", "offline-ocr", ...
    status: str  # "ok", "failed", "not_started"


@dataclass(frozen=True)
class QuestionView:
    """One question of one student: the answer beside its pages, and its grade."""

    question: Question
    answer: str
    pages: list[PageView]
    grade: QuestionGrade | None
    rubric: Rubric | None

    @property
    def flagged(self) -> bool:
        grade = self.grade
        return grade is not None and (grade.needs_review or grade.status == "failed")


@dataclass(frozen=True)
class StudentView:
    """One student's page of the report."""

    student: str
    name: str  # from the roster, else ""
    file_stem: str  # students/<file_stem>.html, pages/<file_stem>/
    transcript_status: str  # "complete", "incomplete", "failed", "not_transcribed"
    mean_confidence: float | None
    grades: StudentGrades | None
    questions: list[QuestionView]
    pages: list[PageView]

    @property
    def flags(self) -> int:
        return sum(1 for question in self.questions if question.flagged)


@dataclass(frozen=True)
class QuestionStat:
    """How the class did on one question."""

    question: Question
    graded: int  # items with points (graded or overridden)
    mean_share: float | None  # mean points / possible over those, 0..1
    flagged: int


@dataclass
class ClassView:
    """Everything index.html, students/*.html and review.html are rendered from."""

    assignment: str
    exam_name: str
    questions: list[Question]
    students: list[StudentView]
    has_grades: bool
    question_stats: list[QuestionStat] = field(default_factory=list)

    def percents(self, status: str = "complete") -> list[float]:
        """The percents of the students with that status ("incomplete": so far)."""
        return [
            s.grades.percent
            for s in self.students
            if s.grades is not None and s.grades.status == status
        ]

    def summary(self) -> dict[str, Any]:
        """Students, complete/incomplete, and mean/median/min/max percent of the
        complete ones (an incomplete student's percent is not final)."""
        graded = [s for s in self.students if s.grades is not None]
        complete = self.percents()
        figures: dict[str, Any] = {
            "students": len(self.students),
            "complete": sum(1 for s in graded if s.grades and s.grades.status == "complete"),
            "incomplete": sum(1 for s in graded if s.grades and s.grades.status != "complete"),
            "flagged": sum(s.flags for s in self.students),
        }
        for name, function in (("mean", statistics.fmean), ("median", statistics.median),
                               ("min", min), ("max", max)):  # fmt: skip
            figures[name] = function(complete) if complete else None
        return figures


def read_grades(path: Any) -> dict[str, StudentGrades]:
    """grades.json by student; {} when it is absent or damaged (then nothing is shown)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    found: dict[str, StudentGrades] = {}
    for raw in data.get("students", []) if isinstance(data, dict) else []:
        try:
            grades = StudentGrades.model_validate(raw)
        except ValidationError:
            continue
        found[grades.student] = grades
    return found


def read_rubrics(assignment: Assignment) -> dict[str, Rubric]:
    """The rubrics in use: results/rubrics.json's usable entries, user rubrics on top."""
    rubrics: dict[str, Rubric] = {}
    try:
        data = orjson.loads((assignment.results_dir / RUBRICS_FILE).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        data = {}
    entries = data.get("rubrics", []) if isinstance(data, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("status") == "ok":
            try:
                rubric = Rubric.model_validate(entry)
            except ValidationError:
                continue
            rubrics[rubric.question_id] = rubric
    rubrics.update(assignment.user_rubrics)
    return rubrics


def build_class_view(
    assignment: Assignment,
    transcripts: Mapping[str, Mapping[str, Any]],
    grades: Mapping[str, StudentGrades],
    images: Mapping[tuple[str, int], str],
    roster: Sequence[RosterEntry] | None = None,
) -> ClassView:
    """The report's content: every student with a transcript or grades, natural order."""
    questions = list(assignment.exam.questions)
    rubrics = read_rubrics(assignment)
    names = {entry.student: entry.name for entry in roster or []}
    students = [
        _student_view(student, questions, transcripts.get(student, {}), grades.get(student),
                      images=images, rubrics=rubrics, name=names.get(student, ""))
        for student in sorted({*transcripts, *grades}, key=natural_key)
    ]  # fmt: skip
    view = ClassView(assignment.name, assignment.exam.exam_name, questions, students, bool(grades))
    view.question_stats = [_question_stat(question, students) for question in questions]
    return view


def _student_view(
    student: str,
    questions: Sequence[Question],
    transcript: Mapping[str, Any],
    grades: StudentGrades | None,
    *,
    images: Mapping[tuple[str, int], str],
    rubrics: Mapping[str, Rubric],
    name: str,
) -> StudentView:
    pages = [_page_view(student, entry, images) for entry in _entries(transcript)]
    by_number = {page.number: page for page in pages}
    answers = _mapping(transcript.get("answers"))
    where = _mapping(transcript.get("answer_pages"))
    graded = {grade.question_id: grade for grade in grades.questions} if grades else {}
    views = [
        QuestionView(
            question=question,
            answer=str(answers.get(question.question_id, "")),
            pages=[by_number[n] for n in where.get(question.question_id, []) if n in by_number],
            grade=graded.get(question.question_id),
            rubric=rubrics.get(question.question_id),
        )
        for question in questions
    ]
    confidence = transcript.get("mean_confidence")
    return StudentView(
        student=student,
        name=name,
        file_stem=safe_name(student),
        transcript_status=str(transcript.get("status", "not_transcribed")),
        mean_confidence=float(confidence) if isinstance(confidence, int | float) else None,
        grades=grades,
        questions=views,
        pages=pages,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _entries(transcript: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    pages = transcript.get("pages")
    if not isinstance(pages, list):
        return []
    return [p for p in pages if isinstance(p, dict) and isinstance(p.get("page_number"), int)]


def _page_view(
    student: str, entry: Mapping[str, Any], images: Mapping[tuple[str, int], str]
) -> PageView:
    number = int(entry["page_number"])
    confidence = entry.get("confidence")
    return PageView(
        number=number,
        image=images.get((student, number)),
        text=str(entry.get("text", "")),
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        source=str(entry.get("source", "")),
        status=str(entry.get("status", "")),
    )


def _question_stat(question: Question, students: Sequence[StudentView]) -> QuestionStat:
    grades = [
        view.grade
        for student in students
        for view in student.questions
        if view.question.question_id == question.question_id and view.grade is not None
    ]
    scored = [g.points / g.possible for g in grades if g.points is not None]
    flagged = sum(1 for g in grades if g.needs_review or g.status == "failed")
    mean = statistics.fmean(scored) if scored else None
    return QuestionStat(question, len(scored), mean, flagged)
