"""The HTML reports in results/report/, from the results alone: no model is called.

`index.html` (the class: summary, charts, one row per question and per student),
`students/<student>.html` (each answer beside its page, the grade and why it is
flagged) and `review.html` (every item that needs a person, grouped by question). The
folder is self-contained: page images are scaled copies under `pages/`, charts are
inline SVG, the one script is inline and allowed by its hash, nothing is fetched.

Everything a student wrote reaches the page through Jinja2's autoescaping; a report
that fails is reported and touches nothing outside report/.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from aita_cli.domain.assignment import Assignment
from aita_cli.domain.instructor_inputs import load_roster
from aita_cli.domain.models import Question
from aita_cli.domain.submissions import scan_submissions
from aita_cli.errors import InputError
from aita_cli.pipelines.files import write_text_atomic
from aita_cli.pipelines.report_charts import percent_histogram, question_bars
from aita_cli.pipelines.report_images import write_page_images
from aita_cli.pipelines.report_model import (
    ClassView,
    QuestionView,
    StudentView,
    build_class_view,
    read_grades,
)
from aita_cli.pipelines.transcript_store import read_transcript, transcripts_dir

__all__ = ["REPORT_DIR", "ReportResult", "write_reports"]

REPORT_DIR = "report"


@dataclass
class ReportResult:
    """What was written, and what could not be shown."""

    folder: Path
    paths: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    students: int = 0
    has_grades: bool = False
    image_bytes: int = 0
    images: int = 0


def write_reports(assignment: Assignment) -> ReportResult:
    """Rebuild results/report/ from results/; InputError when there is nothing to show."""
    folder = assignment.results_dir / REPORT_DIR
    transcripts = _transcripts(assignment)
    grades_file = assignment.results_dir / "grades" / "grades.json"
    grades = read_grades(grades_file)
    damaged = grades_file.is_file() and not grades
    if not transcripts and not grades:
        raise InputError(
            f"nothing to report for {assignment.name} yet: run aita transcribe or aita grade first"
        )
    students = [
        s for s in scan_submissions(assignment).students if s.output_name in {*transcripts, *grades}
    ]
    images, warnings = write_page_images(folder, students)
    view = build_class_view(
        assignment, transcripts, grades, images, load_roster(assignment.root, assignment.name)
    )
    if damaged:
        warnings.append(f"{grades_file} cannot be read: the report shows the transcripts only")
    result = ReportResult(folder, warnings=warnings, students=len(view.students),
                          has_grades=view.has_grades)  # fmt: skip
    renderer = _Renderer(view)
    result.paths.append(
        renderer.write(folder / "index.html", "index.html", root="", **_index(view))
    )
    for student in view.students:
        path = folder / "students" / f"{student.file_stem}.html"
        result.paths.append(renderer.write(path, "student.html", root="../", student=student))
    groups = _review_groups(view)
    total = sum(len(items) for _, items in groups)
    result.paths.append(
        renderer.write(folder / "review.html", "review.html", root="", groups=groups, total=total)
    )
    result.images = len(images)
    result.image_bytes = sum((folder / relative).stat().st_size for relative in images.values())
    _remove_leftovers(folder, result.paths, images.values())
    return result


def _remove_leftovers(folder: Path, pages: list[Path], images: Any) -> None:
    """Pages and scans of students no longer in the results: a report folder mailed
    later must hold nobody who is not in the class any more."""
    keep = {path.resolve() for path in pages} | {(folder / rel).resolve() for rel in images}
    for pattern in ("students/*.html", "pages/*/*.jpg"):
        for path in folder.glob(pattern):
            if path.resolve() not in keep:
                path.unlink(missing_ok=True)


def _transcripts(assignment: Assignment) -> dict[str, dict[str, Any]]:
    folder = transcripts_dir(assignment)
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if path.name == "index.json":
            continue
        transcript = read_transcript(path)
        if transcript is not None:
            found[str(transcript["output_name"])] = transcript
    return found


def _index(view: ClassView) -> dict[str, Any]:
    summary = view.summary()
    complete, so_far = view.percents("complete"), view.percents("incomplete")
    stats = view.question_stats
    return {
        "summary": summary,
        "possible": sum(question.points for question in view.questions),
        "histogram": Markup(percent_histogram(complete, so_far)) if complete or so_far else None,
        "question_chart": Markup(
            question_bars([s.question.question_id for s in stats], [s.mean_share for s in stats])
        ),
    }


def _review_groups(
    view: ClassView,
) -> list[tuple[Question, list[tuple[StudentView, QuestionView]]]]:
    groups = []
    for position, question in enumerate(view.questions):
        items = [
            (student, student.questions[position])
            for student in view.students
            if student.questions[position].flagged
        ]
        if items:
            groups.append((question, items))
    return groups


class _Renderer:
    """Jinja2 with autoescaping on for everything, and the filters the pages share."""

    def __init__(self, view: ClassView) -> None:
        self.view = view
        self.env = Environment(
            loader=PackageLoader("aita_cli", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            points=_points, percent=_percent, share=_share, confidence=_confidence
        )
        script = self.env.loader.get_source(self.env, "report.js")[0]  # type: ignore[union-attr]
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        self.globals = {"view": view, "script": Markup(script), "script_hash": f"sha256-{digest}"}

    def write(self, path: Path, template: str, **context: Any) -> Path:
        html = self.env.get_template(template).render(**self.globals, **context)
        write_text_atomic(path, html)
        return path


def _points(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _share(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _confidence(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def report_size(paths: Sequence[Path]) -> int:
    """Bytes of the files written."""
    return sum(path.stat().st_size for path in paths if path.is_file())
