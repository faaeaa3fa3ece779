"""A throwaway Redis server from Debian's ``redis-server``, on a free loopback port."""

from __future__ import annotations

import shutil
import signal
from pathlib import Path

import redis

from devtools.localstack.certificates import Certificates
from devtools.localstack.exceptions import LocalStackError
from devtools.localstack.process import ChildProcess, free_port


class LocalRedis:
    """``redis-server`` without persistence, in ``workdir``, on 127.0.0.1; with
    ``certificates``, TLS only (``rediss://``); with ``user``, an ACL user (name, password)
    and the default user off."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        certificates: Certificates | None = None,
        user: tuple[str, str] | None = None,
        durable: bool = False,
    ) -> None:
        """``durable``: an append-only file, so that a restart finds the data again (the
        fault suite restarts Redis)."""
        self.durable = durable
        self.workdir = workdir
        self.port = port or free_port()
        self.certificates = certificates
        self.user = user
        self._process = ChildProcess("redis-server", workdir / "redis.log")

    @property
    def url(self) -> str:
        """The server's URL, with the user's credentials and the CA when it has them."""
        scheme = "rediss" if self.certificates else "redis"
        login = f"{self.user[0]}:{self.user[1]}@" if self.user else ""
        query = f"?ssl_ca_certs={self.certificates.ca}" if self.certificates else ""
        return f"{scheme}://{login}127.0.0.1:{self.port}/0{query}"

    def _security_arguments(self) -> list[str]:
        arguments: list[str] = []
        if self.certificates is not None:
            c = self.certificates
            arguments += [
                "--port", "0", "--tls-port", str(self.port),
                "--tls-cert-file", str(c.server_cert), "--tls-key-file", str(c.server_key),
                "--tls-ca-cert-file", str(c.ca), "--tls-auth-clients", "no",
            ]  # fmt: skip
        if self.user is not None:
            name, password = self.user
            arguments += ["--user", "default", "off"]
            arguments += ["--user", name, "on", f">{password}", "~*", "&*", "+@all"]
        return arguments

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
                *self._security_arguments(),
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.durable else "no",
                "--protected-mode",
                "yes",
            ]
        )
        self._process.wait_until(self._answers, timeout_s, f"127.0.0.1:{self.port}")
        return self

    def _answers(self) -> bool:
        try:
            client = redis.Redis.from_url(self.url, socket_timeout=0.5)
            return bool(client.ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        self._process.stop()

    def kill(self) -> None:
        """SIGKILL: a crash (a durable server keeps what its append-only file has)."""
        self._process.signal(signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP: the server hangs, connections stay open and get no answer."""
        self._process.signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._process.signal(signal.SIGCONT)
