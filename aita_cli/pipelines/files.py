"""Atomic writes for everything aita puts in results/: temp file in the same folder,
fsync, then rename, so a crash leaves either the old file or the new one, never half.
Also how numbers look in those files: whole points as 10, never 10.0."""

from __future__ import annotations

import functools
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from aita_cli.errors import InputError

__all__ = [
    "plain_number",
    "tidy_points",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]


def write_text_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically; InputError (one line) when it cannot."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` atomically; InputError (one line) when it cannot."""
    try:
        _replace(path, data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_json_atomic(path: Path, data: Any) -> None:
    """`data` as indented JSON, written like `write_text_atomic`."""
    encoded = orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    write_text_atomic(path, encoded.decode("utf-8") + "\n")


def tidy_points(value: Any) -> Any:
    """Whole points as integers (10, not 10.0), through dicts and lists; 2.5 stays 2.5."""
    if isinstance(value, dict):
        return {key: tidy_points(item) for key, item in value.items()}
    if isinstance(value, list):
        return [tidy_points(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def plain_number(value: float) -> str:
    """A number as people write it in a cell: 3, 2.5, 66.67; never 3.0 or 1e+06."""
    # Six decimals drop float noise (0.1 + 0.2) without rounding any real score.
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            # mkstemp makes the file private (0600); results are ordinary files that the
            # rest of the teaching team may need to read, so give them the usual mode.
            os.fchmod(stream.fileno(), 0o666 & ~_umask())
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(folder: Path) -> None:
    # The rename lives in the folder's entry table: without this a power cut can
    # bring the old file back even though the new one was fully written.
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@functools.cache
def _umask() -> int:
    # The only way to read the umask is to set it; done once, then put back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
