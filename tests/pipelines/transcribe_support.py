"""Building assignments with scanned-looking submissions for the transcription tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

_FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

EXAM: dict[str, Any] = {
    "exam_name": "Transcription test exam",
    "questions": [
        {
            "question_id": "1",
            "question_text": "Name the process plants use to make food.",
            "points": 2,
            "question_type": "short_answer",
            "page_number": 1,
        },
        {
            "question_id": "2a",
            "question_text": "Compute 6 times 7.",
            "points": 3,
            "question_type": "calculation",
            "page_number": 2,
        },
        {
            "question_id": "10",
            "question_text": "Explain why the sky is blue.",
            "points": 5,
            "question_type": "long_answer",
            "page_number": 2,
        },
    ],
}


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if _FONT_PATH.exists():
        return ImageFont.truetype(str(_FONT_PATH), size)
    return ImageFont.load_default(size=size)


def page_image(lines: Sequence[str], size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """A white page with typed lines, like a clean scan at about 100 dpi."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    text_font = font(30)
    for row, line in enumerate(lines):
        draw.text((60, 80 + row * 60), line, fill=0, font=text_font)
    return image


def make_pdf(path: Path, pages: Sequence[Sequence[str]]) -> Path:
    images = [page_image(lines).convert("RGB") for lines in pages]
    path.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=100.0)
    return path


def make_image(path: Path, lines: Sequence[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    page_image(lines).save(path)
    return path


def make_assignment(data_dir: Path, name: str = "quiz", exam: dict[str, Any] | None = None) -> Path:
    """An assignment folder with exam.json and an empty submissions/ folder."""
    root = data_dir / name
    (root / "submissions").mkdir(parents=True)
    (root / "exam.json").write_text(json.dumps(exam or EXAM), encoding="utf-8")
    return root


def add_students(root: Path, names: Sequence[str], pages: int = 2) -> None:
    """One PDF per student, each page answering the exam's questions on it."""
    for name in names:
        make_pdf(
            root / "submissions" / f"{name}.pdf",
            [[f"{page}. answer of {name} on page {page}"] for page in range(1, pages + 1)],
        )


def env_for(data_dir: Path, checkpoints: Path, **extra: str) -> dict[str, str | None]:
    """Environment for a CliRunner run: quiet, unthrottled, everything under tmp_path;
    None removes a variable, so a developer's own keys never leak into a test."""
    env: dict[str, str | None] = {
        "AITA_DATA_DIR": str(data_dir),
        "AITA_CHECKPOINT_DIR": str(checkpoints),
        "AITA_SHOW_PROGRESS": "false",
        "AITA_RATE_LIMIT_RPS": "0",
        "OPENROUTER_API_KEY": None,
        "AITA_BASE_URL": None,
        "AITA_API_KEY": None,
        "AITA_MODEL": None,
        "AITA_VISION_MODEL": None,
        "AITA_PROVIDER": None,
        "AITA_MAX_COST": None,
        "AITA_MAX_WORKERS": None,
    }
    env.update(extra)
    return env
