"""What the local Kafka broker and Redis server share: free ports, a child process, waiting.

Every child (Kafka, Redis, Prometheus, a worker) dies with the process that started it: it
runs in a session of its own (Ctrl-C in the terminal reaches the parent only, which stops
them in order), and asks Linux for SIGTERM when its parent dies (``PR_SET_PDEATHSIG``), so a
parent killed with SIGKILL, or closed with its terminal, leaves nothing running."""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from devtools.localstack.exceptions import LocalStackError

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
"""Loaded before any fork: the child only calls into it."""


def die_with_parent() -> None:
    """``preexec_fn`` of every child: SIGTERM when the process that started it dies (Linux;
    elsewhere, nothing). Also when it died already, between the fork and this call."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:
            os.kill(os.getpid(), signal.SIGTERM)


def start_child(argv: Sequence[str], log: Any, **options: Any) -> subprocess.Popen[bytes]:
    """A child in a session of its own, its output in ``log``, dying with this process."""
    return subprocess.Popen(  # noqa: S603 (argv is built by us)
        argv,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # only prctl runs in the child; no thread of ours forks
        **options,
    )


class FolderLock:
    """An exclusive lock on a data folder for as long as this process lives (``flock``: the
    kernel releases it when the process dies, however it dies). A second stack on the same
    folder is refused, naming the process that holds it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / ".lock"
        self._handle: Any = None

    def acquire(self) -> FolderLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise LocalStackError(
                f"a local stack already runs on {self.path.parent} (pid {holder}): stop it "
                f"(Ctrl-C in its terminal, or kill {holder}) or give another --dir"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cache_dir() -> Path:
    """Where downloaded artefacts are kept between runs (``REBOUND_CACHE_DIR``)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rebound"
    return Path(os.environ.get("REBOUND_CACHE_DIR", default))


class ChildProcess:
    """A server started as a child process, its output in a log file, stopped on demand."""

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        with self.log_path.open("ab") as log:
            self._process = start_child(argv, log, env=env)

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str) -> None:
        """Poll ``ready`` until it is true; fail if the process dies or the time runs out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise LocalStackError(
                    f"{self.name} exited with code {self._process.returncode} while starting; "
                    f"its log {self.log_path} ends with:\n{self.log_tail()}"
                )
            if ready():
                return
            time.sleep(0.2)
        self.stop()
        raise LocalStackError(
            f"{self.name} did not answer on {what} within {timeout_s:.0f}s; "
            f"its log {self.log_path} ends with:\n{self.log_tail()}"
        )

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout_s``; idempotent."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the server's process group: SIGKILL to crash it, SIGSTOP and
        SIGCONT to hang it and let it go on (the fault suite)."""
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._process.pid, sig)
        if sig == signal.SIGKILL and self._process is not None:
            self._process.wait()
            self._process = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def port_answers(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
