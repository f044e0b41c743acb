"""`aita grade` end to end against the simulated provider: one streaming batch from
nothing, through 429s and 5xx, resumed after a crash, with the instructor in charge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from aita_cli.cli.app import app
from aita_cli.cli.options import RunOptions
from aita_cli.pipelines.grade import run_grade
from aita_cli.simulate.server import RunningSimulator, SimulatorConfig, start_simulator
from tests.pipelines.rubric_support import isolate_environment
from tests.pipelines.transcribe_support import add_students, env_for, make_assignment

runner = CliRunner()
# The quiz (transcribe_support.EXAM): 1 short answer on page 1; 2a calculation and 10
# long answer on page 2. Three students: 9 grades, 6 pages, 3 keys, 3 rubrics.
STUDENTS = ["alice", "bob", "carol"]


@pytest.fixture
def simulator() -> Iterator[RunningSimulator]:
    with start_simulator(SimulatorConfig(seed=5)) as running:
        yield running


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = make_assignment(tmp_path / "data")
    add_students(root, STUDENTS)
    return tmp_path / "data"


def _env(sim: RunningSimulator, data_dir: Path, **extra: str) -> dict[str, str | None]:
    return env_for(
        data_dir, data_dir.parent / "checkpoints", AITA_PROVIDER="openai",
        AITA_BASE_URL=sim.url, AITA_MODEL="sim", AITA_VISION_MODEL="sim",
        AITA_RENDER_DPI="50", **extra,
    )  # fmt: skip


def _grade(sim: RunningSimulator, data_dir: Path, *args: str, **extra: str) -> Result:
    env = _env(sim, data_dir, **extra)
    return runner.invoke(app, ["grade", "--assignment", "quiz", *args], env=env)


def _grades(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "quiz" / "results" / "grades" / "grades.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _points(data: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (student["student"], question["question_id"]): (question["status"], question["points"])
        for student in data["students"]
        for question in student["questions"]
    }


def test_every_stage_streams_in_one_batch_through_rate_limits_and_server_errors(
    data_dir: Path,
) -> None:
    config = SimulatorConfig(rps=8.0, error_rate=0.25, seed=3)
    with start_simulator(config) as sim:
        result = _grade(sim, data_dir, "--workers", "6", AITA_MAX_RETRIES="8")
        stats = sim.stats()
    assert result.exit_code == 0, result.output
    assert stats["errors"] > 0
    assert stats["rate_limited"] > 0
    data = _grades(data_dir)
    assert [s["student"] for s in data["students"]] == STUDENTS
    for student in data["students"]:
        assert student["status"] == "complete"
        assert student["possible"] == 10
        for question in student["questions"]:
            assert (question["status"], question["source"]) == ("graded", "model")
            awarded = sum(c["points_awarded"] for c in question["criteria"])
            assert awarded == pytest.approx(question["points"])
    results = data_dir / "quiz" / "results"
    assert (results / "rubrics.json").is_file()
    assert json.loads((results / "transcripts" / "bob.json").read_text())["status"] == "complete"


def test_a_rerun_pays_nothing_and_force_regrades_only(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    assert _grade(simulator, data_dir).exit_code == 0
    first = simulator.stats()["completions"]
    before = _points(_grades(data_dir))

    again = _grade(simulator, data_dir)
    assert again.exit_code == 0, again.output
    assert simulator.stats()["completions"] == first  # everything kept, nothing paid
    assert _points(_grades(data_dir)) == before

    forced = _grade(simulator, data_dir, "--force")
    assert forced.exit_code == 0, forced.output
    regraded = simulator.stats()["completions"] - first
    assert 0 < regraded <= 9  # grades only: keys, rubrics and pages are reused
    assert _points(_grades(data_dir)) == before  # the simulator is deterministic


def test_instructor_overrides_are_applied_as_given_and_survive_force(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    overrides = {"alice": {"10": {"points": 4.5, "comment": "Discussed in office hours."}}}
    (data_dir / "quiz" / "grade_overrides.json").write_text(json.dumps(overrides))
    for args in ((), ("--force",)):
        result = _grade(simulator, data_dir, *args)
        assert result.exit_code == 0, result.output
        alice = _grades(data_dir)["students"][0]
        essay = next(q for q in alice["questions"] if q["question_id"] == "10")
        assert (essay["status"], essay["points"], essay["source"]) == (
            "overridden", 4.5, "instructor",
        )  # fmt: skip
        assert essay["feedback"] == "Discussed in office hours."
    feedback = (data_dir / "quiz" / "results" / "grades" / "feedback" / "alice.md").read_text()
    assert "instructor" in feedback


def test_resume_after_a_crash_in_the_middle_of_grading_pays_only_for_what_is_missing(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    assert _grade(simulator, data_dir).exit_code == 0
    first = simulator.stats()["completions"]
    expected = _points(_grades(data_dir))
    # The crash: the journal kept its first half, and no result file was written.
    (journal,) = (data_dir.parent / "checkpoints").glob("quiz_grade_*.checkpoint.jsonl")
    lines = journal.read_text(encoding="utf-8").splitlines()
    records = [line for line in lines if json.loads(line).get("type") == "task"]
    journal.write_text("\n".join([lines[0], *records[: len(records) // 2]]) + "\n")
    for path in sorted((data_dir / "quiz" / "results").rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()

    result = _grade(simulator, data_dir, "--resume")

    assert result.exit_code == 0, result.output
    resumed = simulator.stats()["completions"] - first
    assert 0 < resumed < first
    assert "from the checkpoint" in result.output or "reused" in result.output
    assert _points(_grades(data_dir)) == expected


def test_sharing_calls_saves_requests_and_changes_no_grade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate_environment(monkeypatch, tmp_path)
    exam = {
        "exam_name": "Quiz",
        "questions": [
            {"question_id": str(n), "question_text": f"Short question {n}?", "points": 2,
             "question_type": "short_answer" if n % 2 else "multiple_choice", "page_number": 1}
            for n in range(1, 5)
        ],
    }  # fmt: skip
    # The instructor's keys and rubrics: the batch is pages and grades, and each student's
    # four grades are released together when their page is done.
    keys = {str(n): {"correct_answer": "B"} for n in range(1, 5)}
    rubrics = {
        str(n): {"criteria": [{"name": "Correct", "points": 1}, {"name": "Clear", "points": 1}]}
        for n in range(1, 5)
    }
    grades = {}
    requests = {}
    for size in (1, 8):
        data_dir = tmp_path / f"data{size}"
        root = make_assignment(data_dir, exam=exam)
        (root / "user_answer_keys.json").write_text(json.dumps(keys))
        (root / "user_rubrics.json").write_text(json.dumps(rubrics))
        add_students(root, ["alice", "bob"], pages=1)
        with start_simulator(SimulatorConfig(seed=5)) as sim:
            for name, value in _env(sim, data_dir, AITA_CHECKPOINT_DIR=str(data_dir)).items():
                if value is None:
                    monkeypatch.delenv(name, raising=False)
                else:
                    monkeypatch.setenv(name, value)
            outcome = run_grade(
                RunOptions(assignment="quiz"), executor_overrides={"max_batch_size": size}
            )
            assert outcome.exit_code == 0
            requests[size] = sim.stats()["requests"]
        grades[size] = _points(_grades(data_dir))
    # 2 pages, then 8 grades: one call each, or one per student.
    assert requests[1] == 10
    assert requests[8] == 4
    assert grades[1] == grades[8]


def _edit_question(data_dir: Path, qid: str, text: str) -> None:
    exam_file = data_dir / "quiz" / "exam.json"
    exam = json.loads(exam_file.read_text())
    next(q for q in exam["questions"] if q["question_id"] == qid)["question_text"] = text
    exam_file.write_text(json.dumps(exam))


def test_editing_one_question_pays_only_for_that_question(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    assert _grade(simulator, data_dir).exit_code == 0
    first = simulator.stats()["completions"]
    _edit_question(data_dir, "2a", "Compute 7 times 6.")

    again = _grade(simulator, data_dir)

    assert again.exit_code == 0, again.output
    # Its answer key and rubric, and its three students' grades: nothing else.
    assert simulator.stats()["completions"] - first == 5
    rubrics = json.loads((data_dir / "quiz" / "results" / "rubrics.json").read_text())
    assert rubrics["complete"] is True


def test_a_narrowed_run_leaves_the_other_questions_entries_as_they_were(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    assert _grade(simulator, data_dir).exit_code == 0
    rubrics_file = data_dir / "quiz" / "results" / "rubrics.json"
    before = {e["question_id"]: e for e in json.loads(rubrics_file.read_text())["rubrics"]}
    _edit_question(data_dir, "10", "Explain why sunsets are red.")

    assert _grade(simulator, data_dir, "--question", "1").exit_code == 0

    after = {e["question_id"]: e for e in json.loads(rubrics_file.read_text())["rubrics"]}
    assert after["10"] == before["10"]  # stale now, but kept as it was (and still stale)
    assert after["1"]["status"] == "ok"
    essay = next(q for q in _grades(data_dir)["students"][0]["questions"]
                 if q["question_id"] == "10")  # fmt: skip
    assert essay["status"] == "graded"  # not selected: last run's grade stays


def test_a_budget_stop_keeps_earlier_grades_and_resume_pays_only_for_the_rest(
    simulator: RunningSimulator, data_dir: Path
) -> None:
    assert _grade(simulator, data_dir).exit_code == 0
    first = simulator.stats()["completions"]
    before = _points(_grades(data_dir))
    _edit_question(data_dir, "2a", "Compute 7 times 6.")

    stopped = _grade(simulator, data_dir, "--max-cost", "0.000001", "--workers", "1")

    assert stopped.exit_code == 3, stopped.output
    kept = _points(_grades(data_dir))
    assert kept[("alice", "1")] == before[("alice", "1")]  # not lost to the stop
    resumed = _grade(simulator, data_dir, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert simulator.stats()["completions"] - first == 5  # 2a's key, rubric, 3 grades
    after = _points(_grades(data_dir))
    assert {k: v for k, v in after.items() if k[1] != "2a"} == {
        k: v for k, v in before.items() if k[1] != "2a"
    }
    assert all(after[(s, "2a")][0] == "graded" for s in STUDENTS)
