"""Bad configuration ends with a sentence naming the address and what to do, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from devtools.localstack.process import free_port
from streams.settings import Settings


def run_worker(settings: Settings, **overrides: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env(), **overrides}
    return subprocess.run(
        [sys.executable, "-m", "streams", "worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unreachable_broker_names_the_address(settings: Settings) -> None:
    port = free_port()
    result = run_worker(settings, REBOUND_BROKER_URL=f"kafka://127.0.0.1:{port}")
    assert result.returncode == 2
    assert f"cannot reach Kafka at 127.0.0.1:{port} (REBOUND_BROKER_URL)" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_redis_names_the_address(settings: Settings) -> None:
    port = free_port()
    result = run_worker(settings, REBOUND_REDIS_URL=f"redis://:secret@127.0.0.1:{port}/2")
    assert result.returncode == 2
    assert f"cannot reach Redis at 127.0.0.1:{port}/2 (REBOUND_REDIS_URL)" in result.stderr
    assert "secret" not in result.stderr, "the password stays out of the message"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("REBOUND_REDIS_URL", "localhost:6379"),
        ("REBOUND_PARTITIONS", "four"),
    ],
)
def test_malformed_setting_names_the_variable(
    settings: Settings, variable: str, value: str
) -> None:
    result = run_worker(settings, **{variable: value})
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr
