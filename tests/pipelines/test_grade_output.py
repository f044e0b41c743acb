"""The files aita grade writes: grades.json, gradebook.csv, canvas.csv, review.md and
feedback/, written for real into tmp_path and read back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from aita_cli.domain.grades import CriterionScore, QuestionGrade, StudentGrades
from aita_cli.domain.instructor_inputs import RosterEntry
from aita_cli.domain.models import ExamSpec, Question, QuestionType, Rubric, RubricCriterion
from aita_cli.errors import InputError
from aita_cli.pipelines.grade_markdown import fenced_block, inline_text
from aita_cli.pipelines.grade_output import (
    GradesDocument,
    canvas_csv,
    feedback_markdown,
    gradebook_csv,
    grades_json,
    review_markdown,
    write_grade_outputs,
)

HOSTILE = "```\n# heading\n<script>alert(1)</script>\n````\n"
EXAM = ExamSpec(
    exam_name="Midterm 1",
    questions=[
        Question(
            question_id="q1",
            question_text="What is 2 + 2?",
            points=4,
            question_type=QuestionType.SHORT_ANSWER,
        ),
        Question(
            question_id="q2",
            question_text="Explain entropy.",
            points=6,
            question_type=QuestionType.LONG_ANSWER,
        ),
        Question(
            question_id="q3",
            question_text="Pick one.",
            points=2,
            question_type=QuestionType.MULTIPLE_CHOICE,
        ),
    ],
)
RUBRICS = {
    "q2": Rubric(
        question_id="q2",
        total_points=6,
        criteria=[
            RubricCriterion(name="Definition", description="States the definition", points=4),
            RubricCriterion(name="Example", description="Gives an example", points=2),
        ],
    )
}


def _graded(qid: str, points: float, possible: float, **extra: object) -> QuestionGrade:
    criteria = [
        CriterionScore(description="Correct", points_possible=possible, points_awarded=points)
    ]
    return QuestionGrade.model_validate(
        {
            "question_id": qid,
            "status": "graded",
            "points": points,
            "possible": possible,
            "criteria": criteria,
            "source": "model",
            **extra,
        }
    )


def _overridden(qid: str, points: float, possible: float) -> QuestionGrade:
    return QuestionGrade(
        question_id=qid,
        status="overridden",
        points=points,
        possible=possible,
        feedback="Regraded by hand.",
        source="instructor",
    )


def _ungraded(qid: str, possible: float) -> QuestionGrade:
    return QuestionGrade(
        question_id=qid,
        status="ungraded",
        possible=possible,
        needs_review=True,
        review_reasons=["offline: <script>alert(1)</script> no model to grade a long answer"],
        source="offline-auto",
    )


def _failed(qid: str, possible: float) -> QuestionGrade:
    return QuestionGrade(
        question_id=qid, status="failed", possible=possible, error="timed out after 3 retries"
    )


def _students() -> list[StudentGrades]:
    s1 = StudentGrades.from_questions(
        "s1",
        [
            _graded("q1", 3, 4, needs_review=True, review_reasons=["low confidence"]),
            _ungraded("q2", 6),
            _graded("q3", 0, 2, needs_review=True, review_reasons=["no answer found"]),
        ],
    )
    s2 = StudentGrades.from_questions(
        "s2", [_graded("q1", 2.5, 4), _failed("q2", 6), _graded("q3", 2, 2)]
    )
    s10 = StudentGrades.from_questions(
        "s10",
        [
            _graded("q1", 4, 4, feedback="# heading\n\nGood <b>work</b>."),
            _overridden("q2", 5, 6),
            _graded("q3", 2, 2),
        ],
    )
    return [s10, s2, s1]  # deliberately not in natural order


ROSTER = [
    RosterEntry(student="s10", name='=HYPERLINK("http://evil")', id="110", section="A"),
    RosterEntry(student="s1", name="Ada Lovelace", id="101", sis_user_id="U1", section="B"),
    RosterEntry(student="s99", name="Nobody Graded", id="199"),
]


def _doc(roster: list[RosterEntry] | None = ROSTER) -> GradesDocument:
    return GradesDocument(
        assignment="midterm",
        exam=EXAM,
        students=_students(),
        roster=roster,
        answers={"s1": {"q1": "4", "q2": HOSTILE}, "s2": {"q1": "five", "q2": ""}},
        rubrics=RUBRICS,
    )


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_gradebook_rows_in_natural_order_with_blank_cells_for_failed_and_ungraded() -> None:
    rows = _rows(gradebook_csv(_doc()))
    assert rows[0] == [
        "student",
        "name",
        "q1",
        "q2",
        "q3",
        "total",
        "possible",
        "percent",
        "status",
        "needs_review",
    ]
    assert rows[1] == ["s1", "Ada Lovelace", "3", "", "0", "3", "12", "25", "incomplete", "yes"]
    # A failed question needs a person even when nothing flagged it.
    assert rows[2] == ["s2", "", "2.5", "", "2", "4.5", "12", "37.5", "incomplete", "yes"]
    # A formula-looking name is kept as text; the overridden grade counts.
    assert rows[3] == [
        "s10",
        '\'=HYPERLINK("http://evil")',
        "4",
        "5",
        "2",
        "11",
        "12",
        "91.67",
        "complete",
        "no",
    ]


def test_canvas_csv_follows_the_import_format_and_leaves_incomplete_scores_blank() -> None:
    result = canvas_csv(_doc())
    assert result is not None
    text, warnings = result
    rows = _rows(text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Midterm 1"]
    assert rows[1] == ["Points Possible", "", "", "", "", "12"]
    assert rows[2:] == [
        ['\'=HYPERLINK("http://evil")', "110", "", "", "A", "11"],
        ["Ada Lovelace", "101", "U1", "", "B", ""],
    ]
    assert warnings == [
        "canvas.csv: s2 is graded but not on the roster; left out",
        "canvas.csv: s99 is on the roster but has no grades",
        "canvas.csv: score left blank for 1 incomplete student(s) (not graded yet): s1",
    ]


def test_canvas_uses_the_student_key_when_the_roster_has_no_name() -> None:
    result = canvas_csv(_doc([RosterEntry(student="s10")]))
    assert result is not None
    assert _rows(result[0])[2] == ["s10", "", "", "", "", "11"]
    assert canvas_csv(_doc(None)) is None


def test_grades_json_has_whole_points_as_integers_and_a_summary() -> None:
    data = grades_json(_doc())
    assert [student["student"] for student in data["students"]] == ["s1", "s2", "s10"]
    assert data["summary"] == {
        "students": 3,
        "complete": 1,
        "incomplete": 2,
        "mean_percent": 91.67,
        "median_percent": 91.67,
        "items_flagged": 3,
        "items_failed": 1,
        "items_ungraded": 1,
    }
    s2 = data["students"][1]
    assert s2["total"] == 4.5
    assert s2["possible"] == 12
    assert isinstance(s2["possible"], int)
    assert s2["questions"][1]["points"] is None
    assert s2["questions"][1]["error"] == "timed out after 3 retries"


def test_summary_means_are_none_without_complete_students() -> None:
    doc = _doc()
    only_incomplete = GradesDocument(
        assignment=doc.assignment,
        exam=doc.exam,
        students=[s for s in doc.students if s.status == "incomplete"],
        roster=None,
        answers={},
        rubrics={},
    )
    summary = grades_json(only_incomplete)["summary"]
    assert summary["mean_percent"] is None
    assert summary["median_percent"] is None


def test_every_file_is_written_and_parses_back(tmp_path: Path) -> None:
    grades_dir = tmp_path / "results" / "grades"
    paths, warnings = write_grade_outputs(grades_dir, _doc())
    names = [path.relative_to(grades_dir).as_posix() for path in paths]
    assert names == [
        "grades.json",
        "gradebook.csv",
        "canvas.csv",
        "review.md",
        "feedback/s1.md",
        "feedback/s2.md",
        "feedback/s10.md",
    ]
    assert len(warnings) == 3
    data = json.loads((grades_dir / "grades.json").read_text(encoding="utf-8"))
    assert data["assignment"] == "midterm"
    assert data["exam_name"] == "Midterm 1"
    for name in ("gradebook.csv", "canvas.csv"):
        rows = _rows((grades_dir / name).read_text(encoding="utf-8"))
        assert len({len(row) for row in rows}) == 1  # a rectangle
    assert all(path.read_text(encoding="utf-8").endswith("\n") for path in paths)


def test_a_stale_canvas_csv_goes_when_the_roster_does(tmp_path: Path) -> None:
    write_grade_outputs(tmp_path, _doc())
    assert (tmp_path / "canvas.csv").is_file()
    paths, warnings = write_grade_outputs(tmp_path, _doc(None))
    assert not (tmp_path / "canvas.csv").exists()
    assert tmp_path / "canvas.csv" not in paths
    assert warnings == []


def test_two_students_on_one_feedback_file_stop_before_anything_is_written(
    tmp_path: Path,
) -> None:
    doc = _doc()
    clashing = GradesDocument(
        assignment=doc.assignment,
        exam=doc.exam,
        students=doc.students,
        roster=None,
        answers={},
        rubrics={},
        output_names={"s1": "same", "s2": "same"},
    )
    with pytest.raises(InputError, match=r"s1 and s2 would share feedback/same\.md"):
        write_grade_outputs(tmp_path, clashing)
    assert not (tmp_path / "grades.json").exists()


def test_review_groups_items_by_question_with_the_rubric_beside_each() -> None:
    text = review_markdown(_doc())
    assert "4 items to review (1 failed, 1 ungraded, 2 graded but flagged)" in text
    q1, q2, q3 = (text.index(f"## Question {qid} ") for qid in ("q1", "q2", "q3"))
    assert q1 < q2 < q3
    assert "## Question q2 (6 points)" in text
    section = text[q2:q3]
    assert section.index("### s1 — ungraded") < section.index("### s2 — failed")
    assert "- Proposed: failed: timed out after 3 retries" in section
    assert "- Proposed: ungraded" in section
    assert section.count("| Definition | 4 | States the definition |") == 2
    s2_item = section[section.index("### s2") :]
    assert "_no answer found_" in s2_item
    assert "- Proposed: 0 of 2 points" in text[q3:]
    assert "### s10" not in text  # nothing of s10 needs review


def test_review_says_so_when_nothing_needs_review() -> None:
    doc = _doc()
    calm = GradesDocument(
        assignment=doc.assignment,
        exam=doc.exam,
        students=[s for s in doc.students if s.student == "s10"],
        roster=None,
        answers={},
        rubrics={},
    )
    assert "Nothing needs review." in review_markdown(calm)


def test_answers_are_fenced_longer_than_any_backticks_inside() -> None:
    block = fenced_block(HOSTILE)
    assert block[0] == block[-1] == "`````"
    assert block[1:-1] == ["```", "# heading", "<script>alert(1)</script>", "````"]
    assert fenced_block("plain")[0] == "```"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("# heading", "\\# heading"),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("*bold* _it_ [link](x) a|b `code`", "\\*bold\\* \\_it\\_ \\[link\\](x) a\\|b \\`code\\`"),
        ("- item", "\\- item"),
        ("1. item", "1\\. item"),
        ("line one\nline two", "line one line two"),
        ("back\\slash &amp;", "back\\\\slash \\&amp;"),
    ],
)
def test_inline_text_escapes_markup(text: str, shown: str) -> None:
    assert inline_text(text) == shown


def test_student_text_renders_as_text_not_markup() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark").enable("table")
    doc = _doc()
    review_html = renderer.render(review_markdown(doc))
    feedback_html = renderer.render(feedback_markdown(doc, doc.students[0]))  # s10
    for html in (review_html, feedback_html):
        assert "<script>" not in html
        assert "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in review_html
    assert "<code>```\n# heading\n" in review_html  # the answer, whole, in one block
    assert "<h1>heading</h1>" not in feedback_html
    assert "# heading" in feedback_html


def test_feedback_marks_instructor_grades_and_never_shows_a_zero_for_missing() -> None:
    doc = _doc()
    s10, s2 = doc.students[0], doc.students[1]
    complete = feedback_markdown(doc, s10)
    assert complete.startswith("# Midterm 1 — feedback for \\=HYPERLINK")
    assert "- Total: 11 of 12 points (91.67%)" in complete
    assert "## Question q2 — 5 of 6 points (instructor's grade)" in complete
    assert "## Question q1 — 4 of 4 points\n" in complete
    assert "Regraded by hand." in complete
    incomplete = feedback_markdown(doc, s2)
    assert "- Total so far: 4.5 of 12 points (37.5%), not final" in incomplete
    assert "1 of 3 questions are not graded yet; they are not counted as 0" in incomplete
    assert "  - Question q2: not graded yet\n" in incomplete
    assert "## Question q2 — not graded yet, out of 6 points" in incomplete
    assert "0 of 6" not in incomplete
    assert "- Correct: 2.5 of 4" in incomplete


def test_feedback_never_shows_a_student_the_error_or_the_reason_it_is_not_graded() -> None:
    doc = _doc()
    server = "http://127.0.0.1:8080/v1 server error (502)"
    failed = QuestionGrade(question_id="q3", status="failed", possible=2, error=server)
    s1 = StudentGrades.from_questions("s1", [_graded("q1", 3, 4), _ungraded("q2", 6), failed])
    text = feedback_markdown(doc, s1)
    for qid, possible in (("q2", 6), ("q3", 2)):
        assert f"  - Question {qid}: not graded yet\n" in text
        assert f"## Question {qid} — not graded yet, out of {possible} points\n" in text
    for internal in ("127.0.0.1", "502", "offline", "script", "failed"):
        assert internal not in text
    assert server in review_markdown(_doc_with(s1))
    assert grades_json(_doc_with(s1))["students"][0]["questions"][2]["error"] == server


def _doc_with(*students: StudentGrades) -> GradesDocument:
    doc = _doc()
    return GradesDocument(doc.assignment, doc.exam, list(students), doc.roster, doc.answers,
                          doc.rubrics)  # fmt: skip


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("-1", "-1"),
        ("+44", "+44"),
        ("S1001", "S1001"),
        ("1001", "1001"),
        ("=1+2", "'=1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("+44+cmd", "'+44+cmd"),
        ("-2+3", "'-2+3"),
        ("-", "'-"),
        ("+A1", "'+A1"),
    ],
)
def test_canvas_guards_only_cells_that_could_be_formulas(cell: str, written: str) -> None:
    entry = RosterEntry(student="s10", name="Ann", id=cell, sis_user_id=cell,
                        sis_login_id=cell, section=cell)  # fmt: skip
    result = canvas_csv(_doc([entry]))
    assert result is not None
    assert _rows(result[0])[2] == ["Ann", written, written, written, written, "11"]
