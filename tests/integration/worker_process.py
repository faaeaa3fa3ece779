"""A real ``rebound worker`` process for integration tests, and what it exposes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from streams.settings import Settings


class WorkerProcess:
    """``python -m streams worker`` with ``settings`` as its environment; log in ``log_path``."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.settings = settings
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 90.0) -> WorkerProcess:
        env = {**os.environ, **self.settings.to_env()}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "streams", "worker"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.wait_for(
            lambda: self.health().get("assigned_partitions", 0) > 0,
            timeout_s,
            "the worker to be assigned partitions",
        )
        return self

    def health(self) -> dict[str, Any]:
        try:
            return json.loads(self._get("/health"))
        except (OSError, ValueError):
            return {}

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of ``/metrics``: (name, sorted labels) -> value."""
        samples = {}
        for family in text_string_to_metric_families(self._get("/metrics")):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
        return samples

    def metric(self, name: str, **labels: str) -> float:
        try:
            return self.metrics().get((name, tuple(sorted(labels.items()))), 0.0)
        except OSError:
            return 0.0

    def wait_for(self, condition: Any, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{self.log()}")
            if condition():
                return
            time.sleep(0.25)
        raise AssertionError(f"timed out waiting for {what}; worker log:\n{self.log()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _get(self, path: str) -> str:
        url = f"http://127.0.0.1:{self.settings.web_port}{path}"
        with urllib.request.urlopen(url, timeout=3) as response:
            return str(response.read().decode())
