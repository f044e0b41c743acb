"""Offline exact scoring: choices and numbers, and never a guess."""

from __future__ import annotations

import pytest

from aita_cli.domain.exact_scoring import score_choice, score_number


@pytest.mark.parametrize("answer", ["B", "b", "(B)", "b)", "B.", "B: because of gravity",
                                    "The answer is b", "Paris", "paris."])  # fmt: skip
def test_a_choice_is_read_by_its_letter_in_any_style_or_by_its_text(answer: str) -> None:
    assert score_choice(answer, "B) Paris").verdict == "correct"


def test_a_wrong_choice_is_incorrect_and_says_what_was_chosen() -> None:
    score = score_choice("(c)", "B")
    assert score.verdict == "incorrect"
    assert "chose C" in score.detail


def test_alternatives_count_and_nothing_readable_is_not_a_wrong_answer() -> None:
    assert score_choice("D", "B", alternatives=["D"]).verdict == "correct"
    assert score_choice("", "B").verdict == "no_answer"
    assert score_choice("answer is A or maybe C", "B").verdict == "unreadable"


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        ("F = m a = 2 kg * 3 m/s^2 = 6 N", "correct"),
        ("6.0 N", "correct"),
        ("6.04 N", "correct"),  # within the tolerance of 0.05
        ("6.1 N", "incorrect"),
        ("6 kg", "incorrect"),  # the right number in the wrong unit
        ("F = G N", "unreadable"),  # OCR read the 6 as a G: flagged, not wrong
        ("   ", "no_answer"),
    ],
)
def test_a_number_is_the_answers_last_one_with_its_unit(answer: str, verdict: str) -> None:
    assert score_number(answer, "6 N", tolerance=0.05).verdict == verdict


def test_numbers_as_people_write_them() -> None:
    assert score_number("1,200.5 J", "1200.5 J").verdict == "correct"
    assert score_number("6.02 x 10^23", "6.02e23").verdict == "correct"
    assert score_number("−3", "-3").verdict == "correct"
    with pytest.raises(ValueError, match="holds no number"):
        score_number("6", "six")
