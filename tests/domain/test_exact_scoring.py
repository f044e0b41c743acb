"""Offline exact scoring: choices and numbers, and never a guess."""

from __future__ import annotations

import pytest

from aita_cli.domain.exact_scoring import choice_options, score_choice, score_number

CAPITALS = "Which is the capital of France? (A) London (B) Paris (C) Rome"
OPTIONS = {"A": "London", "B": "Paris", "C": "Rome"}


def test_the_options_are_read_from_the_question_in_each_style() -> None:
    assert choice_options(CAPITALS) == OPTIONS
    assert choice_options("Pick one:\nA) London\nB) Paris\nC) Rome") == OPTIONS
    assert choice_options("Pick one: A. London; B. Paris; C. Rome") == OPTIONS
    # Letters out of order are not a list of options.
    assert choice_options("Vitamin C. (B) is not an option (A) here") == {}
    assert choice_options("What is F = m a?") == {}


@pytest.mark.parametrize(
    ("answer", "correct", "alternatives", "options", "verdict"),
    [
        # The reviewer's table: right answers that must never be marked incorrect.
        ("Mercury is closest", "B", ["Mercury"], None, "correct"),
        ("B - Mercury", "B", [], None, "correct"),
        ("I picked C", "C", [], None, "correct"),
        ("Paris", "B", [], OPTIONS, "correct"),
        ("B", "Paris", [], OPTIONS, "correct"),
        ("b, d", "B", [], None, "unreadable"),
        # Letters in any style, or the key's own text.
        *((answer, "B) Paris", [], None, "correct") for answer in (
            "B", "b", "(B)", "b)", "B.", "B: because of gravity", "The answer is b",
            "Paris", "paris.")),
        ("(c)", "B", [], None, "incorrect"),
        ("D", "B", ["D"], None, "correct"),
        ("a", "A", [], None, "correct"),
        ("answer: a", "A", [], None, "correct"),
        ("(A) London", "B", [], OPTIONS, "incorrect"),
        ("London", "B", [], OPTIONS, "incorrect"),
        ("Rome", "Paris", [], OPTIONS, "incorrect"),
        # Ambiguous or oddly written: for a person, never a 0.
        ("answer is A or maybe C", "B", [], None, "unreadable"),
        ("C Paris", "B", [], OPTIONS, "unreadable"),  # the letter and the text disagree
        ("London or Paris", "B", [], OPTIONS, "unreadable"),
        ("not Paris", "B", [], OPTIONS, "unreadable"),
        ("D", "B", [], OPTIONS, "unreadable"),  # no option D
        ("A ball falls faster", "B", [], None, "unreadable"),  # "A" the article
        ("A or maybe C", "C", [], None, "unreadable"),  # or "A" the choice
        ("the answer is a planet", "B", [], None, "unreadable"),
        ("Mercury", "B", [], None, "unreadable"),  # the key has no text to compare
        ("C", "Paris", [], None, "unreadable"),  # the key has no letter to compare
        ("   ", "B", [], None, "no_answer"),
    ],
)  # fmt: skip
def test_a_choice_is_judged_only_when_it_is_clear(
    answer: str,
    correct: str,
    alternatives: list[str],
    options: dict[str, str] | None,
    verdict: str,
) -> None:
    assert score_choice(answer, correct, alternatives, options).verdict == verdict


def test_a_choice_says_what_was_read() -> None:
    assert "chose C; the key is B" in score_choice("(c)", "B").detail
    assert "chose A by its text" in score_choice("London", "B", options=OPTIONS).detail
    assert "(B, D)" in score_choice("b, d", "B").detail


@pytest.mark.parametrize(
    ("answer", "correct", "verdict"),
    [
        # The reviewer's table.
        ("12.5 cm³", "12.5 cm^3", "correct"),
        ("3 g/cm³", "3 g/cm^3", "correct"),
        ("3g/cm3", "3 g/cm^3", "correct"),
        ("3 g per cm^3", "3 g/cm^3", "correct"),
        ("60 km/hr", "60 km/h", "correct"),
        ("60 km per hour", "60 km/h", "correct"),
        ("v = 60 km/h (2 s.f.)", "60 km/h", "correct"),
        ("2,5 m", "2.5 m", "correct"),  # a decimal comma
        ("1 200 J", "1200 J", "unreadable"),  # digits in groups: never incorrect
        ("6.02×10²³", "6.02e23", "correct"),
        ("- 3", "-3", "correct"),
        ("3 × 80 = 240", "3", "unreadable"),  # the key's number is in the working
        # Numbers as people write them.
        ("1,200.5 J", "1200.5 J", "correct"),  # a thousands comma
        ("6.02 x 10^23", "6.02e23", "correct"),
        ("−3", "-3", "correct"),
        ("x = - 3", "-3", "correct"),
        ("t = 4 seconds", "4 s", "correct"),
        ("60 Km/h", "60 km/h", "correct"),
        ("7 apples", "7", "correct"),  # the key has no unit
        ("7 m", "2.5 m", "incorrect"),
        # What the final answer is cannot be told: for a person.
        ("240 = 3 × 80", "3", "unreadable"),
        ("3 × 80", "240", "unreadable"),
        ("x = 1/2", "2", "unreadable"),
        ("6 MJ", "6 mJ", "unreadable"),  # mega is not milli
        ("4 m/s", "4 m/s^2", "unreadable"),
    ],
)
def test_numbers_and_units_as_people_write_them(answer: str, correct: str, verdict: str) -> None:
    assert score_number(answer, correct).verdict == verdict


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("F = m a = 2 kg * 3 m/s^2 = 6 N", "correct"),
        ("6.0 N", "correct"),
        ("6.04 N", "correct"),  # within the tolerance of 0.05
        ("6.1 N", "incorrect"),
        ("6 kg", "unreadable"),  # the right number in another unit: a person decides
        ("F = G N", "unreadable"),  # OCR read the 6 as a G: flagged, not wrong
        ("   ", "no_answer"),
    ],
)
def test_a_number_is_the_answers_final_one_with_its_unit(answer: str, verdict: str) -> None:
    assert score_number(answer, "6 N", tolerance=0.05).verdict == verdict


def test_a_number_says_what_was_read() -> None:
    assert score_number("6 kg", "6 N").detail == (
        "the number matches; the unit 'kg' is not the key's 'N'"
    )
    assert "read 240 as the final answer" in score_number("3 × 80 = 240", "3").detail
    assert score_number("7 m", "2.5 m").detail == "read 7 m; the key is 2.5 m"
    with pytest.raises(ValueError, match="holds no number"):
        score_number("6", "six")
