"""Schema versions, migrations, and files that are not (or not yet) ours."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aita_cli.errors import EXIT_USAGE, AitaError
from aita_cli.store import DATABASE_NAME, SCHEMA_VERSION, Store, StoreError
from aita_cli.store.schema import APPLICATION_ID, MIGRATIONS
from tests.store import ledger_row

ADD_NOTE = ("ALTER TABLE ledger ADD COLUMN note TEXT",)


def pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"PRAGMA {name}").fetchone()[0]


def make_sqlite(path: Path, *statements: str) -> bytes:
    """A real SQLite file after `statements`; its bytes, to prove nobody touched it."""
    connection = sqlite3.connect(path)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return path.read_bytes()


def refused(folder: Path) -> str:
    with pytest.raises(StoreError) as caught:
        Store.open(folder)
    message = str(caught.value)
    assert str(folder / DATABASE_NAME) in message
    assert "\n" not in message
    return message


def test_a_new_store_is_created_with_its_folder_in_wal_mode(tmp_path: Path) -> None:
    folder = tmp_path / "deep" / "cache"
    Store.open(folder).close()
    path = folder / DATABASE_NAME
    assert pragma(path, "user_version") == SCHEMA_VERSION
    assert pragma(path, "application_id") == APPLICATION_ID
    assert pragma(path, "journal_mode") == "wal"


@pytest.mark.parametrize("kind", ["empty file", "sqlite without tables"])
def test_a_blank_database_at_version_0_is_migrated(tmp_path: Path, kind: str) -> None:
    path = tmp_path / DATABASE_NAME
    if kind == "empty file":
        path.write_bytes(b"")
    else:
        make_sqlite(path, "CREATE TABLE scratch (x)", "DROP TABLE scratch")
    with Store.open(tmp_path) as store:
        store.record(ledger_row())
        assert len(store.rows()) == 1
    assert pragma(path, "user_version") == SCHEMA_VERSION


def test_an_older_store_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    with Store.open(tmp_path) as store:
        store.record(ledger_row())
    newer = (*MIGRATIONS, ADD_NOTE)
    with Store.open(tmp_path, migrations=newer) as store:
        assert store.rows() == [ledger_row()]
    path = tmp_path / DATABASE_NAME
    assert pragma(path, "user_version") == SCHEMA_VERSION + 1
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(ledger)")]
    assert columns[-1] == "note"


def test_a_failed_migration_changes_nothing(tmp_path: Path) -> None:
    Store.open(tmp_path).close()
    broken = (*MIGRATIONS, ("CREATE TABLE extra (x)", "THIS IS NOT SQL"))
    with pytest.raises(StoreError, match="syntax error"):
        Store.open(tmp_path, migrations=broken)
    path = tmp_path / DATABASE_NAME
    assert pragma(path, "user_version") == SCHEMA_VERSION
    with sqlite3.connect(path) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "extra" not in tables


def test_a_store_from_a_newer_aita_is_refused_untouched(tmp_path: Path) -> None:
    Store.open(tmp_path, migrations=(*MIGRATIONS, ADD_NOTE)).close()
    path = tmp_path / DATABASE_NAME
    before = path.read_bytes()
    message = refused(tmp_path)
    assert "newer aita" in message
    assert f"store version {SCHEMA_VERSION + 1}" in message
    assert path.read_bytes() == before


def test_a_text_file_in_its_place_is_reported_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_NAME
    path.write_text("my notes on the exam\n")
    message = refused(tmp_path)
    assert "not an SQLite database" in message
    assert "move it away or set AITA_CACHE_DIR" in message
    assert path.read_text() == "my notes on the exam\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [DATABASE_NAME]


@pytest.mark.parametrize(
    "statements",
    [
        ("CREATE TABLE grades (student, score)",),
        ("CREATE TABLE grades (student, score)", "PRAGMA user_version = 1"),
        ("PRAGMA user_version = 7",),
        ("PRAGMA application_id = 1234", "CREATE TABLE ledger (x)"),
    ],
)
def test_another_programs_database_is_reported_not_modified(
    tmp_path: Path, statements: tuple[str, ...]
) -> None:
    before = make_sqlite(tmp_path / DATABASE_NAME, *statements)
    message = refused(tmp_path)
    assert "another program" in message
    assert "move it away or set AITA_CACHE_DIR" in message
    assert (tmp_path / DATABASE_NAME).read_bytes() == before


def test_a_store_error_is_an_aita_error_that_exits_2() -> None:
    assert issubclass(StoreError, AitaError)
    assert StoreError.exit_code == EXIT_USAGE == 2
