"""A worker asked to stop while Redis is away stops within Kubernetes' grace period, and its
liveness stays good meanwhile: waiting for Redis is not being stuck."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from devtools.demo import COFFEE_MACHINE_LINE, DemoProducer, delivery_event, order_event
from devtools.localstack.redis import LocalRedis
from streams.edge.kafka.topics import ensure_topics
from streams.settings import Settings

GRACE_S = 60.0
"""The chart's terminationGracePeriodSeconds."""


def probe(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our worker)
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_stop_during_a_redis_outage_is_bounded_and_liveness_holds(
    fast_settings: Settings, start_worker: Any, tmp_path: Path
) -> None:
    own_redis = LocalRedis(tmp_path / "redis").start()
    try:
        settings = replace(fast_settings, redis_url=own_redis.url)
        ensure_topics(settings)
        worker = start_worker(settings)
        own_redis.stop()
        # Events keep coming: the intake waits on Redis for the batch's profiles.
        producer = DemoProducer(settings)
        now = int(time.time() * 1000)
        for i in range(50):
            producer.send(order_event(f"c{i}", "o1", now, [COFFEE_MACHINE_LINE]))
            producer.send(delivery_event(f"c{i}", "o1", now + 1))
        producer.flush()
        worker.wait_for(
            lambda: probe(f"{worker.url}/health")[1].get("redis") == "unreachable", 30, "the outage"
        )
        assert probe(f"{worker.url}/live")[0] == 200, "waiting for Redis is not being stuck"
        assert probe(f"{worker.url}/health")[0] == 503

        began = time.monotonic()
        assert worker.process is not None
        worker.process.send_signal(signal.SIGTERM)
        worker.process.wait(timeout=GRACE_S + 30)
        stopped_in = time.monotonic() - began
        assert stopped_in < GRACE_S - 10, f"stopped in {stopped_in:.0f} s"
        producer.close()
    finally:
        own_redis.stop()
