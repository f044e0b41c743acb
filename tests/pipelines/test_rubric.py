"""The generate-rubric pipeline through its API, with an in-memory scripted client."""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from aita_cli.cli.generate_rubric import render_outcome
from aita_cli.cli.options import RunOptions
from aita_cli.execution.retry import RetryPolicy
from aita_cli.llm import task_kinds
from aita_cli.llm.messages import LLMMessage, messages_text
from aita_cli.pipelines.rubric import RubricOutcome, run_generate_rubric
from aita_cli.simulate.scripted import ScriptedLLMClient
from aita_cli.simulate.synthesis import simulated_reply
from tests.pipelines.rubric_support import (
    USER_RUBRIC_FOR_3,
    isolate_environment,
    read_json,
    write_exam,
)

# Retries without real waiting: the executor's backoff comes from this policy.
FAST_RETRIES: dict[str, Any] = {
    "retry_policy": RetryPolicy(max_retries=2, base_delay=0.001, max_delay=0.002)
}
ORDER = ["1", "2", "2a", "3", "10"]


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_environment(monkeypatch, tmp_path)
    monkeypatch.setenv("AITA_MAX_RETRIES", "2")


@pytest.fixture
def exam(tmp_path: Path) -> Path:
    return write_exam(tmp_path / "data", user_rubrics={"3": USER_RUBRIC_FOR_3})


def _synthesized(messages: list[LLMMessage], params: dict[str, Any]) -> str:
    return simulated_reply(messages, params) or "{}"


def _request_of(messages: list[LLMMessage], params: dict[str, Any]) -> tuple[str | None, str]:
    text = messages_text(messages)
    question_id = task_kinds.read_prompt_field(text, task_kinds.QUESTION_ID_LINE) or ""
    return task_kinds.kind_of_request(params), question_id


def _run(client: ScriptedLLMClient, **options: Any) -> RubricOutcome:
    return run_generate_rubric(
        RunOptions(assignment="exam1", **options), client=client, executor_overrides=FAST_RETRIES
    )


def _kinds_called(client: ScriptedLLMClient) -> Counter[tuple[str | None, str]]:
    return Counter(_request_of(call.messages, call.params) for call in client.calls)


def test_every_question_in_exam_order_with_the_user_rubric_as_given(exam: Path) -> None:
    client = ScriptedLLMClient(_synthesized)
    outcome = _run(client)
    assert outcome.exit_code == 0
    assert outcome.detail.failures == []
    assert (outcome.tasks_total, outcome.tasks_done) == (9, 9)
    called = _kinds_called(client)
    assert called[(task_kinds.RUBRIC, "3")] == 0  # user rubric: no rubric task
    assert called[(task_kinds.ANSWER_KEY, "3")] == 1
    rubrics = read_json(exam / "results" / "rubrics.json")
    keys = read_json(exam / "results" / "answer_keys.json")
    assert [entry["question_id"] for entry in rubrics["rubrics"]] == ORDER
    assert [entry["question_id"] for entry in keys["answer_keys"]] == ORDER
    assert rubrics["complete"]
    assert keys["complete"]
    by_id = {entry["question_id"]: entry for entry in rubrics["rubrics"]}
    assert by_id["3"]["source"] == "user"
    assert by_id["3"]["total_points"] == 2.5
    assert by_id["2a"]["total_points"] == 10
    assert sum(item["points"] for item in by_id["2a"]["criteria"]) == 10
    markdown = (exam / "results" / "rubrics.md").read_text(encoding="utf-8")
    assert markdown.index("## Question 2a") < markdown.index("## Question 10")
    assert "provided by the instructor" in markdown


def _bad_rubric_for_2a(messages: list[LLMMessage], params: dict[str, Any]) -> str:
    kind, question_id = _request_of(messages, params)
    if kind == task_kinds.RUBRIC and question_id == "2a":
        return json.dumps(
            {"question_id": "2a", "total_points": 10, "criteria": [{"name": "x", "points": 9}]}
        )
    return _synthesized(messages, params)


def test_a_rubric_that_never_sums_is_reasked_then_marked_failed(exam: Path) -> None:
    client = ScriptedLLMClient(_bad_rubric_for_2a)
    outcome = _run(client)
    assert outcome.exit_code == 1
    [failure] = outcome.detail.failures
    assert (failure.question_id, failure.kind) == ("2a", "rubric")
    assert "criteria sum to 9, but question 2a is worth 10 points" in failure.error
    rubric_calls = [
        call for call in client.calls if _request_of(call.messages, call.params)[1] == "2a"
    ]
    assert len(rubric_calls) == 1 + 3  # the answer key, then the rubric and 2 re-asks
    reasked = messages_text(rubric_calls[-1].messages)
    assert "criteria sum to 9, but question 2a is worth 10 points" in reasked
    rubrics = read_json(exam / "results" / "rubrics.json")
    entry = next(item for item in rubrics["rubrics"] if item["question_id"] == "2a")
    assert entry["status"] == "failed"
    assert "criteria sum to 9" in entry["error"]
    assert "criteria" not in entry  # a failure is never passed off as a rubric
    assert rubrics["complete"] is False
    assert all(item["status"] == "ok" for item in rubrics["rubrics"] if item is not entry)
    assert "**Rubric failed:** criteria sum to 9" in (exam / "results" / "rubrics.md").read_text()
    shown = io.StringIO()
    render_outcome(outcome, Console(file=shown, width=200))
    assert "question 2a (rubric): criteria sum to 9" in shown.getvalue()
    assert "aita generate-rubric --assignment exam1 --resume" in shown.getvalue()


def test_a_rubric_corrected_on_the_reask_is_accepted(exam: Path) -> None:
    asked: Counter[str] = Counter()
    lock = threading.Lock()

    def wrong_once(messages: list[LLMMessage], params: dict[str, Any]) -> str:
        kind, question_id = _request_of(messages, params)
        if kind == task_kinds.RUBRIC:
            with lock:
                asked[question_id] += 1
                first = asked[question_id] == 1
            if first and question_id == "10":
                return json.dumps({"question_id": "10", "criteria": [{"name": "x", "points": 4}]})
        return _synthesized(messages, params)

    outcome = _run(ScriptedLLMClient(wrong_once))
    assert outcome.exit_code == 0
    assert outcome.metrics is not None
    assert outcome.metrics.retried_tasks == 1
    assert asked["10"] == 2


def test_a_failed_answer_key_fails_its_rubric_as_a_dependency(exam: Path) -> None:
    def broken_key_for_2(messages: list[LLMMessage], params: dict[str, Any]) -> str:
        if _request_of(messages, params) == (task_kinds.ANSWER_KEY, "2"):
            return "I think the answer is photosynthesis."
        return _synthesized(messages, params)

    outcome = _run(ScriptedLLMClient(broken_key_for_2))
    assert outcome.exit_code == 1
    assert [(f.question_id, f.kind) for f in outcome.detail.failures] == [
        ("2", "answer key"),
        ("2", "rubric"),
    ]
    assert "not valid JSON" in outcome.detail.failures[0].error
    assert "dependency answer_key/2 failed" in outcome.detail.failures[1].error
    keys = read_json(exam / "results" / "answer_keys.json")
    assert [item["status"] for item in keys["answer_keys"]] == ["ok", "failed", "ok", "ok", "ok"]


def test_complete_results_are_kept_without_force(exam: Path) -> None:
    client = ScriptedLLMClient(_synthesized)
    _run(client)
    first_calls = len(client.calls)
    written = (exam / "results" / "rubrics.json").read_bytes()
    kept = _run(client)
    assert kept.detail.kept_existing
    assert kept.exit_code == 0
    assert any("--force" in notice for notice in kept.notices)
    assert len(client.calls) == first_calls
    assert (exam / "results" / "rubrics.json").read_bytes() == written
    forced = _run(client, force=True)
    assert not forced.detail.kept_existing
    assert forced.tasks_done == 9
    assert len(client.calls) == 2 * first_calls


def test_resume_keeps_complete_results_even_without_their_journal(
    exam: Path, tmp_path: Path
) -> None:
    # Nothing is missing or failed, so --resume has nothing to run: it must not pay for
    # every question again because the journal is gone (or was never written).
    client = ScriptedLLMClient(_synthesized)
    _run(client)
    first_calls = len(client.calls)
    for journal in (tmp_path / "checkpoints").iterdir():
        journal.unlink()
    resumed = _run(client, resume=True)
    assert resumed.detail.kept_existing
    assert resumed.exit_code == 0
    assert len(client.calls) == first_calls


def test_editing_one_question_makes_only_its_key_and_rubric_again(exam: Path) -> None:
    client = ScriptedLLMClient(_synthesized)
    _run(client)
    paid = len(client.calls)
    exam_file = exam / "exam.json"
    data = json.loads(exam_file.read_text())
    data["questions"][0]["question_text"] = "Which planet is the smallest?"
    exam_file.write_text(json.dumps(data))
    again = _run(client)
    assert not again.detail.kept_existing
    assert len(client.calls) - paid == 2  # that question's answer key and rubric
    assert any("whose inputs are unchanged" in notice for notice in again.notices)
    keys = read_json(exam / "results" / "answer_keys.json")
    assert keys["complete"] is True


def test_dry_run_plans_without_calls_or_writes(exam: Path, tmp_path: Path) -> None:
    client = ScriptedLLMClient(_synthesized)
    outcome = _run(client, dry_run=True)
    assert outcome.detail.plan is not None
    assert outcome.exit_code == 0
    assert len(outcome.detail.plan.tasks) == 9
    assert outcome.detail.plan.user_rubric_questions == ["3"]
    assert outcome.detail.plan.estimate.prompt_tokens > 9 * 50
    assert client.calls == []
    assert not (exam / "results").exists()
    assert not (tmp_path / "checkpoints").exists()


def test_budget_stop_marks_the_rest_not_started_and_resumable(exam: Path) -> None:
    client = ScriptedLLMClient(_synthesized, cost=0.01)
    outcome = _run(client, max_cost=0.015, workers=1)
    assert outcome.exit_code == 3
    assert outcome.stopped == "budget"
    assert outcome.not_started
    assert outcome.detail.failures == []
    assert outcome.resume_hint == "aita generate-rubric --assignment exam1 --resume"
    rubrics = read_json(exam / "results" / "rubrics.json")
    errors = [item.get("error") or "" for item in rubrics["rubrics"]]
    assert any("the cost budget was reached" in error for error in errors)
    shown = io.StringIO()
    render_outcome(outcome, Console(file=shown, width=200))
    assert "cost budget reached" in shown.getvalue()
    assert f"not started: {outcome.not_started[0]}" in shown.getvalue()
    paid = len(client.calls)
    resumed = _run(client, resume=True)
    assert resumed.exit_code == 0
    # What finished before the stop is on disk and kept: only the rest is asked for.
    assert len(client.calls) - paid == 9 - outcome.tasks_done
    assert any("whose inputs are unchanged" in notice for notice in resumed.notices)
