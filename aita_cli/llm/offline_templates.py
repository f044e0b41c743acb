"""Template replies for the offline backend: what aita can say without a model.

An answer key comes back as a template whose every field is marked for the instructor to
complete (`TEMPLATE_MARK`); a rubric gets the criteria suited to the question's type,
with points that sum exactly to the question's; a page request without an image says
nothing was read. A request names its kind and carries the facts as prompt lines
(`aita_cli.llm.task_kinds`); the reply is the JSON text of the shape that kind asks for,
valid against `aita_cli.domain.models`. `aita simulate` reuses the rubric and the facts
for its own, model-like replies (`aita_cli.simulate.synthesis`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from aita_cli.domain.provenance import TEMPLATE_SOURCE
from aita_cli.llm import task_kinds as tk
from aita_cli.llm.messages import LLMMessage, messages_text

__all__ = [
    "QuestionFacts",
    "ReplyBuilder",
    "allocate_points",
    "build_reply",
    "template_reply",
    "template_rubric",
]

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


ReplyBuilder = Callable[[QuestionFacts, str], dict[str, Any]]
"""Builds the reply of one kind from the request's facts and its whole text."""


def build_reply(
    messages: Sequence[LLMMessage], params: Mapping[str, Any], builders: Mapping[str, ReplyBuilder]
) -> dict[str, Any] | None:
    """The reply `builders` give for the kind the request names, or None when it names
    none of theirs. Shared by the offline templates and `aita simulate`."""
    text = messages_text(messages)
    kind = tk.kind_of_request(dict(params), text)
    builder = builders.get(kind) if kind is not None else None
    return builder(QuestionFacts.from_prompt(text), text) if builder is not None else None


def template_reply(messages: Sequence[LLMMessage], params: Mapping[str, Any]) -> str | None:
    """The template JSON reply to an aita task request (marked with `TEMPLATE_SOURCE`),
    or None when the request names no kind aita knows."""
    reply = build_reply(messages, params, _TEMPLATES)
    if reply is None:
        return None
    reply["source"] = TEMPLATE_SOURCE
    return orjson.dumps(reply).decode()


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


def template_rubric(facts: QuestionFacts) -> dict[str, Any]:
    """Criteria suited to the question type, whose points sum exactly to its points."""
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


# --- answer keys and pages -----------------------------------------------------


def template_answer_key(facts: QuestionFacts) -> dict[str, Any]:
    """An answer key whose every field is marked for the instructor to complete."""
    question = facts.question_text or f"question {facts.question_id}"
    return {
        "question_id": facts.question_id,
        "correct_answer": f"{TEMPLATE_MARK} Model answer to: {question}",
        "solution_steps": [f"{TEMPLATE_MARK} Step {n} of the solution." for n in (1, 2, 3)],
        "alternative_answers": [f"{TEMPLATE_MARK} Other acceptable answers, if any."],
        "explanation": f"{TEMPLATE_MARK} Why the answer is correct. Question: {question}",
        "grading_notes": f"{TEMPLATE_MARK} Partial credit rules for {facts.points:g} points.",
    }


def template_page(facts: QuestionFacts) -> dict[str, Any]:
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


_TEMPLATES: Mapping[str, ReplyBuilder] = {
    tk.ANSWER_KEY: lambda facts, _: template_answer_key(facts),
    tk.RUBRIC: lambda facts, _: template_rubric(facts),
    tk.PAGE_TRANSCRIPTION: lambda facts, _: template_page(facts),
}
