"""What can be scored without a model: a multiple-choice answer, a calculation's number.

Offline grading must not pretend to judge free text, but some answers can be checked
exactly against a real key (the instructor's, or one a model wrote; never a template):

- a multiple-choice answer, by its letter in any case or bracket style ("b", "(B)",
  "B.", "answer: b") or by the option's own text;
- a calculation's final number, with its unit when the key has one, within the key's
  tolerance.

A verdict is never a guess. What cannot be read (no letter, no number: OCR may have
mangled it) is "unreadable", for a person to look at, not "incorrect"; an empty
answer is "no_answer".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["ExactScore", "Verdict", "score_choice", "score_number"]

Verdict = Literal["correct", "incorrect", "unreadable", "no_answer"]

# A choice letter standing alone: "B", "(b)", "b)", "B.", "B:" (A to H: few exams have more).
_LETTER = re.compile(r"^\(?([A-Ha-h])[).:]?$")
_STATED = re.compile(r"\b(?:answer|option|choice)\s*(?:is|:)?\s*\(?([A-Ha-h])\b\)?", re.IGNORECASE)
_LEADING = re.compile(r"^\(?([A-Ha-h])[).:](?:\s|$)")
# Capital choice letters standing alone anywhere ("A or maybe C"): more than one is no
# answer a person would mark without reading it. (Lower case "a" is usually a word.)
_MENTIONED = re.compile(r"(?<!\w)\(?([A-H])\)?(?!\w)")
# A number as people write it: -3, 2.5, .5, 1,200.5, 6.02e23, 6.02 x 10^23.
# Not a digit that is part of a word or an exponent ("cm^3", "x2", "CO2").
_NUMBER = re.compile(
    r"(?<![\w^.])(?P<value>[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"(?:\s*(?:x|×|\*)\s*10\^(?P<power>[-+]?\d+))?"
)
_UNIT = re.compile(r"^\s*([A-Za-zµΩ°%][A-Za-z0-9µΩ°%/^·*\-]*)")


@dataclass(frozen=True, slots=True)
class ExactScore:
    """A verdict and, in words, why."""

    verdict: Verdict
    detail: str


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _letter(text: str) -> str | None:
    """The one choice letter `text` gives, if it gives exactly one."""
    stripped = text.strip()
    for pattern in (_LETTER, _LEADING):
        found = pattern.match(stripped)
        if found:
            return found.group(1).upper()
    stated = {match.upper() for match in _STATED.findall(stripped)}
    return stated.pop() if len(stated) == 1 else None


def score_choice(answer: str, correct: str, alternatives: Sequence[str] = ()) -> ExactScore:
    """A multiple-choice answer against the key `correct` ("B", "B) Paris" or
    "Paris") and its `alternatives`."""
    if not answer.strip():
        return ExactScore("no_answer", "no answer found")
    keys = [correct, *alternatives]
    if len(set(_MENTIONED.findall(answer))) > 1:
        return ExactScore("unreadable", "the answer names more than one choice")
    given = _letter(answer)
    key_letters = {letter for letter in (_letter(key) for key in keys) if letter}
    if given is not None and key_letters:
        verdict: Verdict = "correct" if given in key_letters else "incorrect"
        return ExactScore(verdict, f"chose {given}; the key is {', '.join(sorted(key_letters))}")
    texts = {_words(_LEADING.sub("", key.strip())) for key in keys} - {""}
    if _words(answer) in texts:
        return ExactScore("correct", "the answer is the key's option text")
    if given is not None or texts:
        shown = given or answer.strip()[:40]
        return ExactScore("incorrect", f"chose {shown!r}; the key is {correct!r}")
    return ExactScore("unreadable", "no choice letter or option text found")


@dataclass(frozen=True, slots=True)
class _Quantity:
    value: float
    unit: str


def _quantities(text: str) -> list[_Quantity]:
    found: list[_Quantity] = []
    for match in _NUMBER.finditer(text.replace("−", "-")):
        raw = match.group("value")
        if not raw or not any(char.isdigit() for char in raw):
            continue
        try:
            value = float(raw.replace(",", ""))
        except ValueError:
            continue
        if match.group("power"):
            value *= 10.0 ** int(match.group("power"))
        unit = _UNIT.match(text[match.end() :])
        found.append(_Quantity(value, unit.group(1) if unit else ""))
    return found


def score_number(answer: str, correct: str, tolerance: float | None = None) -> ExactScore:
    """A calculation's final number (the last one in the answer) against the key's,
    within `tolerance` (absolute; None: a relative 1e-9), with the key's unit if it has
    one."""
    if not answer.strip():
        return ExactScore("no_answer", "no answer found")
    keys = _quantities(correct)
    if not keys:
        raise ValueError(f"the key {correct!r} holds no number")
    key = keys[0]
    given = _quantities(answer)
    if not given:
        return ExactScore("unreadable", "no number found in the answer")
    final = given[-1]
    allowed = tolerance if tolerance is not None else 1e-9 * max(abs(key.value), 1.0)
    if not math.isclose(final.value, key.value, rel_tol=0.0, abs_tol=allowed):
        return ExactScore("incorrect", f"{final.value:g} against the key {key.value:g}")
    if key.unit and final.unit.lower() != key.unit.lower():
        unit = final.unit or "no unit"
        return ExactScore("incorrect", f"{final.value:g} {unit}; the key is in {key.unit}")
    return ExactScore("correct", f"{final.value:g} {final.unit}".strip() + " matches the key")
