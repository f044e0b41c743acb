"""`StoreError` and the one place SQLite and OS errors become it.

Every message is one line that names the database file and says what to do, because
the store sits in a cache folder the user never chose on purpose.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

from aita_cli.errors import EXIT_USAGE, AitaError

__all__ = ["MOVE_IT_AWAY", "StoreError", "store_error"]

MOVE_IT_AWAY = "move it away or set AITA_CACHE_DIR to another folder"

# SQLite reports these conditions only through its message text; the first match wins.
_HINTS = (
    ("readonly", "the file or its folder is read-only; make it writable or set AITA_CACHE_DIR"),
    ("disk is full", "the disk is full; free some space or set AITA_CACHE_DIR"),
    (
        "unable to open",
        "the folder is not writable or the file cannot be created; "
        "fix its permissions or set AITA_CACHE_DIR",
    ),
    ("not a database", f"it is not an aita store; {MOVE_IT_AWAY}"),
    ("malformed", f"the file is damaged; {MOVE_IT_AWAY}"),
    ("locked", "another aita process held it for too long; try again"),
    ("closed", "the store was already closed"),
)


class StoreError(AitaError):
    """The aita store (cost ledger and response cache) cannot be opened, read or written."""

    exit_code: ClassVar[int] = EXIT_USAGE


def store_error(path: Path, doing: str, exc: BaseException) -> StoreError:
    """A one-line `StoreError`: "cannot <doing> <path>: <what happened>; <what to do>".

    Raise it ``from exc`` so the original stays in the traceback for debugging.
    """
    return StoreError(f"cannot {doing} {path}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and not isinstance(exc, sqlite3.Error):
        detail = exc.strerror or str(exc)
    else:
        detail = str(exc)
    lowered = detail.lower()
    for needle, hint in _HINTS:
        if needle in lowered:
            return _one_line(f"{detail} ({hint})")
    return _one_line(detail)


def _one_line(text: str) -> str:
    return " ".join(text.split())
