"""One model request per scanned page: the transcription task and its reply parsing.

A page travels as a `LazyImage`: the client renders it in the worker that sends it,
just before sending, and its fingerprint is taken from the file's identity instead of
its pixels (`image_identity`), so a run over hundreds of pages never holds more than the
pages in flight.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from aita_cli.domain.models import ExamSpec, PageImage, PageTranscription
from aita_cli.domain.naming import natural_key
from aita_cli.domain.pages import page_identity, page_pixel_size, render_page
from aita_cli.errors import InputError, ResponseValidationError
from aita_cli.execution.tasks import VisionLLMTask
from aita_cli.llm import task_kinds
from aita_cli.llm.base import LLMParams
from aita_cli.llm.messages import EncodedImage, LazyImage
from aita_cli.pipelines.replies import describe_validation, json_object_from_reply

__all__ = [
    "PageTranscriptionTask",
    "page_attachment",
    "page_image_identity",
    "page_task_id",
    "parse_page_transcription",
    "questions_by_page",
]

# Written out by hand rather than taken from PageTranscription.model_json_schema(): strict
# structured outputs need every property required and no extra properties, and the
# `source` field is ours to set, not the model's.
PAGE_TRANSCRIPTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "text": {"type": "string", "description": "The whole page, transcribed faithfully."},
        "confidence": {
            "type": "number",
            "description": "From 0 to 1: how sure you are the transcription is exact.",
        },
        "notes": {"type": "string", "description": "Anything a grader should know."},
        "answers": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "question_id": {"type": "string"},
                    "text": {"type": "string"},
                },
                "required": ["question_id", "text"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["text", "confidence", "notes", "answers"],
    "additionalProperties": False,
}

_SYSTEM_PROMPT = (
    "You transcribe scanned pages of students' exam answers, handwritten or typed. "
    "You copy exactly what is on the page; you never correct, complete or grade it."
)

_RULES = """\
Rules:
- Transcribe faithfully, word for word, keeping the student's spelling, line breaks, \
lists and numbering. Do not correct, complete or improve anything.
- Keep crossed-out text and mark it like ~~this~~.
- Mark a word you cannot read as [unclear], or [unclear: best guess] when you have one.
- Preserve mathematics exactly, written as LaTeX, e.g. $\\frac{1}{2} m v^2$.
- Describe drawings and diagrams briefly in square brackets, e.g. [diagram: a labelled \
cell with nucleus and membrane].
- "confidence" is a number from 0 to 1: how sure you are the transcription is exact.
- "notes" says what a grader should know (illegible parts, an answer continued from \
another page); an empty string when there is nothing to say."""

_ANSWERS_LISTED = """\
- "answers" has one entry {{"question_id", "text"}} for each of the questions {ids} that \
is answered on this page, holding the part of the transcription that answers it."""

_ANSWERS_BY_MARKER = """\
- "answers" has one entry {"question_id", "text"} for each question marker you see \
("1.", "2a)", "Q3", "Question 4"), holding the part of the transcription that answers it; \
an empty list when there is none."""

_REPLY_SHAPE = (
    'Reply with one JSON object only: {"text": str, "confidence": number, "notes": str, '
    '"answers": [{"question_id": str, "text": str}]}.'
)


def page_image_identity(page: PageImage, *, dpi: int, max_side: int) -> dict[str, Any]:
    """The file's identity plus how it is rendered: a changed scan or a changed DPI means
    a different request, without rendering anything to find out."""
    return {"page": page_identity(page), "dpi": dpi, "max_side": max_side}


def page_attachment(page: PageImage, *, dpi: int, max_side: int) -> LazyImage:
    """A scanned page as an image attachment, rendered only when the client sends it."""

    def pixel_size() -> tuple[int, int] | None:
        try:
            return page_pixel_size(page, dpi=dpi, max_side=max_side)
        except InputError:
            return None  # estimated as a full page; sending it will report the problem

    def render() -> EncodedImage:
        return EncodedImage(*render_page(page, dpi=dpi, max_side=max_side))

    identity = page_image_identity(page, dpi=dpi, max_side=max_side)
    return LazyImage(render, identity=identity, size=pixel_size)


def page_task_id(output_name: str, page_number: int) -> str:
    """The task id of one page, e.g. "alice/p003" (also its journal record id)."""
    return f"{output_name}/p{page_number:03d}"


def questions_by_page(exam: ExamSpec) -> dict[int, list[str]]:
    """Question ids per page number, in natural order, for questions that say a page."""
    pages: dict[int, list[str]] = defaultdict(list)
    for question in exam.questions:
        if question.page_number is not None:
            pages[question.page_number].append(question.question_id)
    return {page: sorted(ids, key=natural_key) for page, ids in pages.items()}


class PageTranscriptionTask(VisionLLMTask):
    """Transcribe one page of one student's submission into a `PageTranscription`."""

    ledger_operation = "transcribe"  # in the ledger, wherever it runs (aita grade too)

    def __init__(
        self,
        output_name: str,
        page: PageImage,
        *,
        exam_name: str,
        question_ids: Sequence[str] = (),
        dpi: int = 150,
        max_side: int = 2000,
    ) -> None:
        super().__init__(page_task_id(output_name, page.page_number))
        self.output_name = output_name
        self.page = page
        self.exam_name = exam_name
        self.question_ids = tuple(question_ids)
        self.dpi = dpi
        self.max_side = max_side

    def get_system_prompt(self) -> str:
        return _SYSTEM_PROMPT

    def get_prompt_text(self) -> str:
        listed = ", ".join(self.question_ids)
        answers_rule = (
            _ANSWERS_LISTED.format(ids=listed) if self.question_ids else _ANSWERS_BY_MARKER
        )
        return "\n".join(
            [
                "Transcribe this scanned page of a student's exam submission.",
                f"Exam: {self.exam_name}",
                f"{task_kinds.PAGE_NUMBER_LINE}: {self.page.page_number}",
                f"{task_kinds.PAGE_QUESTIONS_LINE}: {listed}".rstrip(),
                "",
                _RULES,
                answers_rule,
                "",
                _REPLY_SHAPE,
            ]
        )

    def get_images(self) -> list[LazyImage]:
        # Rendered by the client, in the worker, right before sending: never kept here.
        return [page_attachment(self.page, dpi=self.dpi, max_side=self.max_side)]

    def image_identity(self) -> Any:
        return page_image_identity(self.page, dpi=self.dpi, max_side=self.max_side)

    def get_llm_params(self) -> LLMParams:
        return {
            "vision": True,
            "temperature": 0.0,
            "json_schema": {
                "name": task_kinds.PAGE_TRANSCRIPTION,
                "schema": PAGE_TRANSCRIPTION_SCHEMA,
            },
        }

    def parse_response(self, text: str) -> PageTranscription:
        return parse_page_transcription(text)

    def restore_result(self, data: Any) -> PageTranscription:
        return PageTranscription.model_validate(data)


def parse_page_transcription(text: str) -> PageTranscription:
    """A reply's JSON (bare or in ```json fences) as a PageTranscription, or a
    ResponseValidationError saying exactly what is wrong, for the re-ask."""
    data = json_object_from_reply(
        text, expected="an object with text, confidence, notes and answers"
    )
    try:
        page = PageTranscription.model_validate(data)
    except ValidationError as exc:
        raise ResponseValidationError(
            "the reply does not match the transcription shape: " + describe_validation(exc)
        ) from None
    answers = [a for a in page.answers if a.question_id.strip()]
    for answer in answers:
        answer.question_id = answer.question_id.strip()
    return page.model_copy(update={"answers": answers})
