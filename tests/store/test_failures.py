"""Folders and disks that refuse writes: one line naming the file, nothing damaged.

Read-only cases run in a forked child that cannot override permissions: as root (CI
containers), chmod alone changes nothing, so the child drops to user `nobody` first.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aita_cli.store import DATABASE_NAME, Store, StoreError
from tests.store import ledger_row

NOBODY = 65534


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="aita-store-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        path.chmod(path.stat().st_mode | stat.S_IWUSR | stat.S_IXUSR)
    shutil.rmtree(folder)


def without_privileges(action: Callable[[], str]) -> str:
    """Run `action` in a forked child without root's file powers; what it returned,
    or ``"StoreError: <message>"``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            if os.geteuid() == 0:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            outcome = action()
        except StoreError as exc:
            outcome = f"StoreError: {exc}"
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        os.write(write_end, outcome.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as stream:
        outcome = stream.read().decode()
    os.waitpid(pid, 0)
    return outcome


def open_and_record(folder: Path) -> Callable[[], str]:
    def action() -> str:
        with Store.open(folder) as store:
            store.record(ledger_row(task_id="from the child"))
        return "recorded"

    return action


def assert_one_line_naming(message: str, path: Path) -> None:
    assert message.startswith("StoreError: "), message
    assert str(path) in message
    assert "\n" not in message


def test_a_read_only_folder_gives_one_line_naming_the_file(shared_dir: Path) -> None:
    folder = shared_dir / "cache"
    folder.mkdir()
    folder.chmod(0o555)
    message = without_privileges(open_and_record(folder))
    assert_one_line_naming(message, folder / DATABASE_NAME)
    assert "set AITA_CACHE_DIR" in message
    assert list(folder.iterdir()) == []


def test_a_read_only_store_is_reported_and_keeps_its_rows(shared_dir: Path) -> None:
    folder = shared_dir / "cache"
    with Store.open(folder) as store:
        store.record(ledger_row())
    for path in folder.iterdir():
        path.chmod(0o444)
    folder.chmod(0o555)
    message = without_privileges(open_and_record(folder))
    assert_one_line_naming(message, folder / DATABASE_NAME)
    assert "read-only" in message
    folder.chmod(0o755)
    with Store.open(folder) as store:
        assert store.rows() == [ledger_row()]


def test_a_folder_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    (tmp_path / "not a folder").write_text("")
    folder = tmp_path / "not a folder" / "cache"
    with pytest.raises(StoreError, match="cannot create the folder for") as caught:
        Store.open(folder)
    assert_one_line_naming(f"StoreError: {caught.value}", folder / DATABASE_NAME)


def test_a_full_disk_fails_the_write_in_one_line_and_keeps_earlier_rows(
    tmp_path: Path,
) -> None:
    store = Store.open(tmp_path)
    store.record(ledger_row(task_id="before"))
    # SQLite's own page cap raises the real SQLITE_FULL ("database or disk is full")
    # without needing a tiny file system to fill.
    pages = store._connection.execute("PRAGMA page_count").fetchone()[0]
    store._connection.execute(f"PRAGMA max_page_count = {pages + 2}")

    def fill() -> None:
        for n in range(100):
            store.record(ledger_row(task_id=f"t{n}", error="x" * 4000))

    with pytest.raises(StoreError) as caught:
        fill()
    message = f"StoreError: {caught.value}"
    assert_one_line_naming(message, tmp_path / DATABASE_NAME)
    assert "disk is full" in message
    assert store.rows()[0].task_id == "before"
    store.close()
    with Store.open(tmp_path) as reopened:
        assert reopened.rows()[0].task_id == "before"
