"""What can be scored without a model: a multiple-choice answer, a calculation's number.

Offline grading must not pretend to judge free text, but some answers can be checked
exactly against a real key (the instructor's, or one a model wrote; never a template):

- a multiple-choice answer, by its letter in any case or bracket style ("b", "(B)",
  "B.", "answer: b", "I picked C") or by an option's own text ("Paris"), letters and
  option texts mapped both ways when the question's options are known;
- a calculation's final number (after the last "=", else the last one), with its unit
  when the key has one, within the key's tolerance.

A verdict is never a guess. "incorrect" only when the answer clearly gives a different
answer; anything ambiguous or oddly written (two letters, a letter that disagrees with
the text, the key's number in the working but another one as the result, the right
number in another unit) is "unreadable", for a person to look at; an empty answer is
"no_answer".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["ExactScore", "Verdict", "choice_options", "score_choice", "score_number"]

Verdict = Literal["correct", "incorrect", "unreadable", "no_answer"]


@dataclass(frozen=True, slots=True)
class ExactScore:
    """A verdict and, in words, why."""

    verdict: Verdict
    detail: str


# ---------------------------------------------------------------------------- choices

# An option in a question: "(A) ice", "A) ice" or "A. ice" (A to H: few exams have
# more), at the start or after a space, up to the next option.
_OPTION = re.compile(r"(?:^|(?<=\s))(?:\(([A-H])\)|([A-H])[).])\s+")
# A key that is only a letter ("B", "(b)", "b)"), or a letter then its text ("B) Paris").
_KEY_LETTER = re.compile(r"^\s*\(?([A-Ha-h])\)?[.:]?\s*$")
_KEY_LEADING = re.compile(r"^\s*\(?([A-Ha-h])(?:\)|\s*[.:\-–—])\s*")
# A letter at the start followed by a separator: "b)", "(b)", "b.", "B -", "b:".
_LEADING = re.compile(r"^\s*\(?([A-Ha-h])(?:\)|\s*[.:\-–—](?!\w))")
# A capital letter standing alone ("I picked C"; "I" is a word). A capital "A" before a
# lower-case word may be the article ("A ball falls") or a choice ("A or maybe C"):
# it is no choice, but nor is any other letter beside it one that can be trusted.
_CAPITAL = re.compile(r"(?<![\w'’])(?:A(?!\s+[a-z])|[B-H])(?![\w'’])")
_ARTICLE_A = re.compile(r"(?<![\w'’])A(?=\s+[a-z])")
# Lower-case letters standing alone; "a" is too common a word to count here.
_LOWER = re.compile(r"(?<![\w'’])[b-h](?![\w'’])")
# "answer is C", "option: c", "choice b"; a lower-case "a" only where no word follows it
# ("the answer is a planet" names no choice).
_STATED = re.compile(
    r"\b(?:answer|option|choice)\s*(?:is|:)?\s*\(?(?:([A-Ha-h])(?![\w'’])(?!\s*[).]?\s+[a-z])"
    r"|([A-H])(?![\w'’]))"
)
_NEGATION = re.compile(r"\b(?:not|never)\b|n[’']t\b", re.IGNORECASE)


def choice_options(question_text: str) -> dict[str, str]:
    """The options of a multiple-choice question, letter -> text: "(A) ice melting (B)
    salt ..." or the "A)" / "A." styles. {} unless the letters run A, B, C... in order
    (a stray "A." in the question is no list of options)."""
    matches = list(_OPTION.finditer(question_text))
    letters = [match.group(1) or match.group(2) for match in matches]
    if len(letters) < 2 or letters != [chr(ord("A") + i) for i in range(len(letters))]:
        return {}
    options: dict[str, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following else len(question_text)
        text = " ".join(question_text[match.end() : end].split()).rstrip(" ;,")
        if _words(text):
            options[match.group(1) or match.group(2)] = text
    return options


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())


def _phrase(words: Sequence[str]) -> re.Pattern[str]:
    """Whole words in order, whatever punctuation or case between them."""
    body = r"[\W_]+".join(re.escape(word) for word in words)
    return re.compile(rf"(?<![^\W_]){body}(?![^\W_])", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Key:
    letters: frozenset[str]  # the key's letters, and those of options with its text
    texts: tuple[tuple[str, ...], ...]  # the key's texts, and those of its letters' options


def _key(keys: Sequence[str], options: Mapping[str, str]) -> _Key:
    letters: set[str] = set()
    texts: set[tuple[str, ...]] = set()
    for key in keys:
        only = _KEY_LETTER.match(key)
        leading = _KEY_LEADING.match(key)
        if only:
            letters.add(only.group(1).upper())
        elif leading:
            letters.add(leading.group(1).upper())
            texts.add(tuple(_words(key[leading.end() :])))
        else:
            texts.add(tuple(_words(key)))
    by_text = {tuple(_words(text)): letter for letter, text in options.items()}
    letters |= {by_text[text] for text in texts if text in by_text}
    texts |= {tuple(_words(options[letter])) for letter in letters if letter in options}
    return _Key(frozenset(letters), tuple(sorted(texts - {()}, key=len, reverse=True)))


@dataclass(slots=True)
class _Reading:
    """What an answer names: letters, options by their text, the key's own text."""

    letters: set[str]
    by_text: set[str]
    key_text: bool
    first: int  # where the first of them starts
    maybe_a: bool = False  # an "A" that may be the article


def _read_texts(answer: str, options: Mapping[str, str], key: _Key) -> tuple[str, _Reading]:
    """The options' and the key's texts in `answer`, longest first so "salt water" is
    not also read as "salt"; returns the answer with them blanked out."""
    phrases = [(tuple(_words(text)), letter) for letter, text in options.items()]
    phrases += [(text, "") for text in key.texts if text not in dict(phrases)]
    reading = _Reading(set(), set(), False, len(answer))
    for words, letter in sorted(phrases, key=lambda pair: len(pair[0]), reverse=True):
        found = _phrase(words).search(answer) if words else None
        if found is None:
            continue
        answer = answer[: found.start()] + " " * len(found.group()) + answer[found.end() :]
        reading.first = min(reading.first, found.start())
        if letter:
            reading.by_text.add(letter)
        else:
            reading.key_text = True
    return answer, reading


def _read_letters(text: str, reading: _Reading) -> None:
    only_letters = all(len(word) == 1 for word in _words(text))
    found: list[re.Match[str]] = []
    leading = _LEADING.match(text)
    if leading:
        found.append(leading)
    found += list(_CAPITAL.finditer(text)) + list(_LOWER.finditer(text))
    found += list(_STATED.finditer(text))
    if only_letters:  # "a", "a, c": nothing here is a word
        found += list(re.finditer(r"[A-Ha-h]", text))
    reading.maybe_a = _ARTICLE_A.search(text) is not None
    for match in found:
        letter = next(group for group in (*match.groups(), match.group()) if group)
        reading.letters.add(letter.strip("(").upper()[0])
        reading.first = min(reading.first, match.start())


def _judge_choice(reading: _Reading, key: _Key, options: Mapping[str, str]) -> ExactScore:
    key_shown = ", ".join(sorted(key.letters)) or "not given as a letter"
    if len(reading.letters) > 1:
        shown = ", ".join(sorted(reading.letters))
        return ExactScore("unreadable", f"the answer names more than one choice ({shown})")
    chosen = reading.letters | reading.by_text
    if reading.maybe_a and chosen - {"A"}:
        return ExactScore("unreadable", "the answer may name more than one choice")
    if len(chosen) > 1:
        return ExactScore("unreadable", "the letter and the option text written disagree")
    if not chosen:
        if reading.key_text:
            return ExactScore("correct", "the answer gives the key's text")
        return ExactScore("unreadable", "no choice letter or option text found")
    (letter,) = chosen
    said = f"chose {letter}" + ("" if reading.letters else " by its text")
    if options and letter not in options:
        return ExactScore("unreadable", f"chose {letter}, which is not one of the options")
    if not key.letters or (reading.key_text and letter not in key.letters):
        return ExactScore("unreadable", f"{said}, which cannot be matched to the key")
    verdict: Verdict = "correct" if letter in key.letters else "incorrect"
    return ExactScore(verdict, f"{said}; the key is {key_shown}")


def score_choice(
    answer: str,
    correct: str,
    alternatives: Sequence[str] = (),
    options: Mapping[str, str] | None = None,
) -> ExactScore:
    """A multiple-choice answer against the key `correct` ("B", "B) Paris" or "Paris")
    and its `alternatives`; `options` (from `choice_options`) map letters to texts."""
    if not answer.strip():
        return ExactScore("no_answer", "no answer found")
    options = options or {}
    key = _key([correct, *alternatives], options)
    rest, reading = _read_texts(answer, options, key)
    _read_letters(rest, reading)
    if _NEGATION.search(answer[: reading.first]):
        # "not Paris": the answer names a choice to say it is not the one.
        return ExactScore("unreadable", "the answer says 'not' before its choice")
    return _judge_choice(reading, key, options)


# ---------------------------------------------------------------------------- numbers

# A number as people write it: -3, 2.5, .5, 1,200.5, 6.02e23, 6.02 x 10^23.
# Not a digit that is part of a word or an exponent ("cm^3", "x2", "CO2").
_NUMBER = re.compile(
    r"(?<![\w^.])(?P<value>[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][-+]?\d+)?)"
    r"(?:\s*(?:x|×|\*|·)\s*10\^(?P<power>[-+]?\d+))?"
)
# A unit after a number: "N", "m/s^2", "g/cm^3", "km per hour".
_UNIT_PART = r"[A-Za-zµΩ°%][A-Za-z0-9µΩ°%/^·*\-]*"
_UNIT = re.compile(rf"^\s*({_UNIT_PART}(?:\s*/\s*{_UNIT_PART}|\s+per\s+{_UNIT_PART})*)")
# After the number (and unit) an operator and a number: "3 × 80", "2 kg * 3": working.
_OPERATOR_AFTER = re.compile(r"^\s*[×x*/÷+\-^]\s*[\d(.]")
_OPERATOR_BEFORE = re.compile(r"[×*/÷+\-^]\s*$")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+")
# A decimal comma ("2,5 m"): a comma between digits with one or two digits after it and
# no more; three digits after a comma are a thousands group ("1,200").
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d{1,2}(?![\d,]))")
# A minus sign with a space after it, at the start or after "=": "- 3" is -3.
_SPACED_MINUS = re.compile(r"(^|[=≈])\s*-\s+(?=[\d.])")
_FINAL_SIGN = re.compile(r"[=≈]")
_DIGIT_GROUPS = re.compile(r"(?<=\d) (?=\d{3}(?!\d))")
_UNIT_ALIASES = {
    **dict.fromkeys(("hour", "hours", "hr", "hrs"), "h"),
    **dict.fromkeys(("sec", "secs", "second", "seconds"), "s"),
}
# Letters whose case is a different unit or prefix (milli/mega, pico/peta, second/siemens,
# nano/newton): "6 MJ" is not "6 mJ", so a case difference there is for a person.
_CASE_MATTERS = frozenset("mpsn")


@dataclass(frozen=True, slots=True)
class _Quantity:
    value: float
    unit: str
    start: int
    end: int  # after the unit


def _normalised(text: str) -> str:
    """The answer with its numbers in one spelling: "−3" and "- 3" as "-3", "cm³" as
    "cm^3", "6.02×10²³" as "6.02×10^23", "2,5" as "2.5"."""
    text = text.replace("−", "-")
    text = _SUPERSCRIPT_RUN.sub(lambda run: "^" + run.group().translate(_SUPERSCRIPT), text)
    text = _DECIMAL_COMMA.sub(".", text)
    return _SPACED_MINUS.sub(lambda match: match.group(1) + "-", text)


def _quantities(text: str) -> list[_Quantity]:
    found: list[_Quantity] = []
    for match in _NUMBER.finditer(text):
        raw = match.group("value")
        if not raw or not any(char.isdigit() for char in raw):
            continue
        try:
            value = float(raw.replace(",", ""))
            if match.group("power"):
                value *= 10.0 ** int(match.group("power"))
        except (ValueError, OverflowError):
            continue
        unit = _UNIT.match(text[match.end() :])
        end = match.end() + (unit.end() if unit else 0)
        found.append(_Quantity(value, unit.group(1) if unit else "", match.start(), end))
    return found


def _unit_key(unit: str) -> str:
    """A unit in one spelling: "km per hour", "km/hr" and "km/h" alike; "cm^3" = "cm3"."""
    unit = re.sub(r"\s+per\s+", "/", unit.strip(), flags=re.IGNORECASE)
    unit = re.sub(r"\s+", "", unit)
    unit = re.sub(r"\^(?=[-+]?\d)", "", unit)
    return re.sub(
        r"[A-Za-z]+", lambda word: _UNIT_ALIASES.get(word.group().lower(), word.group()), unit
    )


def _same_unit(given: str, key: str) -> bool:
    a, b = _unit_key(given), _unit_key(key)
    if a.lower() != b.lower() or len(a) != len(b):
        return False
    return all(x == y or x.lower() not in _CASE_MATTERS for x, y in zip(a, b, strict=True))


def _final(text: str, given: list[_Quantity]) -> _Quantity | None:
    """The answer's result: the first quantity after the last "=", else the last one;
    None when it is part of a sum still being worked ("3 × 80", "240 = 3 × 80")."""
    signs = list(_FINAL_SIGN.finditer(text))
    after = signs[-1].end() if signs else 0
    if signs:
        final = next((quantity for quantity in given if quantity.start >= after), None)
    else:
        final = given[-1] if given else None
    if final is None:
        return None
    if _OPERATOR_AFTER.match(text[final.end :]) or _OPERATOR_BEFORE.search(
        text[after : final.start]
    ):
        return None
    return final


def _shown(quantity: _Quantity) -> str:
    return f"{quantity.value:g} {quantity.unit}".strip()


def score_number(answer: str, correct: str, tolerance: float | None = None) -> ExactScore:
    """A calculation's final number (after the last "=", else the last one) against
    the key's, within `tolerance` (absolute; None: a relative 1e-9), in the key's unit
    if it has one. Raises ValueError when the key holds no number."""
    if not answer.strip():
        return ExactScore("no_answer", "no answer found")
    keys = _quantities(_normalised(correct))
    if not keys:
        raise ValueError(f"the key {correct!r} holds no number")
    key = keys[0]
    allowed = tolerance if tolerance is not None else 1e-9 * max(abs(key.value), 1.0)

    def matches(quantity: _Quantity) -> bool:
        return math.isclose(quantity.value, key.value, rel_tol=0.0, abs_tol=allowed)

    text = _normalised(answer)
    given = _quantities(text)
    if not given:
        return ExactScore("unreadable", "no number found in the answer")
    final = _final(text, given)
    if final is None or not matches(final):
        return _not_the_key(text, given, final, key, matches)
    if key.unit and not _same_unit(final.unit, key.unit):
        unit = f"the unit {final.unit!r}" if final.unit else "no unit"
        return ExactScore("unreadable", f"the number matches; {unit} is not the key's {key.unit!r}")
    return ExactScore("correct", f"read {_shown(final)}, which matches the key {_shown(key)}")


def _not_the_key(
    text: str,
    given: list[_Quantity],
    final: _Quantity | None,
    key: _Quantity,
    matches: Callable[[_Quantity], bool],
) -> ExactScore:
    """Incorrect only when the key's number is nowhere in the answer: if it is in the
    working ("3 × 80 = 240" against 3) or written in groups ("1 200"), a person reads
    which one the student meant."""
    if final is None:
        return ExactScore("unreadable", "could not tell which number is the final answer")
    joined = _quantities(_DIGIT_GROUPS.sub("", text))
    if any(matches(quantity) for quantity in [*given, *joined]):
        return ExactScore(
            "unreadable",
            f"read {_shown(final)} as the final answer, but the key's {key.value:g} is "
            "also in the answer",
        )
    return ExactScore("incorrect", f"read {_shown(final)}; the key is {_shown(key)}")
