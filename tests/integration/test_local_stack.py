"""``make run``'s stack (``python -m devtools``) as a user meets it: a second one on the same
folder is refused, and when its parent is killed with SIGKILL (no handler runs), Kafka, Redis
and the worker stop by themselves: nothing is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.localstack.process import FolderLock

ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has stopped; only its parent has not read its status


def test_a_killed_parent_leaves_nothing_running_and_a_second_stack_is_refused(
    tmp_path: Path,
) -> None:
    if sys.platform != "linux":
        pytest.skip("PR_SET_PDEATHSIG is Linux's")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REBOUND_")}
    folder = tmp_path / "local"
    command = [sys.executable, "-m", "devtools", "--dir", str(folder), "--rate", "2"]
    parent = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert parent.stdout is not None
        deadline = time.monotonic() + 180
        seen = []
        while time.monotonic() < deadline:
            line = parent.stdout.readline()
            seen.append(line)
            if "worker ready" in line or not line:
                break
        assert any("worker ready" in line for line in seen), "".join(seen)
        children = children_of(parent.pid)
        assert len(children) >= 3, "Kafka, Redis and the worker"

        second = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert second.returncode == 2
        assert f"a local stack already runs on {folder} (pid {parent.pid})" in second.stderr

        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(alive(pid) for pid in children):
            time.sleep(0.5)
        assert not [pid for pid in children if alive(pid)], "children left running"
        FolderLock(folder).acquire().release()  # the folder is free again
    finally:
        if parent.poll() is None:
            parent.kill()
