"""Atomic result files: content, ordinary permissions, and one clear error when the
folder cannot take them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aita_cli.errors import InputError
from aita_cli.pipelines.files import (
    plain_number,
    tidy_points,
    write_json_atomic,
    write_text_atomic,
)


def test_writes_json_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "results" / "index.json"
    write_json_atomic(target, {"b": 1, "a": [1.5]})
    assert target.read_text(encoding="utf-8") == '{\n  "b": 1,\n  "a": [\n    1.5\n  ]\n}\n'
    assert [path.name for path in target.parent.iterdir()] == ["index.json"]


def test_results_get_the_usual_mode_not_a_private_one(tmp_path: Path) -> None:
    mask = os.umask(0o022)
    os.umask(mask)  # read, and put back at once
    write_text_atomic(tmp_path / "rubrics.md", "# Rubrics\n")
    mode = stat.S_IMODE((tmp_path / "rubrics.md").stat().st_mode)
    assert mode == 0o666 & ~mask


def test_a_folder_that_is_a_file_is_one_input_error(tmp_path: Path) -> None:
    (tmp_path / "results").write_text("not a folder", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        write_text_atomic(tmp_path / "results" / "rubrics.md", "x")
    message = str(caught.value)
    assert message.startswith(f"cannot write {tmp_path / 'results' / 'rubrics.md'}: ")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("value", "shown"),
    [(3.0, "3"), (2.5, "2.5"), (0.1 + 0.2, "0.3"), (66.666667, "66.666667"), (1e6, "1000000")],
)
def test_numbers_are_written_as_people_write_them(value: float, shown: str) -> None:
    assert plain_number(value) == shown


def test_whole_points_become_integers_all_the_way_down() -> None:
    assert tidy_points({"a": [10.0, 2.5], "b": {"c": 0.0}, "d": "10.0"}) == {
        "a": [10, 2.5],
        "b": {"c": 0},
        "d": "10.0",
    }
