"""results/grades/review.md and feedback/<student>.md: grades as pages people read.

Everything a student (or a model quoting one) wrote is data, never Markdown: answers go
in fenced code blocks whose fence is longer than any run of backticks inside them, and
every other piece of text goes through `inline_text`, which escapes what Markdown or
HTML would otherwise act on. The result shows the text exactly as written.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aita_cli.domain.grades import QuestionGrade, StudentGrades
from aita_cli.domain.models import Question, Rubric
from aita_cli.domain.naming import natural_key
from aita_cli.pipelines.files import plain_number

if TYPE_CHECKING:  # grade_output imports this module; the document is only a type here
    from aita_cli.pipelines.grade_output import GradesDocument

__all__ = [
    "feedback_markdown",
    "fenced_block",
    "inline_text",
    "needs_a_person",
    "review_markdown",
]

# Characters Markdown or HTML may act on anywhere in a line (`&` starts an entity, `$`
# maths on GitHub, `~` strikethrough, a trailing `#` closes a heading); a backslash
# makes each one literal.
_ANYWHERE = re.compile(r"([\\`*_\[\]<>|~&$#])")
# At the start of a line these begin a list item or a setext underline.
_LINE_START = re.compile(r"^([+=\-])")
_ORDERED_ITEM = re.compile(r"^(\d+)([.)])")
_BACKTICK_RUN = re.compile(r"`+")
_HAS_POINTS = frozenset({"graded", "overridden"})
# What a student reads for a question that failed or is not graded: why (a server's
# error, an offline reason) is for the instructor, in review.md and grades.json.
_NOT_GRADED = "not graded yet"


def inline_text(text: str) -> str:
    """`text` on one line, shown literally wherever Markdown puts it (a paragraph, a list
    item, a heading, a table cell): line breaks become spaces, markup is escaped."""
    flat = " ".join(text.split())
    escaped = _ANYWHERE.sub(r"\\\1", flat)
    escaped = _ORDERED_ITEM.sub(r"\1\\\2", escaped)
    return _LINE_START.sub(r"\\\1", escaped)


def text_lines(text: str) -> list[str]:
    """Several lines of text, each escaped like `inline_text`; paragraph breaks kept."""
    lines: list[str] = []
    for line in text.strip().splitlines():
        shown = inline_text(line)
        if shown or (lines and lines[-1]):
            lines.append(shown)
    return lines


def fenced_block(text: str) -> list[str]:
    """`text` as a fenced code block that nothing inside it can close."""
    longest = max((len(run) for run in _BACKTICK_RUN.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    body = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    return [fence, *body.split("\n"), fence]


def _points_phrase(grade: QuestionGrade) -> str:
    if grade.status in _HAS_POINTS and grade.points is not None:
        return f"{plain_number(grade.points)} of {plain_number(grade.possible)} points"
    if grade.status == "failed":
        return f"failed: {inline_text(grade.error or 'unknown error')}"
    return "ungraded"


def _criteria_lines(grade: QuestionGrade) -> list[str]:
    return [
        f"- {inline_text(score.description)}: {plain_number(score.points_awarded)} of "
        f"{plain_number(score.points_possible)}"
        + (f" — {inline_text(score.reason)}" if score.reason.strip() else "")
        for score in grade.criteria
    ]


def _rubric_table(rubric: Rubric | None) -> list[str]:
    if rubric is None:
        return ["_No rubric for this question._", ""]
    lines = ["| Criterion | Points | Description |", "|---|---:|---|"]
    lines += [
        f"| {inline_text(c.name)} | {plain_number(c.points)} | {inline_text(c.description)} |"
        for c in rubric.criteria
    ]
    return [*lines, ""]


def _quoted(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in text_lines(text)]


def needs_a_person(grade: QuestionGrade) -> bool:
    """Whether a person must look at the question: it is flagged, or it failed."""
    return grade.needs_review or grade.status == "failed"


def _review_items(doc: GradesDocument) -> dict[str, list[tuple[str, QuestionGrade]]]:
    """Question id -> (student, grade) to review, students in natural order."""
    items: dict[str, list[tuple[str, QuestionGrade]]] = {}
    for student in sorted(doc.students, key=lambda grades: natural_key(grades.student)):
        for grade in student.questions:
            if needs_a_person(grade):
                items.setdefault(grade.question_id, []).append((student.student, grade))
    return items


def review_markdown(doc: GradesDocument) -> str:
    """Every item a person must look at, by question in exam order, with what they need
    to grade it: the proposal and why it is flagged, the answer, the rubric."""
    items = _review_items(doc)
    every = [grade for pairs in items.values() for _, grade in pairs]
    failed = sum(1 for grade in every if grade.status == "failed")
    ungraded = sum(1 for grade in every if grade.status == "ungraded")
    lines = [f"# {inline_text(doc.exam.exam_name)} — grades to review", ""]
    lines += [
        f"Assignment {inline_text(doc.assignment)} · {len(every)} items to review "
        f"({failed} failed, {ungraded} ungraded, {len(every) - failed - ungraded} "
        f"graded but flagged) across {len(items)} questions",
        "",
    ]
    if not every:
        lines += ["Nothing needs review.", ""]
    for question in doc.exam.questions:
        if question.question_id in items:
            lines += _review_question(doc, question, items[question.question_id])
    return "\n".join(lines).rstrip() + "\n"


def _review_question(
    doc: GradesDocument, question: Question, pairs: list[tuple[str, QuestionGrade]]
) -> list[str]:
    lines = [
        f"## Question {inline_text(question.question_id)} ({plain_number(question.points)} points)",
        "",
        *_quoted(question.question_text),
        "",
    ]
    for student, grade in pairs:
        lines += _review_item(doc, student, grade)
    return lines


def _review_item(doc: GradesDocument, student: str, grade: QuestionGrade) -> list[str]:
    answer = doc.answers.get(student, {}).get(grade.question_id, "")
    lines = [f"### {inline_text(student)} — {grade.status}", ""]
    lines.append(f"- Proposed: {_points_phrase(grade)}")
    if grade.confidence is not None:
        lines.append(f"- Confidence: {grade.confidence:.2f}")
    if grade.status == "ungraded" and grade.error:
        lines.append(f"- Not graded yet: {inline_text(grade.error)}")
    if grade.review_reasons:
        lines.append("- Why it needs review:")
        lines += [f"  - {inline_text(reason)}" for reason in grade.review_reasons]
    lines += ["", "**Answer**", ""]
    lines += fenced_block(answer) if answer.strip() else ["_no answer found_"]
    lines += ["", "**Rubric**", "", *_rubric_table(doc.rubrics.get(grade.question_id))]
    if grade.criteria:
        lines += ["**Proposed criteria**", "", *_criteria_lines(grade), ""]
    if grade.feedback.strip():
        lines += ["**Proposed feedback**", "", *text_lines(grade.feedback), ""]
    return lines


def feedback_markdown(doc: GradesDocument, student: StudentGrades) -> str:
    """One student's feedback: the total and status, then each question's points, the
    criteria awarded and why, and the feedback text."""
    name = doc.name_of(student.student)
    who = f"{name} ({student.student})" if name else student.student
    lines = [f"# {inline_text(doc.exam.exam_name)} — feedback for {inline_text(who)}", ""]
    lines += _feedback_summary(student)
    questions = {question.question_id: question for question in doc.exam.questions}
    for grade in student.questions:
        lines += _feedback_question(grade, questions.get(grade.question_id))
    return "\n".join(lines).rstrip() + "\n"


def _feedback_summary(student: StudentGrades) -> list[str]:
    total = f"{plain_number(student.total)} of {plain_number(student.possible)} points"
    percent = f"{plain_number(student.percent)}%"
    if student.status == "complete":
        return [f"- Total: {total} ({percent})", "- Status: complete", ""]
    missing = [grade for grade in student.questions if grade.status not in _HAS_POINTS]
    lines = [
        f"- Total so far: {total} ({percent}), not final",
        f"- Status: incomplete — {len(missing)} of {len(student.questions)} questions are "
        "not graded yet; they are not counted as 0:",
    ]
    lines += [f"  - Question {inline_text(g.question_id)}: {_NOT_GRADED}" for g in missing]
    return [*lines, ""]


def _feedback_question(grade: QuestionGrade, question: Question | None) -> list[str]:
    heading = f"## Question {inline_text(grade.question_id)} — "
    if grade.status in _HAS_POINTS and grade.points is not None:
        heading += f"{plain_number(grade.points)} of {plain_number(grade.possible)} points"
        if grade.status == "overridden" or grade.source == "instructor":
            heading += " (instructor's grade)"
    else:
        heading += f"{_NOT_GRADED}, out of {plain_number(grade.possible)} points"
    lines = [heading, ""]
    if question is not None:
        lines += [*_quoted(question.question_text), ""]
    if grade.status not in _HAS_POINTS:
        return lines  # a proposal nobody has confirmed is not for the student yet
    if grade.criteria:
        lines += [*_criteria_lines(grade), ""]
    if grade.feedback.strip():
        lines += [*text_lines(grade.feedback), ""]
    return lines
