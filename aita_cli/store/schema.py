"""The store's schema, how a file is recognised as ours, and migrations.

A file is ours when its SQLite header carries `APPLICATION_ID`; `PRAGMA user_version`
is the number of `MIGRATIONS` applied to it. A brand-new file (no id, no version, no
tables) is ours to initialise. Anything else (not SQLite, another program's database,
or one written by a newer aita) is refused before a single byte of it is written.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aita_cli.store.errors import MOVE_IT_AWAY, StoreError

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "FileState",
    "Migration",
    "check_header",
    "check_ours",
    "migrate",
    "read_state",
]

APPLICATION_ID = 0x41495441  # "AITA"
_SQLITE_MAGIC = b"SQLite format 3\x00"

#: Statements that take the schema from one version to the next.
Migration = tuple[str, ...]

_V1: Migration = (
    """CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        assignment TEXT NOT NULL,
        operation TEXT NOT NULL,
        task_id TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cached_tokens INTEGER NOT NULL,
        cost REAL NOT NULL,
        cost_is_estimate INTEGER NOT NULL,
        status TEXT NOT NULL,
        at REAL NOT NULL,
        error TEXT
    )""",
    # `aita costs --assignment` and `aita status` read one assignment's rows.
    "CREATE INDEX ledger_by_assignment ON ledger (assignment, at)",
    # A rowid table, not WITHOUT ROWID: replies can be many kilobytes, which SQLite
    # stores poorly inside a clustered index.
    """CREATE TABLE response_cache (
        key TEXT PRIMARY KEY,
        content TEXT NOT NULL,
        model TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost REAL NOT NULL,
        stored_at REAL NOT NULL
    )""",
)

#: Index i takes version i to i + 1; a new version is one new entry at the end.
MIGRATIONS: tuple[Migration, ...] = (_V1,)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class FileState:
    """What an SQLite file says about itself."""

    application_id: int
    user_version: int
    tables: tuple[str, ...]

    @property
    def is_blank(self) -> bool:
        """A new, empty database nobody has claimed yet."""
        return self.application_id == 0 and self.user_version == 0 and not self.tables


def check_header(path: Path) -> None:
    """Refuse a non-empty file at `path` that is not SQLite, before SQLite touches it."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(_SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if head and head != _SQLITE_MAGIC:
        raise StoreError(f"{path} is not an SQLite database, so not an aita store; {MOVE_IT_AWAY}")


# One statement, so one snapshot: as separate statements, a reader could see another
# process's freshly committed tables but the application id from before that commit.
_STATE = """
    SELECT (SELECT application_id FROM pragma_application_id),
        (SELECT user_version FROM pragma_user_version),
        (SELECT json_group_array(name) FROM
            (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name))
"""


def read_state(connection: sqlite3.Connection) -> FileState:
    """The file's application id, schema version and table names (reads only)."""
    application_id, user_version, tables = connection.execute(_STATE).fetchone()
    return FileState(application_id, user_version, tuple(json.loads(tables)))


def check_ours(state: FileState, path: Path, latest: int = SCHEMA_VERSION) -> None:
    """Raise `StoreError` unless the file is blank or an aita store this aita can use."""
    if state.is_blank:
        return
    if state.application_id != APPLICATION_ID:
        found = ", ".join(state.tables) or "none"
        raise StoreError(
            f"{path} is an SQLite database of another program (tables: {found}), "
            f"not an aita store; {MOVE_IT_AWAY}"
        )
    if state.user_version > latest:
        raise StoreError(
            f"{path} was written by a newer aita (store version {state.user_version}, "
            f"this aita knows up to {latest}); upgrade aita or set AITA_CACHE_DIR "
            "to another folder"
        )


def migrate(connection: sqlite3.Connection, path: Path, migrations: Sequence[Migration]) -> None:
    """Bring the file up to ``len(migrations)``, all steps in one transaction.

    `connection` must be in autocommit mode (``isolation_level=None``). Nothing is
    written when the file is already current, so a current store opens even where a
    write would have to wait.
    """
    latest = len(migrations)
    state = read_state(connection)
    check_ours(state, path, latest)
    if state.user_version == latest:
        return
    # IMMEDIATE takes the write lock now (waiting out busy_timeout), then we look
    # again: another process may have migrated the file while we were reading.
    connection.execute("BEGIN IMMEDIATE")
    try:
        state = read_state(connection)
        check_ours(state, path, latest)
        for statements in migrations[state.user_version :]:
            for statement in statements:
                connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {latest}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
