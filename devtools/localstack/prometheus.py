"""A throwaway Prometheus server from Debian's ``prometheus`` package, on a free loopback port,
scraping the workers it is given: what SREs and ``rebound report --prometheus`` read."""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.process import ChildProcess, free_port


class LocalPrometheus:
    """``prometheus`` with its data in ``workdir``, scraping ``targets`` (``host:port``,
    ``/metrics``) every ``interval_s`` seconds under the job ``job``."""

    def __init__(
        self, workdir: Path, targets: list[str], interval_s: int = 1, job: str = "rebound"
    ) -> None:
        self.workdir = workdir
        self.targets = targets
        self.interval_s = interval_s
        self.job = job
        self.port = free_port()
        self._process = ChildProcess("prometheus", workdir / "prometheus.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 60.0) -> LocalPrometheus:
        binary = shutil.which("prometheus")
        if binary is None:
            raise LocalStackError(
                "prometheus is not installed: run `apt-get install prometheus` (Debian/Ubuntu)"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "prometheus.yml"
        config.write_text(
            json.dumps(  # JSON is YAML
                {
                    "global": {"scrape_interval": f"{self.interval_s}s"},
                    "scrape_configs": [
                        {"job_name": self.job, "static_configs": [{"targets": self.targets}]}
                    ],
                }
            )
        )
        self._process.spawn(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ]
        )
        self._process.wait_until(self._ready, timeout_s, self.url)
        return self

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def query(self, promql: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(address, timeout=10) as response:  # noqa: S310
            return list(json.loads(response.read())["data"]["result"])

    def scraped(self) -> bool:
        """Every target has been scraped and answered."""
        found = self.query(f'up{{job="{self.job}"}}')
        return len(found) == len(self.targets) and all(r["value"][1] == "1" for r in found)

    def stop(self) -> None:
        self._process.stop()
