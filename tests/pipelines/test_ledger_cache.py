"""The cost ledger and response cache end to end, against the simulated provider:
every attempt is in the ledger, an unchanged rerun pays nothing, an edited question
pays only for itself; and `aita costs` and `aita status` read what is there."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aita_cli.cli.app import app
from aita_cli.simulate.server import RunningSimulator, SimulatorConfig, start_simulator
from aita_cli.store import DATABASE_NAME, Store
from tests.pipelines.transcribe_support import add_students, env_for, make_assignment

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AITA_NO_CACHE")  # these tests are about the cache
    add_students(make_assignment(tmp_path / "data"), ["alice", "bob", "carol"])
    return tmp_path / "data"


def _aita(sim: RunningSimulator, data_dir: Path, *args: str, **extra: str) -> Result:
    env = env_for(
        data_dir, data_dir.parent / "checkpoints", AITA_PROVIDER="openai",
        AITA_BASE_URL=sim.url, AITA_MODEL="sim", AITA_VISION_MODEL="sim",
        AITA_RENDER_DPI="50", **extra,
    )  # fmt: skip
    return runner.invoke(app, [*args], env=env)


def _store(cache_dir: Path) -> Store:
    return Store.open(cache_dir)


def test_the_ledger_holds_every_attempt_and_agrees_with_the_provider(
    data_dir: Path, cache_dir: Path
) -> None:
    with start_simulator(SimulatorConfig(rps=8.0, error_rate=0.25, seed=3)) as sim:
        result = _aita(sim, data_dir, "grade", "-a", "quiz", "--workers", "6",
                       AITA_MAX_RETRIES="8")  # fmt: skip
        stats = sim.stats()
    assert result.exit_code == 0, result.output
    with _store(cache_dir) as store:
        rows = store.rows("quiz")
        assert store.spent("quiz") == pytest.approx(stats["cost"], abs=1e-9)
    assert len([row for row in rows if row.status == "success"]) == stats["completions"]
    assert any(row.status == "failed" and row.error for row in rows)  # 5xx and 429s too
    # The keys, rubrics and pages aita grade made count as what they are.
    assert {row.operation for row in rows} == {"rubric", "transcribe", "grade"}


def test_an_unchanged_rerun_pays_nothing_and_an_edit_pays_only_for_itself(
    data_dir: Path,
) -> None:
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        assert _aita(sim, data_dir, "grade", "-a", "quiz").exit_code == 0
        first = sim.stats()["requests"]
        forced = _aita(sim, data_dir, "grade", "-a", "quiz", "--force")
        assert forced.exit_code == 0, forced.output
        assert sim.stats()["requests"] == first  # every reply came from the cache
        assert "from the cache" in forced.output
        exam_file = data_dir / "quiz" / "exam.json"
        exam = json.loads(exam_file.read_text())
        exam["questions"][2]["question_text"] = "Explain why sunsets are red."
        exam_file.write_text(json.dumps(exam))
        assert _aita(sim, data_dir, "grade", "-a", "quiz", "--force").exit_code == 0
        assert sim.stats()["requests"] - first == 5  # its key, its rubric, three grades
        again = _aita(sim, data_dir, "grade", "-a", "quiz", "--force", "--no-cache")
        assert again.exit_code == 0
        assert sim.stats()["requests"] - first > 5  # --no-cache asks the model again


def test_offline_replies_are_never_cached(tmp_path: Path, cache_dir: Path) -> None:
    data_dir = tmp_path / "data"
    root = make_assignment(data_dir)
    env = env_for(data_dir, tmp_path / "checkpoints", AITA_PROVIDER="offline")
    result = runner.invoke(app, ["generate-rubric", "-a", "quiz"], env=env)
    assert result.exit_code == 0, result.output
    assert (root / "results" / "rubrics.json").is_file()
    with sqlite3.connect(cache_dir / DATABASE_NAME) as connection:
        cached = connection.execute("SELECT COUNT(*) FROM response_cache").fetchone()[0]
        attempts = connection.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
    assert cached == 0
    assert attempts == 6  # three keys and three rubrics, at no cost


def test_aita_costs_totals_match_the_ledger_to_the_cent(data_dir: Path, cache_dir: Path) -> None:
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        assert _aita(sim, data_dir, "grade", "-a", "quiz").exit_code == 0
        table = _aita(sim, data_dir, "costs", "--assignment", "quiz", "--by", "operation")
        listed = _aita(sim, data_dir, "costs", "--by", "day", "--csv")
    assert table.exit_code == 0, table.output
    assert "grade" in table.output
    rows = list(csv.DictReader(io.StringIO(listed.output)))
    with _store(cache_dir) as store:
        spent = store.spent()
    assert rows[-1]["day"] == "total"
    assert float(rows[-1]["cost_usd"]) == pytest.approx(spent, abs=0.005)
    bad = runner.invoke(app, ["costs", "--by", "week"])
    assert bad.exit_code == 2


def test_aita_status_says_what_is_left_and_how_to_finish(data_dir: Path) -> None:
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        before = _aita(sim, data_dir, "status", "-a", "quiz")
        assert before.exit_code == 0, before.output
        assert "next: aita grade --assignment quiz" in before.output
        assert _aita(sim, data_dir, "transcribe", "-a", "quiz").exit_code == 0
        middle = _aita(sim, data_dir, "status", "-a", "quiz")
        assert "3 / 3" in middle.output  # transcripts complete, the rest missing
        assert _aita(sim, data_dir, "grade", "-a", "quiz").exit_code == 0
        after = _aita(sim, data_dir, "status", "-a", "quiz")
        missing = _aita(sim, data_dir, "status", "-a", "nope")
    assert "everything is done" in after.output
    assert "spent so far: $" in after.output
    assert missing.exit_code == 2


def test_a_foreign_file_where_the_store_goes_is_one_line_and_left_alone(
    data_dir: Path, cache_dir: Path
) -> None:
    database = cache_dir / DATABASE_NAME
    database.write_text("not a database, somebody's notes")
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        result = _aita(sim, data_dir, "grade", "-a", "quiz")
    assert result.exit_code == 2
    assert str(database) in result.output
    assert "Traceback" not in result.output
    assert database.read_text() == "not a database, somebody's notes"


def test_a_cache_hit_is_in_the_ledger_only_when_it_answered(
    data_dir: Path, cache_dir: Path
) -> None:
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        first = _aita(sim, data_dir, "grade", "-a", "quiz")
        forced = _aita(sim, data_dir, "grade", "-a", "quiz", "--force")
    assert first.exit_code == 0
    assert forced.exit_code == 0
    with _store(cache_dir) as store:
        hits = [row for row in store.rows("quiz") if row.status == "cache_hit"]
        runs = list(dict.fromkeys(row.run_id for row in store.rows("quiz")))  # in time order
    # Nothing was answered from the cache in the first run; everything in the second.
    assert [row for row in hits if row.run_id == runs[0]] == []
    assert len([row for row in hits if row.run_id == runs[1]]) == 9


def test_status_after_a_stopped_run_says_resume_and_sees_stale_grades(
    data_dir: Path, cache_dir: Path
) -> None:
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        stopped = _aita(sim, data_dir, "grade", "-a", "quiz", "--max-cost", "0.000001",
                        "--workers", "1")  # fmt: skip
        assert stopped.exit_code == 3
        status = _aita(sim, data_dir, "status", "-a", "quiz")
        assert "--resume" in status.output
        assert _aita(sim, data_dir, "grade", "-a", "quiz", "--resume").exit_code == 0
        exam_file = data_dir / "quiz" / "exam.json"
        exam = json.loads(exam_file.read_text())
        exam["questions"][0]["question_text"] = "Name the process that makes sugar."
        exam_file.write_text(json.dumps(exam))
        edited = _aita(sim, data_dir, "status", "-a", "quiz")
    assert "q1 (stale)" in edited.output
    assert "alice (stale)" in edited.output  # her grade of q1 was made from the old inputs


def test_read_only_commands_create_no_database(data_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "nowhere-yet"
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        costs = _aita(sim, data_dir, "costs", AITA_CACHE_DIR=str(empty))
        status = _aita(sim, data_dir, "status", "-a", "quiz", AITA_CACHE_DIR=str(empty))
    assert costs.exit_code == 0
    assert "no calls recorded" in costs.output
    assert status.exit_code == 0
    assert not empty.exists()


def test_status_counts_the_instructors_keys_as_complete(data_dir: Path) -> None:
    (data_dir / "quiz" / "user_answer_keys.json").write_text('{"1": {"correct_answer": "x"}}')
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        status = _aita(sim, data_dir, "status", "-a", "quiz")
    keys = next(line for line in status.output.splitlines() if "answer keys" in line)
    assert "1 / 3" in keys
    assert "q1 (missing)" not in keys


def test_editing_a_question_that_shares_a_call_pays_only_for_that_question(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AITA_NO_CACHE")
    questions = [
        {"question_id": str(n), "question_text": f"Short question {n}?", "points": 2,
         "question_type": "short_answer", "page_number": 1}
        for n in (1, 2, 3)
    ]  # fmt: skip
    root = make_assignment(tmp_path / "data", exam={"exam_name": "Quiz", "questions": questions})
    add_students(root, ["alice", "bob"], pages=1)
    data_dir = tmp_path / "data"
    with start_simulator(SimulatorConfig(seed=5)) as sim:
        assert _aita(sim, data_dir, "grade", "-a", "quiz").exit_code == 0
        first = sim.stats()["requests"]
        exam = json.loads((root / "exam.json").read_text())
        exam["questions"][1]["question_text"] = "Short question two, reworded?"
        (root / "exam.json").write_text(json.dumps(exam))
        forced = _aita(sim, data_dir, "grade", "-a", "quiz", "--force")
        assert forced.exit_code == 0, forced.output
        # Question 2's key and rubric, and one call per student for it alone: the
        # other items of the shared calls come from the cache.
        assert sim.stats()["requests"] - first == 4
