"""Natural ordering and safe file names for questions and students."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["natural_key", "safe_name"]

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that puts "q2" before "q10" and compares text case-insensitively."""
    parts = _DIGITS.split(text)
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in parts)


def safe_name(text: str) -> str:
    """A file-name-safe form of `text`: ASCII letters, digits, '-', '_' and '.'; no path
    separators, no leading dots, never empty. Distinct inputs may collide: callers that
    need uniqueness must check (see the transcription pipeline)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_text).strip("._")
    return cleaned or "unnamed"
