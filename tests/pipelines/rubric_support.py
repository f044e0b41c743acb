"""Shared helpers for the generate-rubric tests: small exams on disk and a clean env."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

SAMPLE_EXAM = Path(__file__).resolve().parents[2] / "sample_data" / "sample_exam"

# Ids chosen so that a plain string sort ("1", "10", "2", ...) would be visibly wrong.
QUESTIONS: list[dict[str, Any]] = [
    {
        "question_id": "1",
        "question_text": "Which planet is the largest? A) Mars B) Jupiter C) Venus",
        "points": 2,
        "question_type": "multiple_choice",
    },
    {
        "question_id": "2",
        "question_text": "Name the process by which plants make sugar from light.",
        "points": 3,
        "question_type": "short_answer",
    },
    {
        "question_id": "2a",
        "question_text": "A car travels 120 km in 1.5 hours. Compute its average speed.",
        "points": 10,
        "question_type": "calculation",
    },
    {
        "question_id": "3",
        "question_text": "Draw and label a simple electric circuit with a bulb.",
        "points": 2.5,
        "question_type": "diagram",
    },
    {
        "question_id": "10",
        "question_text": "Explain why the seasons change on Earth.",
        "points": 5,
        "question_type": "long_answer",
    },
]

USER_RUBRIC_FOR_3: dict[str, Any] = {
    "criteria": [
        {"name": "Closed circuit", "description": "a complete loop", "points": 1.5},
        {"name": "Labels", "description": "battery, bulb, wire labelled", "points": 1},
    ]
}


def write_exam(
    data_dir: Path,
    name: str = "exam1",
    questions: list[dict[str, Any]] | None = None,
    *,
    user_rubrics: dict[str, Any] | None = None,
    instructions: str | None = "Award partial credit for correct method.",
) -> Path:
    """An assignment folder with exam.json (and optional extras); returns its path."""
    root = data_dir / name
    root.mkdir(parents=True, exist_ok=True)
    exam = {"exam_name": "Science Quiz", "questions": questions or QUESTIONS}
    (root / "exam.json").write_text(json.dumps(exam), encoding="utf-8")
    if instructions:
        (root / "instructions.txt").write_text(instructions, encoding="utf-8")
    if user_rubrics:
        (root / "user_rubrics.json").write_text(json.dumps(user_rubrics), encoding="utf-8")
    return root


def copy_sample_exam(data_dir: Path, name: str = "sample_exam") -> Path:
    """sample_data/sample_exam without its submissions, or a built exam if it is absent."""
    if not (SAMPLE_EXAM / "exam.json").is_file():
        return write_exam(data_dir, name, user_rubrics={"3": USER_RUBRIC_FOR_3})
    target = data_dir / name
    shutil.copytree(SAMPLE_EXAM, target, ignore=shutil.ignore_patterns("submissions", "results"))
    return target


def isolate_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AITA_* variable, provider key or .env from the developer's machine leaks in."""
    kept = ("AITA_CACHE_DIR", "AITA_NO_CACHE")  # set for every test by tests/conftest.py
    for variable in list(os.environ):
        if (
            variable.startswith("AITA_") and variable not in kept
        ) or variable == "OPENROUTER_API_KEY":
            monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AITA_SHOW_PROGRESS", "false")
    monkeypatch.setenv("AITA_CHECKPOINT_DIR", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("AITA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AITA_RATE_LIMIT_RPS", "0")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
