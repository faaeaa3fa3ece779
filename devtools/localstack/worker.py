"""A ``rebound worker`` child process, and what it exposes: health and metrics.

Used by ``rebound local``, the integration tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.process import start_child
from streams.settings import Settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


class WorkerProcess:
    """``python -m streams worker`` with ``settings`` as its environment; log in ``log_path``."""

    def __init__(
        self,
        settings: Settings,
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.settings = settings
        self.log_path = log_path
        self.env = env or {}
        """More environment variables (e.g. a test's crash switch)."""
        self.cwd = cwd
        """Where the worker runs (e.g. outside the checkout, to run an installed package)."""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 120.0) -> WorkerProcess:
        """Spawn the worker and wait until it owns partitions."""
        env = {**os.environ, **self.settings.to_env(), **self.env}
        with self.log_path.open("ab") as log:
            self.process = start_child(
                [sys.executable, "-m", "streams", "worker"], log, env=env, cwd=self.cwd
            )
        self.wait_for(
            lambda: self.health().get("assigned_partitions", 0) > 0,
            timeout_s,
            "the worker to be assigned partitions",
        )
        return self

    @property
    def pid(self) -> int:
        if self.process is None:
            raise LocalStackError("the worker is not started")
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    def health(self) -> dict[str, Any]:
        try:
            return dict(json.loads(self._get("/health")))
        except (OSError, ValueError):
            return {}

    def probe(self, path: str) -> dict[str, Any] | None:
        """A probe's JSON report, whatever its status (a 503 says what is wrong); None when
        the worker does not answer."""
        try:
            return dict(json.loads(self._get(path)))
        except urllib.error.HTTPError as exc:
            try:
                return dict(json.loads(exc.read().decode()))
            except ValueError:
                return None
        except (OSError, ValueError):
            return None

    def metrics(self) -> Samples:
        """Every sample of ``/metrics``: (name, sorted labels) -> value."""
        samples = {}
        for family in text_string_to_metric_families(self._get("/metrics")):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return samples

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of ``name`` whose labels include ``labels`` (0 when none,
        or when the worker does not answer)."""
        try:
            samples = self.metrics()
        except OSError:
            return 0.0
        wanted = set(labels.items())
        return sum(v for (n, found), v in samples.items() if n == name and wanted <= set(found))

    def wait_for(
        self, condition: Callable[[], bool], timeout_s: float, what: str, poll_s: float = 0.25
    ) -> None:
        """Poll ``condition``; fail with the log's tail if the worker dies or time runs out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise LocalStackError(
                    f"the worker exited ({self.process.returncode}); log {self.log_path}:\n"
                    f"{self.log()}"
                )
            if condition():
                return
            time.sleep(poll_s)
        raise LocalStackError(f"timed out waiting for {what}; log {self.log_path}:\n{self.log()}")

    def wait_exit(self, timeout_s: float) -> int:
        """The exit code, once the worker has exited by itself."""
        if self.process is None:
            raise LocalStackError("the worker is not started")
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise LocalStackError(
                f"the worker did not exit within {timeout_s}s; log {self.log_path}:\n{self.log()}"
            ) from None

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> None:
        """Send ``sig`` (SIGKILL to simulate a crash) and wait; kill if it lingers."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=3) as response:  # noqa: S310
            return str(response.read().decode())
