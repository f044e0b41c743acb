"""The aita store: one SQLite database holding the cost ledger and the response cache.

It lives at ``<cache folder>/aita.sqlite3`` (the folder is ``AITA_CACHE_DIR``, chosen
by the caller) and is shared by every aita process of the user, so it runs in WAL mode
with a 5 s busy timeout and ``synchronous=NORMAL``: concurrent runs write without
"database is locked", and a ``kill -9`` loses nothing already committed. Each process
uses one connection behind a lock (see `aita_cli.store.database` for why).

Schema (version 1; ``PRAGMA user_version`` is the version, ``PRAGMA application_id``
is 0x41495441, "AITA", marking the file as ours)::

    ledger          one row per attempt, failed and cache hits included
        id INTEGER PRIMARY KEY, run_id, assignment, operation, task_id, model TEXT,
        prompt_tokens, completion_tokens, cached_tokens INTEGER, cost REAL,
        cost_is_estimate INTEGER (0/1), status TEXT, at REAL (unix time), error TEXT
        index (assignment, at)
    response_cache  one successful, validated reply per request key
        key TEXT PRIMARY KEY (sha256 of the canonical request), content, model TEXT,
        prompt_tokens, completion_tokens INTEGER, cost REAL (original), stored_at REAL

A newer schema is one more entry in `schema.MIGRATIONS`, applied in order inside one
transaction. A file that is not SQLite, belongs to another program, or comes from a
newer aita is reported with a one-line `StoreError`, never modified.
"""

from aita_cli.store.database import BUSY_TIMEOUT_SECONDS, DATABASE_NAME, Store
from aita_cli.store.errors import StoreError
from aita_cli.store.keys import request_key
from aita_cli.store.queries import TotalsBy
from aita_cli.store.records import CachedReply, CostTotal, LedgerRow, LedgerStatus
from aita_cli.store.schema import SCHEMA_VERSION

__all__ = [
    "BUSY_TIMEOUT_SECONDS",
    "DATABASE_NAME",
    "SCHEMA_VERSION",
    "CachedReply",
    "CostTotal",
    "LedgerRow",
    "LedgerStatus",
    "Store",
    "StoreError",
    "TotalsBy",
    "request_key",
]
