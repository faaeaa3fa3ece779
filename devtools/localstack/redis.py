"""A throwaway Redis server from Debian's ``redis-server``, on a free loopback port."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.process import ChildProcess, free_port


class LocalRedis:
    """``redis-server`` without persistence, in ``workdir``, on 127.0.0.1."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self._process = ChildProcess("redis-server", workdir / "redis.log")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 20.0) -> LocalRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise LocalStackError(
                "redis-server is not installed: run `apt-get install redis-server` "
                "(Debian/Ubuntu), or set REBOUND_REDIS_URL to a Redis of your own"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process.spawn(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ]
        )
        self._process.wait_until(self._answers, timeout_s, f"127.0.0.1:{self.port}")
        return self

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self._process.stop()
