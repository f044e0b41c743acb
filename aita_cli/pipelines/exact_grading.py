"""Offline grading: what can be scored exactly, and an honest "ungraded" for the rest.

With no model there is no judgement of free text. A multiple-choice answer and a
calculation's final number are checked against a real key (the instructor's, or one a
model wrote; never an offline template) by `aita_cli.domain.exact_scoring`; everything
else is left `ungraded` and flagged, for a person, with the rubric beside it in
review.md. The task never calls anything: `answer_without_call` always answers.
"""

from __future__ import annotations

from aita_cli.domain.exact_scoring import ExactScore, choice_options, score_choice, score_number
from aita_cli.domain.grades import CriterionScore, QuestionGrade
from aita_cli.domain.models import AnswerKey, QuestionType
from aita_cli.domain.provenance import TEMPLATE_SOURCE
from aita_cli.pipelines.grade_inputs import no_answer_grade
from aita_cli.pipelines.grade_tasks import GradeTask

__all__ = ["ExactGradeTask"]

_CRITERION = "Final answer checked against the key"


class ExactGradeTask(GradeTask):
    """Score one answer exactly, or leave it ungraded with the reason."""

    def answer_without_call(self) -> QuestionGrade:
        answer = self.answer()
        self.inputs.check_readable(answer)
        fingerprint = self.input_fingerprint()
        previous = self.inputs.previous
        if previous is not None and previous.fingerprint == fingerprint:
            return previous  # a model graded exactly this: better than offline can
        question = self.inputs.context.question
        kind = question.question_type
        exact = kind in (QuestionType.MULTIPLE_CHOICE, QuestionType.CALCULATION)
        if exact and not answer.text.strip():
            return no_answer_grade(question, self.rubric(), fingerprint)
        key = self.answer_key()
        if not exact:  # a drawing with no text is still an answer, for a person
            return self._ungraded(
                f"offline: a {kind.value.replace('_', ' ')} question needs a person (or a "
                "model) to grade it"
            )
        if key is None or key.source == TEMPLATE_SOURCE:
            return self._ungraded(
                "offline: no answer key to score against (add user_answer_keys.json, or "
                "write keys with a model)"
            )
        return self._scored(self._score(key), kind)

    def _score(self, key: AnswerKey) -> ExactScore:
        answer = self.answer().text
        question = self.inputs.context.question
        if question.question_type is QuestionType.MULTIPLE_CHOICE:
            # The options map letters and texts both ways: "Paris" for the key "B".
            options = choice_options(question.question_text)
            return score_choice(answer, key.correct_answer, key.alternative_answers, options)
        try:
            return score_number(answer, key.correct_answer, self.inputs.tolerance)
        except ValueError:
            return ExactScore("unreadable", f"the key {key.correct_answer!r} holds no number")

    def _scored(self, score: ExactScore, kind: QuestionType) -> QuestionGrade:
        if score.verdict in ("unreadable", "no_answer"):
            return self._ungraded(f"offline: could not score it exactly ({score.detail})")
        possible = self.inputs.context.points
        awarded = possible if score.verdict == "correct" else 0.0
        reasons = []
        if score.verdict == "incorrect" and kind is QuestionType.CALCULATION:
            reasons.append(
                f"offline: {score.detail}; partial credit for the working was not assessed"
            )
        return QuestionGrade(
            question_id=self.question_id,
            status="graded",
            points=awarded,
            possible=possible,
            criteria=[CriterionScore(description=_CRITERION, points_possible=possible,
                                     points_awarded=awarded, reason=score.detail)],
            feedback="Correct." if awarded else f"Not correct: {score.detail}.",
            needs_review=bool(reasons),
            review_reasons=reasons,
            source="offline-auto",
            fingerprint=self.input_fingerprint(),
        )  # fmt: skip

    def _ungraded(self, reason: str) -> QuestionGrade:
        return QuestionGrade(
            question_id=self.question_id,
            status="ungraded",
            possible=self.inputs.context.points,
            needs_review=True,
            review_reasons=[reason],
            fingerprint=self.input_fingerprint(),
        )
