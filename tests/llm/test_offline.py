"""The offline backend: templates for text tasks, OCR (scripted and real) for pages."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFont

from aita_cli.domain.models import AnswerKey, PageTranscription, Rubric
from aita_cli.errors import BadRequestError, OCRUnavailableError
from aita_cli.llm import task_kinds as tk
from aita_cli.llm.base import LLMClient
from aita_cli.llm.messages import MessageLike
from aita_cli.llm.ocr import OcrEngine, OcrLine, RapidOcrEngine
from aita_cli.llm.offline import OfflineLLMClient, group_answers, reading_order
from aita_cli.llm.tokens import image_tokens


class ScriptedOcr:
    """A real OcrEngine that "reads" the lines it was given, whatever the image."""

    def __init__(self, lines: Sequence[OcrLine]) -> None:
        self.lines = list(lines)
        self.images_read = 0

    def read(self, image: Image.Image) -> list[OcrLine]:
        self.images_read += 1
        return list(self.lines)


def _data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _page_request(url: str, listed: str = "1a, 2") -> tuple[list[MessageLike], dict[str, Any]]:
    prompt = f"Transcribe this page.\n{tk.PAGE_NUMBER_LINE}: 1\n{tk.PAGE_QUESTIONS_LINE}: {listed}"
    messages: list[MessageLike] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": prompt},
                {"type": "image_url", "image_url": {"url": url}},
            ],
        }
    ]
    params: dict[str, Any] = {
        "vision": True,
        "json_schema": {"name": tk.PAGE_TRANSCRIPTION, "schema": {}},
    }
    return messages, params


BLANK = Image.new("RGB", (40, 40), "white")
SCRIPT = [
    OcrLine("Q2 Light and water", 0.8, box_top=200, box_left=10),
    OcrLine("Name: Ada", 1.0, box_top=5, box_left=10),
    OcrLine("1a. The slope is", 0.9, box_top=100, box_left=10),
    OcrLine("2x at x", 0.9, box_top=140, box_left=10),
    OcrLine("make sugar", 0.9, box_top=240, box_left=10),
]


def test_client_contract() -> None:
    client = OfflineLLMClient(ocr=ScriptedOcr([]))
    assert isinstance(client, LLMClient)
    assert client.supports_vision
    assert client.describe() == (
        "offline (templates and on-device OCR, no model) — no provider configured: "
        "set OPENROUTER_API_KEY or AITA_BASE_URL to use a model"
    )
    client.close()
    client.close()


def test_text_tasks_get_marked_templates() -> None:
    prompt = (
        f"{tk.QUESTION_ID_LINE}: 4\n{tk.QUESTION_TYPE_LINE}: diagram\n"
        f"{tk.QUESTION_POINTS_LINE}: 6\n{tk.QUESTION_TEXT_LINE}: Draw a cell."
    )
    messages: list[MessageLike] = [{"role": "user", "content": prompt}]
    client = OfflineLLMClient(ocr=ScriptedOcr([]))
    key = client.complete(messages, json_schema={"name": tk.ANSWER_KEY, "schema": {}})
    assert key.cost == 0.0
    assert key.model == "offline"
    assert key.usage.prompt_tokens > 0
    answer = AnswerKey.model_validate_json(key.content)
    assert answer.source == "offline-template"
    assert "Draw a cell." in answer.correct_answer
    rubric = client.complete(messages, json_schema={"name": tk.RUBRIC, "schema": {}})
    assert Rubric.model_validate_json(rubric.content).source == "offline-template"


def test_unknown_task_gets_a_plain_reply() -> None:
    reply = OfflineLLMClient().complete([{"role": "user", "content": "hi"}])
    assert "No model is configured" in reply.content


def test_page_is_read_in_order_and_grouped_by_marker() -> None:
    ocr = ScriptedOcr(SCRIPT)
    messages, params = _page_request(_data_url(BLANK))
    response = OfflineLLMClient(ocr=ocr).complete(messages, **params)
    page = PageTranscription.model_validate_json(response.content)
    assert page.source == "offline-ocr"
    assert "offline OCR" in page.notes
    assert page.text.splitlines()[0] == "Name: Ada"
    assert page.confidence == pytest.approx(0.9)
    assert {a.question_id: a.text for a in page.answers} == {
        "1a": "The slope is\n2x at x",
        "2": "Light and water\nmake sugar",
    }
    assert response.usage.prompt_tokens > image_tokens(*BLANK.size)  # the image counts
    assert ocr.images_read == 1


def test_https_images_are_a_clear_bad_request() -> None:
    messages, params = _page_request("https://example.com/page.png")
    with pytest.raises(BadRequestError, match="data: URLs"):
        OfflineLLMClient(ocr=ScriptedOcr(SCRIPT)).complete(messages, **params)


def test_undecodable_image_is_a_bad_request() -> None:
    messages, params = _page_request("data:image/png;base64," + base64.b64encode(b"no").decode())
    with pytest.raises(BadRequestError, match="could not decode"):
        OfflineLLMClient(ocr=ScriptedOcr(SCRIPT)).complete(messages, **params)


def test_empty_page_has_zero_confidence() -> None:
    messages, params = _page_request(_data_url(BLANK))
    reply = json.loads(OfflineLLMClient(ocr=ScriptedOcr([])).complete(messages, **params).content)
    page = PageTranscription.model_validate(reply)
    assert page.confidence == 0.0
    assert page.answers == []
    assert "no text found" in page.notes


@pytest.mark.parametrize(
    ("line", "qid"),
    [
        ("1a. x", "1a"),
        ("1a) x", "1a"),
        ("Q2 x", "2"),
        ("Q2. x", "2"),
        ("q2b: x", "2b"),
        ("Question 3 x", "3"),
        ("Question 3: x", "3"),
    ],
)
def test_marker_forms(line: str, qid: str) -> None:
    assert group_answers([line]) == {qid: "x"}


@pytest.mark.parametrize("line", ["1.5 is the answer", "12 apples", "Quick brown fox"])
def test_non_markers(line: str) -> None:
    assert group_answers(["Q1 start", line]) == {"1": f"start\n{line}"}


def test_listed_ids_filter_markers() -> None:
    lines = ["Q3 intro", "1. first step", "2. second step", "Q4 other", "Question 5 last"]
    assert group_answers(lines, ["3", "5"]) == {
        "3": "intro\n1. first step\n2. second step\nQ4 other",
        "5": "last",
    }
    assert group_answers(["1A. upper"], ["1a"]) == {"1a": "upper"}


def test_listed_number_glued_to_its_answer_is_a_marker() -> None:
    # OCR dropped the space after "4." and "7." on the sample pages.
    page2 = ["Name: Bob Page 2 of 3", "4.150 / 2.5 = 60", "5.(B)", "Question 6 rain."]
    assert group_answers(page2, ["4", "5", "6"]) == {
        "4": "150 / 2.5 = 60",
        "5": "(B)",
        "6": "rain.",
    }
    page3 = ["7.240 × 80 = 19200", "8. kilograms"]
    assert group_answers(page3, ["7", "8"]) == {"7": "240 × 80 = 19200", "8": "kilograms"}
    assert group_answers(["2b)3 m/s"], ["2a", "2B"]) == {"2B": "3 m/s"}


@pytest.mark.parametrize(
    ("lines", "listed", "expected"),
    [
        (["Q1 start", "4.150 more"], ["1"], {"1": "start\n4.150 more"}),  # 4 not listed
        (["Q1 start", "4.150 more"], [], {"1": "start\n4.150 more"}),  # no listing
        (["Q2 speed", "2.5 hours"], ["1", "2"], {"2": "speed\n2.5 hours"}),  # current
        (["Q2 speed", "1.5 hours"], ["1", "2"], {"2": "speed\n1.5 hours"}),  # passed
    ],
)
def test_glued_number_is_text_unless_it_is_a_listed_question_ahead(
    lines: list[str], listed: list[str], expected: dict[str, str]
) -> None:
    assert group_answers(lines, listed) == expected


def test_single_listed_question_without_markers_takes_the_page() -> None:
    assert group_answers(["some work", "more"], ["5"]) == {"5": "some work\nmore"}
    assert group_answers(["some work"], ["5", "6"]) == {}


def test_reading_order_groups_rows_left_to_right() -> None:
    lines = [
        OcrLine("right", 1.0, box_top=52, box_left=300),
        OcrLine("left", 1.0, box_top=50, box_left=10),
        OcrLine("top", 1.0, box_top=0, box_left=200),
    ]
    assert [line.text for line in reading_order(lines)] == ["top", "left", "right"]


def test_missing_ocr_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr", None)  # makes `import rapidocr` fail
    messages, params = _page_request(_data_url(BLANK))
    with pytest.raises(OCRUnavailableError, match=r"pip install 'aita-cli\[ocr\]'"):
        OfflineLLMClient().complete(messages, **params)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    dejavu = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if dejavu.exists():
        return ImageFont.truetype(str(dejavu), size)
    return ImageFont.load_default(size=size)


def test_real_rapidocr_reads_a_drawn_page() -> None:
    pytest.importorskip("rapidocr")
    image = Image.new("RGB", (900, 260), "white")
    draw = ImageDraw.Draw(image)
    draw.text((30, 30), "1a. The derivative of x^2 is 2x", fill="black", font=_font(36))
    draw.text((30, 140), "Q2 Plants make sugar from light", fill="black", font=_font(36))
    engine: OcrEngine = RapidOcrEngine()
    messages, params = _page_request(_data_url(image))
    page = PageTranscription.model_validate_json(
        OfflineLLMClient(ocr=engine).complete(messages, **params).content
    )
    answers = {a.question_id: a.text for a in page.answers}
    assert set(answers) == {"1a", "2"}
    assert "derivative" in answers["1a"]
    assert "2x" in answers["1a"]
    assert "sugar" in answers["2"]
    assert page.confidence > 0.8
