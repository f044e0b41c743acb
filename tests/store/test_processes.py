"""Real processes: two writers at once, and a writer killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from aita_cli.store import DATABASE_NAME, Store

REPO = Path(__file__).parents[2]
COUNT = 2000

# Says "ready" once imported, then waits for `go` to appear, so that both writers open
# the fresh file (creating and migrating it) and write at the same moment.
WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from aita_cli.store import Store
    from tests.store import ledger_row

    folder, name, count, go = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    print("ready", flush=True)
    while go and not Path(go).exists():
        time.sleep(0.001)
    print("start", time.time(), flush=True)
    store = Store.open(folder)
    for n in range(count):
        store.record(ledger_row(run_id=name, task_id=f"t{n}"))
        print(n, flush=True)
    print("end", time.time(), flush=True)
    store.close()
    """
)


def writer(folder: Path, name: str, count: int, go: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(folder), name, str(count), str(go or "")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    go = tmp_path / "go"
    writers = [writer(tmp_path / "cache", name, COUNT, go) for name in ("a", "b")]
    for process in writers:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
    go.write_text("")
    spans = []
    for process in writers:
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
        assert "locked" not in stderr
        times = dict(line.split() for line in stdout.splitlines() if line[0].isalpha())
        spans.append((float(times["start"]), float(times["end"])))
    with Store.open(tmp_path / "cache") as store:
        rows = store.rows()
    assert len(rows) == 2 * COUNT
    assert {(row.run_id, row.task_id) for row in rows} == {
        (name, f"t{n}") for name in ("a", "b") for n in range(COUNT)
    }
    # The writers really overlapped: each began opening before the other was done.
    (start_a, end_a), (start_b, end_b) = spans
    assert start_a < end_b
    assert start_b < end_a


def test_a_writer_killed_mid_write_leaves_every_recorded_row(tmp_path: Path) -> None:
    process = writer(tmp_path, "doomed", 1_000_000)
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    assert process.stdout.readline().startswith("start ")
    confirmed = [process.stdout.readline() for _ in range(300)]
    process.send_signal(signal.SIGKILL)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL
    # Every number printed was printed after its `record` returned.
    lines = [*confirmed, *rest.splitlines()]
    recorded = {f"t{int(line)}" for line in lines if line.strip().isdigit()}
    with sqlite3.connect(tmp_path / DATABASE_NAME) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Store.open(tmp_path) as store:
        kept = {row.task_id for row in store.rows()}
    assert len(recorded) >= 300
    assert recorded <= kept
