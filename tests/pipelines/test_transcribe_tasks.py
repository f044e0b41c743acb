"""The page transcription task: its request, its fingerprint and its reply parsing."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image

from aita_cli.domain.models import ExamSpec, PageImage, PageTranscription
from aita_cli.errors import ResponseValidationError
from aita_cli.llm import task_kinds
from aita_cli.llm.messages import LazyImage, messages_text
from aita_cli.llm.openai_wire import wire_messages
from aita_cli.pipelines.transcribe_tasks import (
    PageTranscriptionTask,
    parse_page_transcription,
    questions_by_page,
)
from tests.pipelines.transcribe_support import EXAM, make_image

GOOD_REPLY = (
    '{"text": "1. Photosynthesis", "confidence": 0.9, "notes": "", '
    '"answers": [{"question_id": " 1 ", "text": "Photosynthesis"}]}'
)


def _task(
    path: Path, page_number: int = 2, ids: tuple[str, ...] = ("2a", "10")
) -> PageTranscriptionTask:
    page = PageImage(student="al", page_number=page_number, source_path=path, source_kind="image")
    return PageTranscriptionTask(
        "al", page, exam_name="Quiz", question_ids=ids, dpi=100, max_side=400
    )


def test_prompt_carries_the_labelled_lines_and_params_declare_the_kind(tmp_path: Path) -> None:
    task = _task(make_image(tmp_path / "p.png", ["2a. 42"]))
    text = messages_text(task.build_messages())
    assert task.task_id == "al/p002"
    assert task_kinds.read_prompt_field(text, task_kinds.PAGE_NUMBER_LINE) == "2"
    assert task_kinds.read_prompt_field(text, task_kinds.PAGE_QUESTIONS_LINE) == "2a, 10"
    for rule in ("~~", "[unclear]", "LaTeX", "confidence"):
        assert rule in text
    params = task.get_llm_params()
    assert params["vision"] is True
    assert task_kinds.kind_of_request(dict(params)) == task_kinds.PAGE_TRANSCRIPTION


def test_a_page_without_listed_questions_has_an_empty_questions_line(tmp_path: Path) -> None:
    task = _task(make_image(tmp_path / "p.png", ["x"]), page_number=7, ids=())
    text = task.get_prompt_text()
    assert task_kinds.read_prompt_field(text, task_kinds.PAGE_QUESTIONS_LINE) == ""
    assert "Q3" in text  # falls back to question markers


def test_the_image_is_rendered_when_it_is_sent(tmp_path: Path) -> None:
    task = _task(make_image(tmp_path / "p.png", ["2a. 42"]))
    [attachment] = task.build_messages()[-1].images
    assert isinstance(attachment, LazyImage)  # nothing rendered yet
    parts = wire_messages(task.build_messages())[-1]["content"]
    url = parts[1]["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as image:
        assert max(image.size) <= 400


def test_the_fingerprint_needs_no_rendering_and_follows_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"not an image at all")
    task = _task(path)
    before = task.fingerprint()  # would raise if it rendered the broken image
    assert before == _task(path).fingerprint()
    path.write_bytes(b"not an image at all, changed")
    assert _task(path).fingerprint() != before


def test_parse_accepts_fenced_json_and_strips_question_ids() -> None:
    page = parse_page_transcription(f"Here it is:\n```json\n{GOOD_REPLY}\n```")
    assert page.text == "1. Photosynthesis"
    assert [answer.question_id for answer in page.answers] == ["1"]


def test_parse_accepts_json_with_prose_around_it() -> None:
    assert parse_page_transcription(f"Sure! {GOOD_REPLY} Hope this helps.").confidence == 0.9


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("not json at all", "not valid JSON"),
        ("[1, 2]", "not an object"),
        ('{"text": "x", "confidence": 90, "notes": ""}', "confidence"),
        ('{"confidence": 0.5}', "text"),
    ],
)
def test_parse_rejects_bad_replies_with_the_reason(reply: str, message: str) -> None:
    with pytest.raises(ResponseValidationError, match=message):
        parse_page_transcription(reply)


def test_restore_result_rebuilds_the_model(tmp_path: Path) -> None:
    task = _task(tmp_path / "p.png")
    restored = task.restore_result(parse_page_transcription(GOOD_REPLY).model_dump(mode="json"))
    assert isinstance(restored, PageTranscription)
    assert restored.answers[0].text == "Photosynthesis"


def test_questions_by_page_in_natural_order() -> None:
    assert questions_by_page(ExamSpec.model_validate(EXAM)) == {1: ["1"], 2: ["2a", "10"]}
