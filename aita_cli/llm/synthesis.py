"""Deterministic replies to aita's own tasks, for backends that answer without a model.

The offline backend (templates) and `aita simulate` both answer answer-key, rubric and
page-transcription requests here. A request names its kind and carries the facts a reply
needs as prompt lines (`aita_cli.llm.task_kinds`); the reply is the JSON text of the shape
the kind asks for, valid against `aita_cli.domain.models`. A re-ask (the last user message
states what was wrong) needs no special handling: the reply is already right.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from aita_cli.llm import task_kinds as tk
from aita_cli.llm.base import Message
from aita_cli.usage import Usage

__all__ = [
    "CHARS_PER_TOKEN",
    "IMAGE_TOKENS",
    "QuestionFacts",
    "allocate_points",
    "estimate_usage",
    "synthesize_reply",
]

CHARS_PER_TOKEN = 4
IMAGE_TOKENS = 800  # a page image, roughly, as vision models count it
TEMPLATE_MARK = "[TEMPLATE — instructor to complete]"
DEFAULT_POINTS = 10.0
# Point steps tried in order; the first that divides the total evenly is used.
_POINT_UNITS = (1.0, 0.5, 0.25, 0.1, 0.05, 0.01)


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    """What a request's prompt lines say about its question or page."""

    question_id: str = "unknown"
    question_type: str = "short_answer"
    points: float = DEFAULT_POINTS
    question_text: str = ""
    page_number: str | None = None
    page_question_ids: tuple[str, ...] = ()

    @classmethod
    def from_prompt(cls, text: str) -> QuestionFacts:
        """Read the `Label: value` lines of a prompt; absent lines keep the defaults."""
        field = tk.read_prompt_field
        page_ids = field(text, tk.PAGE_QUESTIONS_LINE) or ""
        return cls(
            question_id=field(text, tk.QUESTION_ID_LINE) or "unknown",
            question_type=re.sub(
                r"[\s-]+", "_", (field(text, tk.QUESTION_TYPE_LINE) or "short_answer").lower()
            ),
            points=_parse_points(field(text, tk.QUESTION_POINTS_LINE)),
            question_text=field(text, tk.QUESTION_TEXT_LINE) or "",
            page_number=field(text, tk.PAGE_NUMBER_LINE),
            page_question_ids=tuple(qid.strip() for qid in page_ids.split(",") if qid.strip()),
        )


def synthesize_reply(
    messages: list[Message],
    params: Mapping[str, Any],
    *,
    source: str | None,
    rng: random.Random | None = None,
) -> str | None:
    """The JSON reply to an aita task request, or None when the kind is unknown.

    `params` may be LLM params (with "json_schema") or an HTTP body (with
    "response_format"). `source` is written into the reply when not None. Without `rng`,
    the wording is chosen by a hash of the prompt, so the same request gets the same reply.
    """
    kind = tk.kind_of_request(dict(params))
    if kind is None:
        return None
    text = tk.prompt_text(messages)
    facts = QuestionFacts.from_prompt(text)
    chooser = rng or random.Random(_stable_seed(text))
    template = source is not None and source.startswith("offline")
    if kind == tk.ANSWER_KEY:
        reply = _answer_key(facts, template=template)
    elif kind == tk.RUBRIC:
        reply = _rubric(facts)
    elif template:
        reply = _page_template(facts)
    else:
        reply = _page_transcription(facts, chooser)
    if source is not None:
        reply["source"] = source
    return orjson.dumps(reply).decode()


def estimate_usage(messages: Sequence[Message], reply: str) -> Usage:
    """Tokens a call would use: ~4 characters a token, ~800 tokens an image."""
    images = sum(
        1
        for message in messages
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if isinstance(part, dict) and part.get("type") == "image_url"
    )
    prompt_chars = len(tk.prompt_text(list(messages)))
    return Usage(
        prompt_tokens=_tokens(prompt_chars) + IMAGE_TOKENS * images,
        completion_tokens=_tokens(len(reply)),
    )


def allocate_points(total: float, weights: Sequence[float]) -> list[tuple[int, float]]:
    """Split `total` over criteria of the given weights: (criterion index, points) pairs
    whose points sum exactly to `total`.

    Points go out in the largest even step (1, 0.5, 0.25, ...), at least one step each.
    With fewer steps than criteria only the heaviest criteria are kept (in their order),
    and a total no step divides goes to the heaviest criterion alone.
    """
    unit, steps = _point_unit(total)
    if not unit:
        return [(_heaviest(weights, 1)[0], total)]
    kept = _heaviest(weights, min(len(weights), steps))
    shares = _largest_remainder(steps - len(kept), [weights[i] for i in kept])
    return [
        (index, round((1 + share) * unit, 6)) for index, share in zip(kept, shares, strict=True)
    ]


# --- rubrics -------------------------------------------------------------------------

# (name, description, weight, example) per question type.
_CRITERIA: dict[str, tuple[tuple[str, str, float, str], ...]] = {
    "multiple_choice": (
        ("Correct choice", "Selects the correct option.", 1.0, "Full marks for the key"),
    ),
    "calculation": (
        ("Method", "Chooses a correct approach or formula.", 0.3, "States the formula"),
        ("Working", "Carries out the steps without errors.", 0.3, "Shows each step"),
        ("Final answer", "Reaches the correct result.", 0.3, "Matches the key"),
        ("Units", "Gives the result with correct units.", 0.1, "Units stated"),
    ),
    "long_answer": (
        ("Thesis", "States a clear position or main claim.", 0.25, "Opens with a claim"),
        ("Evidence", "Supports the claim with relevant evidence.", 0.3, "Cites examples"),
        ("Reasoning", "Connects evidence to claim logically.", 0.3, "Explains why"),
        ("Clarity", "Is organised and clearly written.", 0.15, "Clear structure"),
    ),
    "short_answer": (
        ("Key idea", "Identifies the central concept.", 0.6, "Names the key idea"),
        ("Accuracy", "States it correctly and precisely.", 0.4, "No factual errors"),
    ),
    "diagram": (
        ("Components", "Includes every required component.", 0.4, "All parts drawn"),
        ("Labels", "Labels components correctly.", 0.3, "Each part labelled"),
        ("Accuracy", "Shows correct relationships and proportions.", 0.3, "Arrows correct"),
    ),
}


def _rubric(facts: QuestionFacts) -> dict[str, Any]:
    template = _CRITERIA.get(facts.question_type, _CRITERIA["short_answer"])
    weights = [weight for _, _, weight, _ in template]
    criteria = [
        {
            "name": template[index][0],
            "description": template[index][1],
            "points": points,
            "examples": [template[index][3]],
        }
        for index, points in allocate_points(facts.points, weights)
    ]
    return {"question_id": facts.question_id, "total_points": facts.points, "criteria": criteria}


# --- answer keys ---------------------------------------------------------------------

_SIMULATED_ANSWERS = {
    "multiple_choice": "B",
    "calculation": "42 (simulated result, with units)",
    "long_answer": "A well-argued essay that states a thesis and supports it.",
    "diagram": "A labelled diagram showing every required component.",
}


def _answer_key(facts: QuestionFacts, *, template: bool) -> dict[str, Any]:
    question = facts.question_text or f"question {facts.question_id}"
    if template:
        answer = f"{TEMPLATE_MARK} Model answer to: {question}"
        steps = [f"{TEMPLATE_MARK} Step {n} of the solution." for n in (1, 2, 3)]
        alternatives = [f"{TEMPLATE_MARK} Other acceptable answers, if any."]
        explanation = f"{TEMPLATE_MARK} Why the answer is correct. Question: {question}"
        notes = f"{TEMPLATE_MARK} Partial credit rules for {facts.points:g} points."
    else:
        answer = _SIMULATED_ANSWERS.get(facts.question_type, f"Simulated answer to: {question}")
        steps = ["Identify what is asked.", "Apply the relevant idea.", "State the result."]
        alternatives = ["An equivalent answer in other words."]
        explanation = f"Simulated explanation for question {facts.question_id}."
        notes = f"Full {facts.points:g} points for a complete answer; partial credit per step."
    return {
        "question_id": facts.question_id,
        "correct_answer": answer,
        "solution_steps": steps,
        "alternative_answers": alternatives,
        "explanation": explanation,
        "grading_notes": notes,
    }


# --- page transcriptions -------------------------------------------------------------

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


def _page_template(facts: QuestionFacts) -> dict[str, Any]:
    """A page request that carried no image: nothing was read, and the reply says so."""
    answers = [
        {"question_id": qid, "text": f"{TEMPLATE_MARK} no page image was given"}
        for qid in facts.page_question_ids
    ]
    return {
        "text": f"{TEMPLATE_MARK} no page image was given to read.",
        "confidence": 0.0,
        "notes": "offline template: the request carried no page image",
        "answers": answers,
    }


# --- helpers -------------------------------------------------------------------------


def _parse_points(value: str | None) -> float:
    match = re.search(r"\d+(?:\.\d+)?", value or "")
    points = float(match.group()) if match else 0.0
    return points if points > 0 else DEFAULT_POINTS


def _point_unit(total: float) -> tuple[float, int]:
    """The largest step dividing `total` evenly and how many steps it makes; (0, 0) if none."""
    for unit in _POINT_UNITS:
        steps = total / unit
        if round(steps) >= 1 and math.isclose(steps, round(steps), abs_tol=1e-9):
            return unit, round(steps)
    return 0.0, 0


def _heaviest(weights: Sequence[float], count: int) -> list[int]:
    """Indices of the `count` heaviest weights (earlier wins ties), in original order."""
    ranked = sorted(range(len(weights)), key=lambda i: (-weights[i], i))
    return sorted(ranked[:count])


def _largest_remainder(steps: int, weights: Sequence[float]) -> list[int]:
    """Share `steps` whole steps out by weight (Hamilton's method; earlier wins ties)."""
    total_weight = sum(weights) or 1.0
    ideal = [steps * weight / total_weight for weight in weights]
    shares = [math.floor(value) for value in ideal]
    by_remainder = sorted(range(len(ideal)), key=lambda i: (-(ideal[i] - shares[i]), i))
    for index in by_remainder[: steps - sum(shares)]:
        shares[index] += 1
    return shares


def _tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def _stable_seed(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
