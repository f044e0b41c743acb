"""review.md and feedback/<student>.md: grouped for a grader, kind to a student, and
every piece of student text shown as text."""

from __future__ import annotations

import pytest

from aita_cli.domain.grades import QuestionGrade, StudentGrades
from aita_cli.pipelines.grade_markdown import fenced_block, inline_text
from aita_cli.pipelines.grade_output import (
    GradesDocument,
    feedback_markdown,
    grades_json,
    review_markdown,
)
from tests.pipelines.grade_output_support import (
    HOSTILE,
    doc_with,
    graded_q,
    sample_doc,
    ungraded_q,
)


def test_review_groups_items_by_question_with_the_rubric_beside_each() -> None:
    text = review_markdown(sample_doc())
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
    doc = sample_doc()
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
    doc = sample_doc()
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
    doc = sample_doc()
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
    doc = sample_doc()
    server = "http://127.0.0.1:8080/v1 server error (502)"
    failed = QuestionGrade(question_id="q3", status="failed", possible=2, error=server)
    s1 = StudentGrades.from_questions("s1", [graded_q("q1", 3, 4), ungraded_q("q2", 6), failed])
    text = feedback_markdown(doc, s1)
    for qid, possible in (("q2", 6), ("q3", 2)):
        assert f"  - Question {qid}: not graded yet\n" in text
        assert f"## Question {qid} — not graded yet, out of {possible} points\n" in text
    for internal in ("127.0.0.1", "502", "offline", "script", "failed"):
        assert internal not in text
    assert server in review_markdown(doc_with(s1))
    assert grades_json(doc_with(s1))["students"][0]["questions"][2]["error"] == server
