"""A real Ctrl-C (SIGINT) to a process running a batch, and a real second Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aita_cli.execution.checkpoint import CheckpointManager

# t0 answers at once; t1 is held for 30 s, and the grace period is 30 s too: only the
# second Ctrl-C can end the run early, and only daemon workers let the process exit
# without waiting for the abandoned call.
_CHILD = """
import json, sys, threading
from aita_cli.execution.executor import ParallelLLMExecutor
from aita_cli.execution.tasks import SimpleLLMTask
from aita_cli.simulate.scripted import ScriptedLLMClient, ScriptedReply

client = ScriptedLLMClient(lambda m, p: "1", gate_timeout=30.0)
client.script("t1", ScriptedReply(content="1", gate=threading.Event()))
tasks = [SimpleLLMTask(f"t{i}", f"t{i}", int) for i in range(4)]

def ready(result):
    if result.task_id == "t0":
        print("ready", flush=True)

executor = ParallelLLMExecutor(
    client, max_workers=2, rate_limit=0, checkpoint_dir=sys.argv[1], show_progress=False,
    interrupt_grace=30.0,
)
with executor:
    result = executor.execute_batch(tasks, checkpoint_name="exam_rubric", on_task_complete=ready)
print(json.dumps({"stopped": result.stopped, "not_started": result.not_started,
                  "checkpoint": str(result.checkpoint_path)}), flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_two_real_ctrl_c_stop_the_batch_and_the_process_at_once(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        began = time.monotonic()
        child.send_signal(signal.SIGINT)
        # The second Ctrl-C; sent again if a busy machine merged it with the first.
        for _ in range(10):
            time.sleep(0.3)
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                continue
        output, errors = child.communicate(timeout=20)
        took = time.monotonic() - began
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, errors
    assert took < 10.0  # not the 30 s the held call would take
    summary = json.loads(output)
    assert summary["stopped"] == "interrupted"
    assert "t0" not in summary["not_started"]
    assert "t1" in summary["not_started"]
    state = CheckpointManager(tmp_path).load(Path(summary["checkpoint"]))
    assert "t0" in state.successes
    assert state.summary is not None
    assert state.summary["stopped"] == "interrupted"
