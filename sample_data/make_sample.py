"""Regenerate sample_data/sample_exam/: the exam, instructions, a user rubric and three
students' typed "scanned" submissions (two PDFs and a folder of images).

    .venv/bin/python sample_data/make_sample.py

Deterministic: the same Pillow and font give the same files. Pages are grayscale A4 at
100 dpi, JPEG-compressed inside the PDFs, so the whole folder stays well under 1.5 MB.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
EXAM_DIR = HERE / "sample_exam"
PAGE_SIZE = (827, 1169)  # A4 at 100 dpi
MARGIN = 70
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
EXIF_ORIENTATION = 0x0112
ROTATED_90_CW = 6  # EXIF: the stored image must be turned 90 degrees clockwise to view

EXAM_NAME = "Introduction to Science — Midterm"

QUESTIONS: list[dict[str, object]] = [
    {
        "question_id": "1",
        "question_text": "Which of these is a chemical change? (A) ice melting (B) salt "
        "dissolving in water (C) iron rusting (D) water boiling",
        "points": 2,
        "question_type": "multiple_choice",
        "page_number": 1,
    },
    {
        "question_id": "2a",
        "question_text": "State Newton's first law of motion.",
        "points": 3,
        "question_type": "short_answer",
        "page_number": 1,
    },
    {
        "question_id": "2b",
        "question_text": "Give one everyday example of Newton's first law.",
        "points": 2.5,
        "question_type": "short_answer",
        "page_number": 1,
    },
    {
        "question_id": "3",
        "question_text": "Explain how photosynthesis and cellular respiration are connected "
        "in an ecosystem.",
        "points": 6,
        "question_type": "long_answer",
        "page_number": 1,
    },
    {
        "question_id": "4",
        "question_text": "A car travels 150 km in 2.5 hours. What is its average speed in km/h? "
        "Show your working.",
        "points": 4,
        "question_type": "calculation",
        "page_number": 2,
    },
    {
        "question_id": "5",
        "question_text": "Which planet is closest to the Sun? (A) Venus (B) Mercury (C) Mars "
        "(D) Earth",
        "points": 1,
        "question_type": "multiple_choice",
        "page_number": 2,
    },
    {
        "question_id": "6",
        "question_text": "Draw and label a diagram of the water cycle, showing evaporation, "
        "condensation, precipitation and collection.",
        "points": 5,
        "question_type": "diagram",
        "page_number": 2,
    },
    {
        "question_id": "7",
        "question_text": "Calculate the density of a block with mass 240 g and volume 80 cm^3.",
        "points": 3,
        "question_type": "calculation",
        "page_number": 3,
    },
    {
        "question_id": "8",
        "question_text": "What is the SI unit of force?",
        "points": 1,
        "question_type": "short_answer",
        "page_number": 3,
    },
    {
        "question_id": "9",
        "question_text": "Which particle carries a negative charge? (A) proton (B) neutron "
        "(C) electron",
        "points": 1,
        "question_type": "multiple_choice",
        "page_number": 3,
    },
    {
        "question_id": "10",
        "question_text": "Describe the scientific method and explain why controlled "
        "experiments matter.",
        "points": 8,
        "question_type": "long_answer",
        "page_number": 3,
    },
]

INSTRUCTIONS = """\
General grading instructions for the Introduction to Science midterm.

- Award partial credit for correct reasoning even when the final answer is wrong.
- Units are required for full credit on calculation questions; deduct at most one point
  for missing or wrong units.
- Spelling mistakes are not penalised unless they change the scientific meaning.
- For multiple-choice questions, accept the letter or the full option text.
"""

QUESTION_INSTRUCTIONS = {
    "3": "Look for both directions of the exchange: products of one process are the "
    "reactants of the other (glucose and oxygen; carbon dioxide and water).",
    "4": "Accept 60 km/h. Award 2 points for the formula speed = distance / time, "
    "1 for substitution and 1 for the answer with units.",
    "6": "A clear labelled sketch in words or arrows is acceptable; all four stages must "
    "appear for full credit.",
}

USER_RUBRICS = {
    "7": {
        "criteria": [
            {
                "name": "Formula",
                "description": "States density = mass / volume.",
                "points": 1,
                "examples": ["d = m / V"],
            },
            {
                "name": "Substitution and result",
                "description": "Substitutes 240 g and 80 cm^3 and obtains 3.",
                "points": 1.5,
                "examples": ["240 / 80 = 3"],
            },
            {
                "name": "Units",
                "description": "Gives the unit g/cm^3.",
                "points": 0.5,
                "examples": ["3 g/cm^3"],
            },
        ]
    }
}

# Each student's answers, page by page; every answer starts with a question marker.
ALICE = [
    [
        "1. (C) iron rusting",
        "2a. An object stays at rest or keeps moving at a constant velocity unless a net "
        "external force acts on it.",
        "2b. When a bus brakes suddenly, the passengers keep moving forward.",
        "Q3 Plants use sunlight, carbon dioxide and water to make glucose and oxygen in "
        "photosynthesis. Animals and plants then use glucose and oxygen in cellular "
        "respiration, releasing energy, carbon dioxide and water. So the products of one "
        "process are the reactants of the other, and carbon cycles through the ecosystem.",
    ],
    [
        "4. speed = distance / time = 150 km / 2.5 h = 60 km/h",
        "5. (B) Mercury",
        "Question 6 Sun heats the sea -> evaporation -> water vapour rises and cools -> "
        "condensation forms clouds -> precipitation as rain -> collection in rivers, lakes "
        "and the sea -> back to evaporation.",
    ],
    [
        "7. density = mass / volume = 240 g / 80 cm^3 = 3 g/cm^3",
        "8. the newton (N)",
        "9. (C) electron",
        "10. The scientific method: make an observation, ask a question, form a hypothesis, "
        "test it with an experiment, analyse the data and draw a conclusion. A controlled "
        "experiment changes only one variable at a time, so any difference in the result "
        "can be linked to that variable and not to something else.",
    ],
]

BOB = [
    [
        "1. (A) ice melting",
        "2a. Things keep doing what they are doing.",
        "2b. A ball rolling on the floor stops eventually.",
        "Q3 Photosynthesis makes food for plants. Respiration is breathing. They are "
        "both important for living things.",
    ],
    [
        "4. 150 / 2.5 = 60",
        "5. (B)",
        "Question 6 evaporation, then clouds, then rain.",
    ],
    [
        "7. 240 x 80 = 19200",
        "8. kilograms",
        "9. (C)",
        "10. You do an experiment and see what happens. Controls make it fair.",
    ],
]

CAROL = [
    [
        "1. C",
        "2a. A body continues in its state of rest or uniform motion in a straight line "
        "unless acted upon by an unbalanced force.",
        "2b. A book on a table stays there until someone pushes it.",
        "Q3 Photosynthesis stores energy from light in glucose and releases oxygen. "
        "Respiration breaks glucose down with oxygen to release energy for the cell, "
        "giving off carbon dioxide, which plants take in again.",
    ],
    [
        "4. v = d / t = 150 / 2.5 = 60 km/h",
        "5. (A) Venus",
        "Question 6 Evaporation from oceans, condensation into clouds, precipitation, "
        "then collection as groundwater and runoff.",
    ],
    [
        "7. 240 / 80 = 3 g per cm^3",
        "8. Newton",
        "9. (A) proton",
        "10. Observe, hypothesise, experiment, analyse, conclude. Controlled experiments "
        "keep every other factor the same, so the result is a fair test of the hypothesis.",
    ],
]


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONT_PATH.is_file():
        return ImageFont.truetype(str(FONT_PATH), size)
    return ImageFont.load_default(size=size)


def draw_page(student: str, page: int, answers: list[str]) -> Image.Image:
    """A white page of typed answers: header, then each answer wrapped to the margins."""
    image = Image.new("L", PAGE_SIZE, 255)
    draw = ImageDraw.Draw(image)
    title, body = load_font(24), load_font(20)
    draw.text((MARGIN, MARGIN), EXAM_NAME, font=title, fill=0)
    draw.text((MARGIN, MARGIN + 40), f"Name: {student}      Page {page} of 3", font=body, fill=0)
    draw.line((MARGIN, MARGIN + 75, PAGE_SIZE[0] - MARGIN, MARGIN + 75), fill=0, width=2)
    y = MARGIN + 100
    for answer in answers:
        for line in textwrap.wrap(answer, width=62):
            draw.text((MARGIN, y), line, font=body, fill=0)
            y += 30
        y += 22
    return image


def save_pdf(path: Path, pages: list[Image.Image]) -> None:
    first, *rest = pages
    first.save(path, "PDF", resolution=100.0, save_all=True, append_images=rest, quality=60)


def write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main() -> None:
    submissions = EXAM_DIR / "submissions"
    (submissions / "bob").mkdir(parents=True, exist_ok=True)
    write_json(EXAM_DIR / "exam.json", {"exam_name": EXAM_NAME, "questions": QUESTIONS})
    (EXAM_DIR / "instructions.txt").write_text(INSTRUCTIONS, encoding="utf-8")
    write_json(EXAM_DIR / "question_instructions.json", QUESTION_INSTRUCTIONS)
    write_json(EXAM_DIR / "user_rubrics.json", USER_RUBRICS)

    save_pdf(
        submissions / "alice.pdf",
        [draw_page("Alice Nguyen", n, a) for n, a in enumerate(ALICE, 1)],
    )
    save_pdf(
        submissions / "carol.pdf",
        [draw_page("Carol Diaz", n, a) for n, a in enumerate(CAROL, 1)],
    )
    bob = [draw_page("Bob Smith", n, a) for n, a in enumerate(BOB, 1)]
    bob[0].save(submissions / "bob" / "page1.png", optimize=True)
    # A phone photo held sideways: stored rotated, with EXIF saying how to turn it upright.
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATED_90_CW
    sideways = bob[1].transpose(Image.Transpose.ROTATE_90)
    sideways.save(submissions / "bob" / "page2.jpg", quality=70, exif=exif)
    bob[2].save(submissions / "bob" / "page10.png", optimize=True)
    total = sum(p.stat().st_size for p in EXAM_DIR.rglob("*") if p.is_file())
    print(f"wrote {EXAM_DIR} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
