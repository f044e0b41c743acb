"""`Store`: the open database, shared by every worker thread of one aita process.

One connection per `Store`, used by all threads behind one lock. SQLite lets only one
writer in at a time anyway, so per-thread connections would buy parallel reads (each a
few microseconds) at the price of connections that cannot be closed from `close()`
and of in-process writers waiting on each other through `busy_timeout`. Across
processes, WAL mode and the busy timeout do the coordinating.

Each `record` is its own transaction (autocommit). In WAL mode with
``synchronous=NORMAL`` a commit is an append to the WAL without an fsync, so it costs
microseconds, and a committed row survives the process being killed (it is in the
file, in the OS cache); only a power cut may lose the last few. Batching would make
`kill -9` lose rows whose `record` had already returned.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from aita_cli.store import queries
from aita_cli.store.errors import StoreError, store_error
from aita_cli.store.queries import TotalsBy
from aita_cli.store.records import CachedReply, CostTotal, LedgerRow
from aita_cli.store.schema import (
    MIGRATIONS,
    Migration,
    check_header,
    check_ours,
    migrate,
    read_state,
)

__all__ = ["BUSY_TIMEOUT_SECONDS", "DATABASE_NAME", "Store"]

DATABASE_NAME: Final = "aita.sqlite3"
#: How long a write waits for another process's transaction before giving up.
BUSY_TIMEOUT_SECONDS: Final = 5.0


class Store:
    """The cost ledger and the response cache in ``<folder>/aita.sqlite3``.

    Thread-safe. Every failure is a one-line `StoreError` naming the file.
    """

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        """Use `Store.open`; this wraps a connection it has configured."""
        self.path = path
        self._connection = connection
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: Path, *, migrations: tuple[Migration, ...] = MIGRATIONS) -> Store:
        """Open (creating the folder and the file when needed) and migrate the store.

        Raises `StoreError` when the folder or file cannot be created or written, or
        the file is not an aita store or comes from a newer aita; such a file is left
        exactly as it was. `migrations` is for tests of future schema versions.
        """
        path = Path(folder) / DATABASE_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise store_error(path, "create the folder for", exc) from exc
        check_header(path)
        try:
            connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise store_error(path, "open", exc) from exc
        try:
            _prepare(connection, path, migrations)
        except BaseException:
            connection.close()
            raise
        return cls(path, connection)

    def record(self, row: LedgerRow) -> None:
        """Append one attempt to the ledger; committed when this returns."""
        values = (
            row.run_id, row.assignment, row.operation, row.task_id, row.model,
            row.prompt_tokens, row.completion_tokens, row.cached_tokens, row.cost,
            int(row.cost_is_estimate), row.status, row.at, row.error,
        )  # fmt: skip
        with self._using("write to"):
            self._connection.execute(queries.INSERT_LEDGER, values)

    def cached(self, key: str) -> CachedReply | None:
        """The reply stored for `key` (see `request_key`), or None."""
        with self._using("read"):
            found = self._connection.execute(queries.SELECT_CACHED, (key,)).fetchone()
        return None if found is None else CachedReply(*found)

    def remember(self, key: str, reply: CachedReply) -> None:
        """Store `reply` for `key`, replacing any earlier one. Only successful,
        validated replies belong here."""
        values = (
            key, reply.content, reply.model, reply.prompt_tokens, reply.completion_tokens,
            reply.cost, time.time(),
        )  # fmt: skip
        with self._using("write to"):
            self._connection.execute(queries.UPSERT_CACHED, values)

    def rows(self, assignment: str | None = None) -> list[LedgerRow]:
        """Every attempt (of one assignment), oldest first."""
        found = self._select(queries.ledger_rows(assignment), assignment)
        return [_ledger_row(values) for values in found]

    def totals(self, by: TotalsBy, assignment: str | None = None) -> list[CostTotal]:
        """Sums per model, operation or local day (of one assignment), sorted by key."""
        found = self._select(queries.totals(by, assignment), assignment)
        return [CostTotal(str(values[0]), *values[1:]) for values in found]

    def spent(self, assignment: str | None = None) -> float:
        """What every call (of one assignment) cost; cache hits cost nothing."""
        (total,) = self._select(queries.spent(assignment), assignment)[0]
        return float(total)

    def close(self) -> None:
        """Close the connection; later calls raise `StoreError`. Safe to repeat."""
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _select(self, sql: str, assignment: str | None) -> list[Any]:
        with self._using("read"):
            return self._connection.execute(sql, {"assignment": assignment}).fetchall()

    @contextmanager
    def _using(self, doing: str) -> Iterator[None]:
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise store_error(self.path, doing, exc) from exc


def _prepare(connection: sqlite3.Connection, path: Path, migrations: tuple[Migration, ...]) -> None:
    """Check the file is ours, then switch it to WAL and migrate it."""
    try:
        # Read-only until the file is known to be ours: setting WAL writes its header.
        check_ours(read_state(connection), path, len(migrations))
        _use_wal(connection, path)
        connection.execute("PRAGMA synchronous = NORMAL")
        migrate(connection, path, migrations)
    except sqlite3.Error as exc:
        raise store_error(path, "open", exc) from exc


def _use_wal(connection: sqlite3.Connection, path: Path) -> None:
    """Switch the file to WAL mode (a no-op once it is: the mode is kept in the file).

    The first switch needs the file to itself, and SQLite answers "database is locked"
    at once rather than waiting out busy_timeout (waiting could deadlock), so two runs
    creating the store together would fail; retry until the same deadline instead.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            (mode,) = connection.execute("PRAGMA journal_mode = WAL").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
    if mode != "wal":
        raise StoreError(
            f"cannot use {path}: its file system does not support SQLite's WAL mode "
            "(a network drive?); set AITA_CACHE_DIR to a local folder"
        )


def _ledger_row(values: tuple[Any, ...]) -> LedgerRow:
    (run_id, assignment, operation, task_id, model, prompt_tokens, completion_tokens,
     cached_tokens, cost, estimate, status, at, error) = values  # fmt: skip
    return LedgerRow(
        run_id, assignment, operation, task_id, model, prompt_tokens, completion_tokens,
        cached_tokens, cost, bool(estimate), status, at, error,
    )  # fmt: skip
