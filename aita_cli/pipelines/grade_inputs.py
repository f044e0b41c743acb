"""What one grade is made from, and the review flags every grade is checked for.

`GradeInputs` holds what is known when the batch is planned (the instructor's key, a
rubric or transcript on disk, the grade kept from the last run) and the ids of the tasks
in the same batch that supply the rest. `StudentAnswer` is the part of a transcript that
answers one question, wherever it came from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from aita_cli.domain.grades import CriterionScore, QuestionGrade
from aita_cli.domain.models import (
    AnswerKey,
    PageImage,
    PageTranscription,
    Question,
    QuestionType,
    Rubric,
)
from aita_cli.domain.pages import page_identity
from aita_cli.errors import DependencyFailedError, InputError
from aita_cli.execution.tasks import request_fingerprint
from aita_cli.pipelines.rubric_tasks import QuestionContext

__all__ = [
    "LOW_MODEL_CONFIDENCE",
    "LOW_TRANSCRIPT_CONFIDENCE",
    "NO_ANSWER_REASON",
    "GradeInputs",
    "RenderSettings",
    "StudentAnswer",
    "grade_task_id",
    "no_answer_grade",
    "review_reasons",
]

# Below these a person should look. A model's transcription of clean handwriting
# reports 0.9 and more, and on-device OCR of the typed sample 0.98; under 0.75 words
# are being guessed. A grader's own confidence under 0.6 means it says it is unsure.
LOW_TRANSCRIPT_CONFIDENCE = 0.75
LOW_MODEL_CONFIDENCE = 0.6
NO_ANSWER_REASON = (
    "no answer found: the transcript has no answer to this question (OCR may have missed it)"
)


def grade_task_id(student: str, question_id: str) -> str:
    """The task id (and journal record id) of one grade, e.g. "grade/alice/2a"."""
    return f"grade/{student}/{question_id}"


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """How a page is rendered when a drawing is sent along."""

    dpi: int = 150
    max_side: int = 2000


@dataclass(frozen=True, slots=True)
class StudentAnswer:
    """A student's answer to one question: its text, the pages it sits on, and how sure
    the transcription was (the lowest of those pages)."""

    text: str
    pages: tuple[int, ...] = ()
    confidence: float | None = None
    page_images: tuple[PageImage, ...] = ()
    unread_pages: tuple[int, ...] = ()  # the student's pages whose transcription failed

    def where(self) -> str:
        """Where the answer came from, for the prompt."""
        if not self.pages:
            return "no answer found in the transcript"
        numbers = ", ".join(str(number) for number in self.pages)
        found = f"transcribed from page{'s' if len(self.pages) > 1 else ''} {numbers}"
        return found if self.confidence is None else f"{found}; confidence {self.confidence:.2f}"

    @classmethod
    def from_pages(
        cls, question_id: str, pages: Sequence[tuple[PageImage, PageTranscription]]
    ) -> StudentAnswer:
        """The answer as the page transcriptions give it, parts joined in page order."""
        parts, numbers, confidences, images = [], [], [], []
        for page, transcription in pages:
            texts = [a.text.strip() for a in transcription.answers if a.question_id == question_id]
            if not texts:
                continue
            parts += [text for text in texts if text]
            numbers.append(page.page_number)
            confidences.append(transcription.confidence)
            images.append(page)
        lowest = min(confidences) if confidences else None
        return cls("\n\n".join(parts), tuple(numbers), lowest, tuple(images))

    @classmethod
    def from_transcript(
        cls, question_id: str, transcript: Mapping[str, Any], pages: Sequence[PageImage]
    ) -> StudentAnswer:
        """The answer a transcript on disk holds (results/transcripts/<student>.json)."""
        text = str(transcript.get("answers", {}).get(question_id, ""))
        numbers = tuple(int(n) for n in transcript.get("answer_pages", {}).get(question_id, []))
        confidence_of = {
            entry.get("page_number"): entry.get("confidence")
            for entry in transcript.get("pages", [])
            if isinstance(entry, Mapping)
        }
        found = [float(value) for n in numbers if (value := confidence_of.get(n)) is not None]
        images = tuple(page for page in pages if page.page_number in numbers)
        return cls(text, numbers, min(found) if found else None, images)


@dataclass(frozen=True)
class GradeInputs:
    """One grade's inputs: known now, or the id of the task in this batch that gives it.

    At most one of `known_key`/`key_task` is set (neither: no key exists), exactly one
    of `known_rubric`/`rubric_task`, and either `known_answer` or `page_tasks` (every
    page of the student: an answer may sit on any of them). `student_pages` are the
    student's scans, for a drawing whose page the transcript does not name.
    """

    student: str  # the submission's output name
    context: QuestionContext
    known_key: AnswerKey | None = None
    key_task: str | None = None
    known_rubric: Rubric | None = None
    rubric_task: str | None = None
    known_answer: StudentAnswer | None = None
    page_tasks: tuple[tuple[str, PageImage], ...] = ()
    previous: QuestionGrade | None = None  # a model's grade from the last run, to keep
    tolerance: float | None = None  # the instructor's, for a calculation's number
    render: RenderSettings = RenderSettings()
    student_pages: tuple[PageImage, ...] = ()

    @property
    def task_id(self) -> str:
        return grade_task_id(self.student, self.context.question_id)

    @property
    def dependencies(self) -> tuple[str, ...]:
        named = (self.key_task, self.rubric_task, *(task_id for task_id, _ in self.page_tasks))
        return tuple(task_id for task_id in named if task_id is not None)

    def answer_key(self, found: Mapping[str, Any]) -> AnswerKey | None:
        if self.key_task is None:
            return self.known_key
        return _as(AnswerKey, found[self.key_task])

    def rubric(self, found: Mapping[str, Any]) -> Rubric:
        if self.rubric_task is not None:
            return _as(Rubric, found[self.rubric_task])
        if self.known_rubric is None:
            raise InputError(f"question {self.context.question_id} has no rubric")
        return self.known_rubric

    def answer(self, found: Mapping[str, Any]) -> StudentAnswer:
        """The answer as the transcript gives it. A page that failed (its result is
        None: grades accept their pages' failures) is listed in `unread_pages`."""
        if self.known_answer is not None:
            return self.known_answer
        read = [(page, found[task_id]) for task_id, page in self.page_tasks]
        pages = [(page, _as(PageTranscription, result)) for page, result in read if result]
        answer = StudentAnswer.from_pages(self.context.question_id, pages)
        unread = tuple(page.page_number for page, result in read if result is None)
        return replace(answer, unread_pages=unread)

    def check_readable(self, answer: StudentAnswer) -> None:
        """Fail (for --resume to retry) when a page that failed may hold the answer: the
        question's own page, or any page when no answer was found on the others. An
        answer nobody could read is not "no answer" and never a 0."""
        expected = self.context.question.page_number
        if not answer.unread_pages:
            return
        if expected in answer.unread_pages or not answer.text.strip():
            page = expected if expected in answer.unread_pages else answer.unread_pages[0]
            task_id = next(t for t, p in self.page_tasks if p.page_number == page)
            raise DependencyFailedError(task_id)

    def drawing_pages(self, answer: StudentAnswer) -> tuple[PageImage, ...]:
        """The pages a drawing is graded from: where the answer's text sits, else the
        question's own page, else every page of the student."""
        if answer.page_images:
            return answer.page_images
        expected = self.context.question.page_number
        own = tuple(page for page in self.student_pages if page.page_number == expected)
        return own or self.student_pages

    def fingerprint(self, found: Mapping[str, Any]) -> str:
        """What the grade is made from: question and instructions, key, rubric, answer
        (and, for a drawing, which scans), whoever grades it."""
        key, answer = self.answer_key(found), self.answer(found)
        drawing = self.context.question.question_type is QuestionType.DIAGRAM
        scans = self.drawing_pages(answer) if drawing else answer.page_images
        return request_fingerprint(
            {
                "question": self.context.describe(),
                "key": key.model_dump(mode="json", exclude={"source"}) if key else None,
                "tolerance": self.tolerance,
                "rubric": self.rubric(found).model_dump(mode="json", exclude={"source"}),
                "answer": answer.text.strip(),
                "pages": [page_identity(page) for page in scans],
            }
        )


ModelT = TypeVar("ModelT", AnswerKey, Rubric, PageTranscription)


def _as(model: type[ModelT], value: Any) -> ModelT:
    """A dependency's result as its model (it is JSON when restored from a journal)."""
    return value if isinstance(value, model) else model.model_validate(value)


def review_reasons(
    answer: StudentAnswer, model_confidence: float | None, rule_breaks: Sequence[str]
) -> list[str]:
    """Why a person should look at a model's grade, if they should."""
    reasons = []
    if answer.confidence is not None and answer.confidence < LOW_TRANSCRIPT_CONFIDENCE:
        reasons.append(f"low transcript confidence ({answer.confidence:.2f})")
    if model_confidence is not None and model_confidence < LOW_MODEL_CONFIDENCE:
        reasons.append(f"low model confidence ({model_confidence:.2f})")
    if rule_breaks:
        reasons.append(
            f"the model's reply broke the rubric's rules and was re-asked: {rule_breaks[0]}"
        )
    if answer.unread_pages:
        pages = ", ".join(str(number) for number in answer.unread_pages)
        reasons.append(f"page {pages} could not be transcribed; the answer may continue there")
    return reasons


def no_answer_grade(question: Question, rubric: Rubric, fingerprint: str) -> QuestionGrade:
    """A 0 for an answer that is not there, flagged: OCR may have missed it."""
    return QuestionGrade(
        question_id=question.question_id,
        status="graded",
        points=0.0,
        possible=question.points,
        criteria=[
            CriterionScore(
                description=criterion.name,
                points_possible=criterion.points,
                points_awarded=0.0,
                reason="no answer found",
            )
            for criterion in rubric.criteria
        ],
        feedback="No answer to this question was found in your submission.",
        needs_review=True,
        review_reasons=[NO_ANSWER_REASON],
        source="offline-auto",
        fingerprint=fingerprint,
    )
