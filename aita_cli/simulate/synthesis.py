"""Model-like replies for `aita simulate`: valid for aita's own tasks, deterministic.

Rubrics are the offline templates' (criteria suited to the question type, points summing
exactly); answer keys and page transcriptions read like a model's: a plausible answer,
and sentences on each listed question. The wording is drawn from `rng`, or, without one,
from a hash of the prompt, so the same request always gets the same reply. A re-ask (the
last user message says what was wrong) needs no special handling: the reply is already
right.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from aita_cli.llm import task_kinds as tk
from aita_cli.llm.messages import LLMMessage
from aita_cli.llm.offline_templates import (
    QuestionFacts,
    ReplyBuilder,
    build_reply,
    template_rubric,
)

__all__ = ["simulated_reply"]


def simulated_reply(
    messages: Sequence[LLMMessage], params: Mapping[str, Any], rng: random.Random | None = None
) -> str | None:
    """The JSON reply to an aita task request, or None when the kind is unknown.

    `params` may be LLM params (with "json_schema") or an HTTP body (with
    "response_format"); without either, the kind is read from the prompt's schema
    instruction, as an endpoint that takes no json_schema format receives it.
    """
    builders: dict[str, ReplyBuilder] = {
        tk.ANSWER_KEY: lambda facts, _: _answer_key(facts),
        tk.RUBRIC: lambda facts, _: template_rubric(facts),
        tk.PAGE_TRANSCRIPTION: lambda facts, text: _page_transcription(
            facts, rng or random.Random(_stable_seed(text))
        ),
        tk.GRADE: _grade,
        tk.GRADE_BATCH: lambda facts, text: {
            "grades": [
                _grade(QuestionFacts.from_prompt(item), item) for item in tk.prompt_items(text)
            ]
        },
    }
    reply = build_reply(messages, params, builders)
    return orjson.dumps(reply).decode() if reply is not None else None


_SIMULATED_ANSWERS = {
    "multiple_choice": "B",
    "calculation": "42 (simulated result, with units)",
    "long_answer": "A well-argued essay that states a thesis and supports it.",
    "diagram": "A labelled diagram showing every required component.",
}


def _answer_key(facts: QuestionFacts) -> dict[str, Any]:
    question = facts.question_text or f"question {facts.question_id}"
    return {
        "question_id": facts.question_id,
        "correct_answer": _SIMULATED_ANSWERS.get(
            facts.question_type, f"Simulated answer to: {question}"
        ),
        "solution_steps": [
            "Identify what is asked.",
            "Apply the relevant idea.",
            "State the result.",
        ],
        "alternative_answers": ["An equivalent answer in other words."],
        "explanation": f"Simulated explanation for question {facts.question_id}.",
        "grading_notes": (
            f"Full {facts.points:g} points for a complete answer; partial credit per step."
        ),
    }


_SENTENCES = (
    "The derivative of x^2 is 2x, so the slope at x = 3 is 6.",
    "Photosynthesis turns light, water and CO2 into glucose and oxygen.",
    "The main cause was economic pressure, as the evidence in the text shows.",
    "F = m * a = 2 kg * 3 m/s^2 = 6 N.",
    "The cell membrane controls what enters and leaves the cell.",
    "Answer: (C), because the other options contradict the premise.",
)


def _page_transcription(facts: QuestionFacts, rng: random.Random) -> dict[str, Any]:
    answers = [
        {"question_id": qid, "text": rng.choice(_SENTENCES)} for qid in facts.page_question_ids
    ]
    page = f"Page {facts.page_number}" if facts.page_number else "Page"
    body = [f"Question {a['question_id']}: {a['text']}" for a in answers]
    text = "\n\n".join([page, *body]) if body else f"{page}: handwritten working, no markers."
    return {
        "text": text,
        "confidence": round(0.9 + rng.uniform(-0.04, 0.04), 3),
        "notes": "simulated transcription",
        "answers": answers,
    }


# Shares of a criterion's points a simulated grader awards, drawn per criterion.
_SHARES = (1.0, 1.0, 0.75, 0.5, 0.0)


def _grade(facts: QuestionFacts, text: str) -> dict[str, Any]:
    """A grade that keeps every rule: each criterion of the prompt's rubric within its
    points (quarter steps, rounded down), a total that adds up, a varied confidence.

    Drawn from the item's own text (the question, key, rubric and answer), not the
    request's: the same answer gets the same grade alone or sharing a call."""
    draw = random.Random(_stable_seed(_grade_item(text)))
    criteria: list[dict[str, Any]] = []
    for name, points in tk.prompt_criteria(text):
        awarded = math.floor(points * draw.choice(_SHARES) * 4) / 4
        criteria.append(
            {
                "name": name,
                "points_awarded": awarded,
                "reason": f"simulated: {awarded:g} of {points:g}",
            }
        )
    total = sum(criterion["points_awarded"] for criterion in criteria)
    return {
        "question_id": facts.question_id,
        "criteria": criteria,
        "total_points": total,
        "feedback": f"Simulated feedback on question {facts.question_id}.",
        "confidence": round(draw.uniform(0.55, 0.99), 2),
    }


def _grade_item(text: str) -> str:
    # A single grade's prompt and one item of a combined prompt share the item's lines,
    # from the question lines to the item's end line.
    start = text.find(f"{tk.QUESTION_ID_LINE}:")
    end = text.rfind(tk.ITEM_END_LINE)
    return text[start:end] if 0 <= start < end else text


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
