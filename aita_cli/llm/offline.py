"""The embedded offline backend: templates for text tasks, OCR for page images.

With no provider configured aita still runs. Answer keys come back as templates clearly
marked for the instructor to complete, rubrics get criteria suited to the question type
(`aita_cli.llm.offline_templates`), and page transcriptions are read by real OCR from the
image bytes the messages carry. Every reply is marked with its `source`
(`aita_cli.domain.provenance`) so nobody mistakes it for a model's answer.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from PIL import Image, UnidentifiedImageError

from aita_cli.domain.provenance import OCR_SOURCE
from aita_cli.errors import BadRequestError
from aita_cli.llm import task_kinds as tk
from aita_cli.llm.base import LLMResponse
from aita_cli.llm.messages import (
    ImageAttachment,
    LLMMessage,
    MessageLike,
    as_messages,
    messages_text,
)
from aita_cli.llm.ocr import OcrEngine, OcrLine, RapidOcrEngine
from aita_cli.llm.offline_templates import template_reply
from aita_cli.llm.tokens import estimate_usage

__all__ = [
    "OfflineLLMClient",
    "group_answers",
    "reading_order",
]

_OFFLINE_KIND = "offline (templates and on-device OCR, no model)"
OFFLINE_DESCRIPTION = (
    f"{_OFFLINE_KIND} — no provider configured: set OPENROUTER_API_KEY or AITA_BASE_URL "
    "to use a model"
)
OFFLINE_MODEL = "offline"

# A question marker at the start of a line: "Q2", "Q2.", "Question 3", "Question 3:"
# (punctuation optional), or a bare "1a." / "1a)" (punctuation required, and not a
# decimal such as "1.5").
_MARKER = re.compile(
    r"^\s*(?:(?:question|q)\s*(?P<q>\d+[a-z]?)\b[.):]?|(?P<n>\d+[a-z]?)[.)](?!\d))\s*",
    re.IGNORECASE,
)
# OCR often drops the space after a question number: "4. 150 / 2.5" reads "4.150 / 2.5".
# Such a glued "4.150" is a marker only when the page lists question 4 and has not
# reached it yet, so a decimal inside an answer ("2.5 hours") is still ordinary text.
_GLUED_MARKER = re.compile(r"^\s*(?P<n>\d+[a-z]?)[.)](?=\d)", re.IGNORECASE)


class OfflineLLMClient:
    """An `LLMClient` that needs no provider; cost is always 0.

    `ocr` reads page images; by default a `RapidOcrEngine`, created on first use.
    `reason` says why offline was chosen, for `describe()`; None means nothing was
    configured, and the description says how to configure a model.
    """

    def __init__(self, ocr: OcrEngine | None = None, *, reason: str | None = None) -> None:
        self._ocr = ocr
        self._ocr_lock = threading.Lock()
        self._reason = reason

    @property
    def supports_vision(self) -> bool:
        return True

    @property
    def is_local(self) -> bool:
        """True: templates and OCR run here, on this machine's CPU, for free."""
        return True

    def model_for(self, *, vision: bool = False) -> str:
        return OFFLINE_MODEL

    def describe(self) -> str:
        """What this backend is and why it runs, in one line."""
        return f"{_OFFLINE_KIND} — {self._reason}" if self._reason else OFFLINE_DESCRIPTION

    def complete(self, messages: Sequence[MessageLike], **params: Any) -> LLMResponse:
        """A template reply for text tasks, an OCR transcription for page images."""
        typed = as_messages(messages)
        images = [image for message in typed for image in message.images]
        if images and tk.kind_of_request(params) == tk.PAGE_TRANSCRIPTION:
            content = self._transcribe(typed, images)
        else:
            content = template_reply(typed, params) or (
                "[offline] No model is configured, so there is no answer to this prompt. "
                "Set OPENROUTER_API_KEY or AITA_BASE_URL to use a model."
            )
        return LLMResponse(
            content=content,
            usage=estimate_usage(typed, content),
            cost=0.0,
            model=OFFLINE_MODEL,
        )

    def cache_scope(self) -> None:
        """None: offline replies are made here, for free, and never cached."""
        return

    def close(self) -> None:
        """Nothing to release."""

    def _engine(self) -> OcrEngine:
        with self._ocr_lock:
            if self._ocr is None:
                self._ocr = RapidOcrEngine()
            return self._ocr

    def _transcribe(self, messages: list[LLMMessage], images: Sequence[ImageAttachment]) -> str:
        lines: list[OcrLine] = []
        for image in images:
            lines.extend(reading_order(self._engine().read(_open_image(image))))
        texts = [line.text for line in lines]
        listed = tk.read_prompt_field(messages_text(messages), tk.PAGE_QUESTIONS_LINE) or ""
        wanted = [qid.strip() for qid in listed.split(",") if qid.strip()]
        answers = group_answers(texts, wanted)
        notes = f"offline OCR (rapidocr), {len(lines)} lines"
        if not lines:
            notes += "; no text found"
        reply = {
            "text": "\n".join(texts),
            "confidence": round(sum(line.score for line in lines) / len(lines), 4)
            if lines
            else 0.0,
            "notes": notes,
            "answers": [{"question_id": qid, "text": text} for qid, text in answers.items()],
            "source": OCR_SOURCE,
        }
        return orjson.dumps(reply).decode()


def reading_order(lines: Sequence[OcrLine], row_tolerance: float = 12.0) -> list[OcrLine]:
    """Lines top to bottom; lines whose tops are within `row_tolerance` pixels form one
    row, read left to right."""
    ordered: list[OcrLine] = []
    row: list[OcrLine] = []
    for line in sorted(lines, key=lambda item: (item.box_top, item.box_left)):
        if row and line.box_top - row[0].box_top > row_tolerance:
            ordered.extend(sorted(row, key=lambda item: item.box_left))
            row = []
        row.append(line)
    ordered.extend(sorted(row, key=lambda item: item.box_left))
    return ordered


def group_answers(lines: Sequence[str], wanted_ids: Sequence[str] = ()) -> dict[str, str]:
    """Answers by question id, from marker lines ("1a.", "Q2", "Question 3:", ...).

    A marker starts its question, and the question runs until the next marker. When
    `wanted_ids` lists any ids, only those are kept (matched case-insensitively, spelled
    as listed), and a marker for another id is ordinary text (a numbered step, say); a
    listed number glued to the answer ("4.150", OCR having dropped the space) also
    starts its question if the page has not reached it yet. A page listing exactly one
    question and holding no marker answers that question whole.
    """
    by_key = {qid.lower(): qid for qid in wanted_ids}
    answers: dict[str, list[str]] = {}
    current: str | None = None
    for line in lines:
        rest = line
        marker = _marker_in(line, by_key, current)
        if marker is not None:
            current, start = marker
            answers.setdefault(current, [])
            rest = line[start:]
        if current is not None and rest.strip():
            answers[current].append(rest.strip())
    if not answers and len(wanted_ids) == 1 and any(line.strip() for line in lines):
        answers[wanted_ids[0]] = [line.strip() for line in lines if line.strip()]
    return {qid: "\n".join(parts) for qid, parts in answers.items()}


def _marker_in(line: str, by_key: Mapping[str, str], current: str | None) -> tuple[str, int] | None:
    """The question id `line` starts and where its answer text begins, or None.

    `by_key` maps lower-cased listed ids to their spelling, in page order (empty: any
    id); `current` is the question being read.
    """
    match = _MARKER.match(line)
    if match:
        found = match.group("q") or match.group("n")
        if by_key and found.lower() not in by_key:
            return None
        return by_key.get(found.lower(), found), match.end()
    glued = _GLUED_MARKER.match(line)
    key = glued.group("n").lower() if glued else ""
    if glued is None or key not in by_key:
        return None
    order = list(by_key)
    if current is not None and order.index(key) <= order.index(current.lower()):
        return None  # a decimal in the current answer, not the next question
    return by_key[key], glued.end()


def _open_image(attachment: ImageAttachment) -> Image.Image:
    """The attachment's pixels, from its bytes (a page is rendered now); a URL that only
    names an image elsewhere is a bad request: offline OCR fetches nothing."""
    try:
        encoded = attachment.load()
    except BadRequestError as exc:
        raise BadRequestError(
            f"offline OCR reads only images sent inline (data: URLs or pages): {exc}"
        ) from exc
    try:
        image = Image.open(io.BytesIO(encoded.data))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise BadRequestError(f"offline OCR could not decode the page image: {exc}") from exc
    return image
