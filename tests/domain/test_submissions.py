"""Finding students' pages: natural order, bad files failing only their student, skipped
files warned about, safe and distinct output names, and the --student filter."""

from __future__ import annotations

from pathlib import Path

import pytest

from aita_cli.domain.assignment import Assignment, load_assignment
from aita_cli.domain.models import ExamSpec, Question, QuestionType
from aita_cli.domain.submissions import SubmissionScan, scan_submissions
from aita_cli.errors import InputError
from tests.domain.builders import make_encrypted_pdf, make_image, make_pdf

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def assignment_at(root: Path) -> Assignment:
    question = Question(
        question_id="1", question_text="q", points=1, question_type=QuestionType.SHORT_ANSWER
    )
    exam = ExamSpec(exam_name="Quiz", questions=[question])
    return Assignment(
        name=root.name, root=root, exam=exam, instructions=None,
        question_instructions={}, user_rubrics={},
    )  # fmt: skip


@pytest.fixture
def submissions(tmp_path: Path) -> Path:
    folder = tmp_path / "quiz" / "submissions"
    folder.mkdir(parents=True)
    return folder


def scan(submissions: Path, only: tuple[str, ...] = ()) -> SubmissionScan:
    return scan_submissions(assignment_at(submissions.parent), only)


def test_sample_submissions() -> None:
    result = scan_submissions(load_assignment(SAMPLE_DATA, "sample_exam"))
    assert result.warnings == []
    assert [s.name for s in result.students] == ["alice", "bob", "carol"]
    for student in result.students:
        assert student.problems == []
        assert [p.page_number for p in student.pages] == [1, 2, 3]
        assert all(p.student == student.name for p in student.pages)
    bob = result.students[1]
    assert [p.source_path.name for p in bob.pages] == ["page1.png", "page2.jpg", "page10.png"]
    alice = result.students[0]
    assert [p.pdf_page_index for p in alice.pages] == [0, 1, 2]
    assert {p.source_kind for p in alice.pages} == {"pdf"}


def test_folder_mixes_pdfs_and_images_in_natural_order(submissions: Path) -> None:
    folder = submissions / "dana"
    folder.mkdir()
    make_image(folder / "scan10.png")
    make_pdf(folder / "scan2.pdf", pages=2)
    make_image(folder / "scan1.JPG")
    (folder / ".DS_Store").write_bytes(b"junk")
    (dana,) = scan(submissions).students
    assert [(p.page_number, p.source_path.name, p.pdf_page_index) for p in dana.pages] == [
        (1, "scan1.JPG", None),
        (2, "scan2.pdf", 0),
        (3, "scan2.pdf", 1),
        (4, "scan10.png", None),
    ]


def test_students_in_natural_order(submissions: Path) -> None:
    for name in ("student10", "student2", "Student1"):
        make_pdf(submissions / f"{name}.pdf", pages=1)
    assert [s.name for s in scan(submissions).students] == ["Student1", "student2", "student10"]


def test_bad_files_fail_only_their_student(submissions: Path) -> None:
    make_pdf(submissions / "ok.pdf", pages=2)
    (submissions / "corrupt.pdf").write_bytes(b"%PDF-1.7\nnot really a pdf")
    (submissions / "empty.pdf").write_bytes(b"")
    make_encrypted_pdf(submissions / "locked.pdf")
    (submissions / "frank").mkdir()
    make_image(submissions / "frank" / "p1.png")
    (submissions / "frank" / "p2.png").write_bytes(b"not an image")
    (submissions / "nobody").mkdir()
    students = {s.name: s for s in scan(submissions).students}
    assert len(students["ok"].pages) == 2
    assert students["ok"].problems == []
    expected = {
        "corrupt": "submissions/corrupt.pdf: the PDF is corrupt or not a PDF",
        "empty": "submissions/empty.pdf: the PDF is empty (0 bytes)",
        "locked": "submissions/locked.pdf: the PDF is encrypted",
        "frank": "submissions/frank/p2.png: unreadable image",
        "nobody": "submissions/nobody/: no pages",
    }
    for name, problem in expected.items():
        assert students[name].pages == [], name
        (line,) = students[name].problems
        assert line.startswith(problem), line


def test_unsupported_files_are_skipped_with_a_warning(submissions: Path) -> None:
    (submissions / "bob").mkdir()
    make_image(submissions / "bob" / "page1.png")
    (submissions / "bob" / "notes.docx").write_bytes(b"PK")
    (submissions / "bob" / "extra").mkdir()
    (submissions / "readme.txt").write_text("hi")
    make_image(submissions / "carl.png")
    result = scan(submissions)
    assert [s.name for s in result.students] == ["bob"]
    assert len(result.students[0].pages) == 1
    assert result.warnings == [
        "submissions/carl.png: an image directly in submissions/ is skipped; put a "
        "student's images in a folder, e.g. submissions/carl/",
        "submissions/readme.txt: unsupported file type, skipped",
        "submissions/bob/extra: folder inside a student folder, skipped",
        "submissions/bob/notes.docx: unsupported file type, skipped",
    ]


def test_names_that_normalise_alike_get_distinct_output_names(submissions: Path) -> None:
    for name in ("José", "Jose", "jose", "Jose-2", "index"):
        make_pdf(submissions / f"{name}.pdf", pages=1)
    names = {s.name: s.output_name for s in scan(submissions).students}
    assert names["Jose-2"] == "Jose-2"
    assert names["index"] == "index-2"  # transcripts/index.json belongs to the pipeline
    outputs = [names[n] for n in ("José", "Jose", "jose")]
    assert len({o.casefold() for o in outputs}) == 3
    assert "Jose-2" not in outputs
    assert all(o.casefold().startswith("jose") for o in outputs)


def test_pdf_and_folder_of_one_name_are_both_kept_and_warned(submissions: Path) -> None:
    make_pdf(submissions / "amy.pdf", pages=1)
    (submissions / "amy").mkdir()
    make_image(submissions / "amy" / "p.png")
    result = scan(submissions)
    assert [s.output_name for s in result.students] == ["amy", "amy-2"]
    assert "both name student 'amy'" in result.warnings[0]


def test_path_traversal_looking_names_are_made_safe(submissions: Path) -> None:
    for name in ("..evil", "...", "a b&c", "..\\x"):
        folder = submissions / name
        folder.mkdir()
        make_image(folder / "p.png")
    for student in scan(submissions).students:
        output = student.output_name
        assert output
        assert "/" not in output
        assert "\\" not in output
        assert not output.startswith(".")
        assert (submissions / output).resolve().parent == submissions.resolve()


def test_student_filter(submissions: Path) -> None:
    for name in ("alice", "bob", "carol"):
        make_pdf(submissions / f"{name}.pdf", pages=1)
    (submissions / "bob.docx").write_bytes(b"x")
    result = scan(submissions, only=("carol", "ALICE"))
    assert [s.name for s in result.students] == ["alice", "carol"]


def test_student_filter_takes_file_and_folder_names(submissions: Path) -> None:
    for name in ("alice", "carol"):
        make_pdf(submissions / f"{name}.pdf", pages=1)
    for folder in ("bob", "dan.pdf"):  # the second, a folder whose name ends in .pdf
        (submissions / folder).mkdir()
        make_image(submissions / folder / "p1.png")
    result = scan(submissions, only=("alice.pdf", "bob/", "submissions/carol.pdf", "dan.pdf"))
    assert [s.name for s in result.students] == ["alice", "bob", "carol", "dan.pdf"]


def test_student_filter_keeps_output_names_stable(submissions: Path) -> None:
    make_pdf(submissions / "Amy.pdf", pages=1)
    make_pdf(submissions / "amy!.pdf", pages=1)
    full = {s.name: s.output_name for s in scan(submissions).students}
    (only,) = scan(submissions, only=("amy!",)).students
    assert only.output_name == full["amy!"]


def test_unknown_student_lists_the_known_ones(submissions: Path) -> None:
    for name in ("alice", "bob"):
        make_pdf(submissions / f"{name}.pdf", pages=1)
    with pytest.raises(InputError) as caught:
        scan(submissions, only=("zed",))
    assert str(caught.value) == "no student 'zed' in quiz/submissions (students: alice, bob)"


def test_missing_submissions_folder(tmp_path: Path) -> None:
    (tmp_path / "quiz").mkdir()
    with pytest.raises(InputError, match="quiz/submissions: not found"):
        scan_submissions(assignment_at(tmp_path / "quiz"))


def test_an_empty_submissions_folder_is_an_input_error(submissions: Path) -> None:
    (submissions / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        scan(submissions)
    assert str(caught.value).startswith("quiz/submissions: no student submissions in it")
    assert str(caught.value).endswith("; skipped 1 other file(s)")
