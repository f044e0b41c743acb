"""Synthetic assignments for the benchmark: a 20-question exam, 100 page images, and a
10-question exam with 30 three-page submissions to grade."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "make_grade_assignment",
    "make_rubric_assignment",
    "make_transcription_assignment",
    "point_at_simulator",
]


def point_at_simulator(url: str, work: Path) -> None:
    """Send every run of this process to the simulated provider at `url`, quietly, with
    its checkpoints and ledger under `work`. Every run must reach the provider: the
    same requests are sent again and again, and the response cache would answer them
    (the ledger still records)."""
    os.environ.update(
        {
            "AITA_PROVIDER": "openai",
            "AITA_BASE_URL": url,
            "AITA_MODEL": "simulated",
            "AITA_VISION_MODEL": "simulated",
            "AITA_SHOW_PROGRESS": "false",
            "AITA_NO_CACHE": "true",
            "AITA_CHECKPOINT_DIR": str(work / "checkpoints"),
            "AITA_CACHE_DIR": str(work / "cache"),
        }
    )


_TYPES = ("multiple_choice", "short_answer", "long_answer", "calculation", "diagram")


def _write_exam(folder: Path, questions: int, pages: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    exam = {
        "exam_name": f"Benchmark exam ({questions} questions)",
        "questions": [
            {
                "question_id": str(number),
                "question_text": f"Benchmark question {number}: explain topic {number}.",
                "points": 2 + number % 9,
                "question_type": _TYPES[number % len(_TYPES)],
                "page_number": 1 + (number - 1) % pages,
            }
            for number in range(1, questions + 1)
        ],
    }
    (folder / "exam.json").write_bytes(orjson.dumps(exam, option=orjson.OPT_INDENT_2))


def make_rubric_assignment(folder: Path, *, questions: int) -> None:
    _write_exam(folder, questions, pages=1)


def _page(student: int, page: int) -> Image.Image:
    # A small grey page with a few lines of text, like a scan already downscaled: an
    # upright grey PNG within the size cap is sent as it is, so the benchmark measures
    # the engine, not image encoding.
    image = Image.new("L", (600, 800), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=22)
    for line in range(6):
        draw.text((40, 60 + 100 * line), f"{page}. student {student} answer {line}", font=font)
    return image


def make_transcription_assignment(folder: Path, *, students: int, pages: int) -> None:
    _write_exam(folder, questions=pages, pages=pages)
    for student in range(1, students + 1):
        student_dir = folder / "submissions" / f"student{student:02d}"
        student_dir.mkdir(parents=True, exist_ok=True)
        for page in range(1, pages + 1):
            _page(student, page).save(student_dir / f"page{page}.png")


def make_grade_assignment(folder: Path, *, students: int, questions: int, pages: int) -> None:
    """An exam of `questions` spread over `pages` pages in order (10 over 3: 4, 3, 3),
    and `students` submissions of `pages` small page images each."""
    _write_exam(folder, questions, pages=1)
    exam = orjson.loads((folder / "exam.json").read_bytes())
    for position, question in enumerate(exam["questions"]):
        question["page_number"] = 1 + position * pages // questions
    (folder / "exam.json").write_bytes(orjson.dumps(exam, option=orjson.OPT_INDENT_2))
    for student in range(1, students + 1):
        student_dir = folder / "submissions" / f"student{student:02d}"
        student_dir.mkdir(parents=True, exist_ok=True)
        for page in range(1, pages + 1):
            _page(student, page).save(student_dir / f"page{page}.png")
