"""Loading an assignment folder: the sample loads; every bad input is one line naming the
file and the problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aita_cli.domain.assignment import load_assignment, validate_assignment_name
from aita_cli.domain.models import QuestionType
from aita_cli.errors import InputError

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


def exam(**changes: Any) -> dict[str, Any]:
    questions = [
        {"question_id": "1", "question_text": "Pick one.", "points": 2,
         "question_type": "multiple_choice"},
        {"question_id": "2b", "question_text": "Explain.", "points": 4,
         "question_type": "long_answer", "page_number": 1},
        {"question_id": 10, "question_text": "Compute.", "points": 2.5,
         "question_type": "calculation"},
    ]  # fmt: skip
    return {"exam_name": "Quiz", "questions": questions, **changes}


def make_assignment(data_dir: Path, files: dict[str, Any], name: str = "quiz") -> Path:
    root = data_dir / name
    root.mkdir(parents=True)
    for file_name, content in files.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (root / file_name).write_text(text, encoding="utf-8")
    return root


def load_error(tmp_path: Path, files: dict[str, Any]) -> str:
    make_assignment(tmp_path, files)
    with pytest.raises(InputError) as caught:
        load_assignment(tmp_path, "quiz")
    message = str(caught.value)
    assert "\n" not in message
    assert not (tmp_path / "quiz" / "results").exists()
    return message


def test_sample_assignment_loads() -> None:
    assignment = load_assignment(SAMPLE_DATA, "sample_exam")
    questions = assignment.exam.questions
    assert assignment.exam.exam_name == "Introduction to Science — Midterm"
    assert {q.question_type for q in questions} == set(QuestionType)
    assert [q.question_id for q in questions][:3] == ["1", "2a", "2b"]
    assert questions[-1].question_id == "10"
    assert any(q.points % 1 for q in questions)
    assert all(q.page_number in (1, 2, 3) for q in questions)
    assert assignment.instructions
    assert 2 <= len(assignment.question_instructions) <= 3
    (rubric,) = assignment.user_rubrics.values()
    assert rubric.source == "user"
    assert rubric.total_points == assignment.exam.question(rubric.question_id).points  # type: ignore[union-attr]
    assert assignment.results_dir == SAMPLE_DATA / "sample_exam" / "results"
    assert assignment.submissions_dir == SAMPLE_DATA / "sample_exam" / "submissions"


def test_minimal_assignment_has_no_optional_parts(tmp_path: Path) -> None:
    make_assignment(tmp_path, {"exam.json": exam()})
    assignment = load_assignment(tmp_path, "quiz")
    assert assignment.instructions is None
    assert assignment.question_instructions == {}
    assert assignment.user_rubrics == {}
    assert assignment.exam.questions[2].question_id == "10"


def test_user_rubric_is_completed_from_its_question(tmp_path: Path) -> None:
    rubric = {"criteria": [{"name": "idea", "points": 3}, {"name": "clarity", "points": 1}]}
    make_assignment(tmp_path, {"exam.json": exam(), "user_rubrics.json": {"2b": rubric}})
    loaded = load_assignment(tmp_path, "quiz").user_rubrics["2b"]
    assert (loaded.question_id, loaded.total_points, loaded.source) == ("2b", 4, "user")


@pytest.mark.parametrize(
    "name", ["", "  ", "../other", "a/b", "a\\b", "..", ".hidden", "x..y", "nul\x00"]
)
def test_bad_assignment_names_are_rejected(name: str) -> None:
    with pytest.raises(InputError, match="invalid assignment name"):
        validate_assignment_name(name)


def test_path_like_name_is_rejected_before_touching_disk(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="invalid assignment name"):
        load_assignment(tmp_path, "../etc")


def test_missing_data_dir(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"data directory .* does not exist"):
        load_assignment(tmp_path / "nowhere", "quiz")


def test_missing_assignment_lists_the_folders_there(tmp_path: Path) -> None:
    for folder in ("week10", "week2", ".git"):
        (tmp_path / folder).mkdir()
    with pytest.raises(InputError) as caught:
        load_assignment(tmp_path, "quiz")
    assert str(caught.value) == f"no assignment 'quiz' in {tmp_path} (folders there: week2, week10)"


def test_missing_exam_json(tmp_path: Path) -> None:
    assert load_error(tmp_path, {}).startswith("quiz/exam.json: not found")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"exam_name": "Quiz",\n  "questions": [,]}', "invalid JSON at line 2, column 17"),
        ('{"exam_name": "Quiz", "questions": [{"points": NaN}]}', "NaN is not valid JSON"),
        ("[1, 2]", "expected a JSON object with exam_name and questions"),
    ],
)
def test_bad_exam_json(tmp_path: Path, content: str, expected: str) -> None:
    message = load_error(tmp_path, {"exam.json": content})
    assert message.startswith("quiz/exam.json: ")
    assert expected in message


def test_points_too_large_for_a_float_are_rejected(tmp_path: Path) -> None:
    content = json.dumps(exam()).replace('"points": 2,', '"points": 1e400,', 1)
    message = load_error(tmp_path, {"exam.json": content})
    assert message == "quiz/exam.json: question 1 (id '1'): points: input should be a finite number"


def test_results_that_is_a_file_is_rejected_before_anything_runs(tmp_path: Path) -> None:
    root = make_assignment(tmp_path, {"exam.json": exam(), "results": "oops"})
    with pytest.raises(InputError) as caught:
        load_assignment(tmp_path, "quiz")
    assert (
        str(caught.value)
        == "quiz/results: exists but is not a folder (aita writes its results there)"
    )
    assert (root / "results").read_text(encoding="utf-8") == "oops"


def test_exam_that_is_not_utf8(tmp_path: Path) -> None:
    root = make_assignment(tmp_path, {})
    (root / "exam.json").write_bytes(b'{"exam_name": "Qu\xe9"}')
    with pytest.raises(InputError, match=r"quiz/exam.json: not UTF-8 text"):
        load_assignment(tmp_path, "quiz")


def with_question(index: int, **changes: Any) -> dict[str, Any]:
    data = exam()
    data["questions"][index].update(changes)
    return data


def without(index: int, field: str) -> dict[str, Any]:
    data = exam()
    del data["questions"][index][field]
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"questions": exam()["questions"]}, "quiz/exam.json: missing field 'exam_name'"),
        (exam(questions=[]), "quiz/exam.json: questions must not be empty"),
        (
            without(1, "points"),
            "quiz/exam.json: question 2 (id '2b'): missing field 'points'",
        ),
        (
            with_question(1, points=0),
            "quiz/exam.json: question 2 (id '2b'): points must be greater than 0",
        ),
        (
            with_question(0, points=-1),
            "quiz/exam.json: question 1 (id '1'): points must be greater than 0",
        ),
        (
            with_question(2, points="lots"),
            "quiz/exam.json: question 3 (id '10'): points must be a number, not 'lots'",
        ),
        (
            with_question(1, question_type="essay"),
            "quiz/exam.json: question 2 (id '2b'): unknown question_type 'essay' (allowed: "
            "multiple_choice, short_answer, long_answer, calculation, diagram)",
        ),
        (
            with_question(2, question_id="1"),
            "quiz/exam.json: question 3: duplicate question_id '1' (also question 1)",
        ),
        (
            with_question(0, question_text=""),
            "quiz/exam.json: question 1 (id '1'): question_text must not be empty",
        ),
        (exam(questions=["oops"]), "quiz/exam.json: questions item 1: "),
        (
            with_question(0, points=True),
            "quiz/exam.json: question 1 (id '1'): points must be a number, not true or false",
        ),
    ],
)
def test_invalid_exam_fields(tmp_path: Path, data: dict[str, Any], expected: str) -> None:
    assert load_error(tmp_path, {"exam.json": data}).startswith(expected)


def test_several_problems_are_counted(tmp_path: Path) -> None:
    data = with_question(0, points=0, question_type="essay")
    assert load_error(tmp_path, {"exam.json": data}).endswith("(and 1 more problems)")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (["x"], "expected a JSON object mapping question ids to text"),
        ({"7": "look for units"}, "unknown question '7' (exam questions: 1, 2b, 10)"),
        ({"1": 5}, "the entry for question '1' must be text"),
        (
            "{oops",
            "invalid JSON at line 1, column 2: Expecting property name enclosed in double quotes",
        ),
    ],
)
def test_bad_question_instructions(tmp_path: Path, content: Any, expected: str) -> None:
    message = load_error(tmp_path, {"exam.json": exam(), "question_instructions.json": content})
    assert message == f"quiz/question_instructions.json: {expected}"


def criteria(*points: float) -> list[dict[str, Any]]:
    return [{"name": f"part {n}", "points": p} for n, p in enumerate(points, 1)]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"3": {"criteria": criteria(1)}}, "unknown question '3' (exam questions: 1, 2b, 10)"),
        (
            {"2b": {"criteria": criteria(1, 2)}},
            "question '2b': criteria points sum to 3, but the question is worth 4 points",
        ),
        (
            {"10": {"total_points": 3, "criteria": criteria(1.5, 1.5)}},
            "question '10': total_points is 3 but the question is worth 2.5 points",
        ),
        (
            {"1": {"question_id": "2b", "criteria": criteria(2)}},
            "question '1': question_id '2b' does not match its key",
        ),
        ({"1": {"criteria": []}}, "question '1': criteria must not be empty"),
        (
            {"1": {"criteria": [{"name": "x", "points": -1}, {"name": "y", "points": 3}]}},
            "question '1': criterion 1: points must be at least 0",
        ),
        ({"1": "full marks"}, "question '1': expected a rubric object with criteria"),
        (
            {"1": {"criteria": [{"name": "x", "points": True}, {"name": "y", "points": 1}]}},
            "question '1': criterion 1: points must be a number, not true or false",
        ),
        ([], "expected a JSON object mapping question ids to rubrics"),
    ],
)
def test_bad_user_rubrics(tmp_path: Path, content: Any, expected: str) -> None:
    message = load_error(tmp_path, {"exam.json": exam(), "user_rubrics.json": content})
    assert message == f"quiz/user_rubrics.json: {expected}"


def test_user_rubric_points_compare_without_float_noise(tmp_path: Path) -> None:
    rubric = {"criteria": criteria(0.1, 0.2, 2.2)}
    make_assignment(tmp_path, {"exam.json": exam(), "user_rubrics.json": {"10": rubric}})
    assert load_assignment(tmp_path, "quiz").user_rubrics["10"].total_points == 2.5


def test_instructions_are_stripped_and_blank_is_none(tmp_path: Path) -> None:
    make_assignment(tmp_path, {"exam.json": exam(), "instructions.txt": "  \n"})
    assert load_assignment(tmp_path, "quiz").instructions is None


def test_a_name_too_long_for_the_file_system_is_one_line_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot open assignment 'aaa.*: File name too long"):
        load_assignment(tmp_path, "a" * 300)
