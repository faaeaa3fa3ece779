"""Bad configuration ends with a sentence naming the address and what to do, not a traceback."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from devtools.localstack.process import free_port
from streams.edge.kafka.admin import admin_client
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings
from tests.integration.cli import rebound


def run_worker(settings: Settings, **overrides: str) -> subprocess.CompletedProcess[str]:
    return rebound(settings, "worker", **overrides)


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


def test_a_wrong_value_is_refused_before_connecting_to_anything(settings: Settings) -> None:
    unreachable = f"kafka://127.0.0.1:{free_port()}"
    result = run_worker(settings, REBOUND_SECURITY_PROTOCOL="TLS", REBOUND_BROKER_URL=unreachable)
    assert result.returncode == 2
    assert "REBOUND_SECURITY_PROTOCOL='TLS' is not one of PLAINTEXT, SSL" in result.stderr
    assert "cannot reach Kafka" not in result.stderr, "refused before any connection"


def test_no_secret_is_printed_by_the_settings_or_the_worker(
    settings: Settings, start_worker: Any, tmp_path: Path
) -> None:
    """The secrets a deployment configures are not in `rebound settings`' output nor in the
    worker's log (a SASL password unused on a plaintext listener, so the worker runs)."""
    sasl, registry = "s4sl-Secret", "r3gistry-Secret"
    shown = rebound(
        settings,
        "settings",
        REBOUND_SASL_PASSWORD=sasl,
        REBOUND_SCHEMA_REGISTRY_URL=f"https://reader:{registry}@registry.example:8081",
        REBOUND_PARTITION="3",
    )
    assert shown.returncode == 0, shown.stderr
    assert sasl not in shown.stdout + shown.stderr
    assert registry not in shown.stdout + shown.stderr
    assert "REBOUND_PARTITION is not a Rebound setting" in shown.stderr

    # The worker as a cluster runs it: JSON lines, for the log collector.
    worker = start_worker(replace(settings, sasl_password=sasl, log_format="json"))
    worker.stop()
    log = worker.log_path.read_text()
    records = [json.loads(line) for line in log.splitlines() if line.strip()]
    assert records, "the worker did log"
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert sasl not in log


def test_a_worker_that_may_not_create_topics_lists_the_missing_then_runs_on_declared_ones(
    settings: Settings, start_worker: Any
) -> None:
    """Production: topics are resources. Missing ones are listed, Faust's own included; once
    every topic of the list exists, the worker runs without declaring any."""
    result = run_worker(settings, REBOUND_CREATE_TOPICS="false")
    assert result.returncode == 2
    assert "missing topics" in result.stderr
    assert f"{settings.app_id}-customers-changelog" in result.stderr
    assert f"{settings.app_id}-__assignor-__leader" in result.stderr
    assert "Traceback" not in result.stderr

    declared = set(ensure_topics(settings).created)
    start_worker(replace(settings, create_topics=False))  # waits for assigned partitions
    admin = admin_client(settings)
    try:
        names = set(admin.list_topics())
    finally:
        admin.close()
    ours = {t for t in names if t.startswith((settings.app_id, settings.topic_prefix))}
    assert ours == declared, "the worker declared no topic beyond the list"
