"""The worker's web pages: ``/metrics`` for Prometheus; ``/live``, ``/ready`` and ``/health``
for Kubernetes' probes and for people.

* ``/live`` (liveness): 503 only when the process is stuck: an answer at all means the event
  loop turns; stopping for longer than ``STUCK_STOPPING_S`` means a stop that hangs. Redis
  or Kafka away is not a reason: restarting then helps nothing and loses the local state's
  warmth (the worker waits and retries, nothing is lost).
* ``/ready`` (readiness, and the startup probe): the worker runs and its tables are
  recovered; what a rolling update of the StatefulSet waits for before the next pod.
* ``/health``: everything, Redis included; 503 when anything is wrong (for dashboards and
  people, not for a liveness probe).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.metrics import Metrics

Check = Callable[[], Awaitable[bool]]
STUCK_STOPPING_S = 60.0
"""A worker stops within 20 s (``streams.edge.faust.stop``); stopping three times that long
is a hang that only a restart ends."""


def add_pages(app: faust.App, metrics: Metrics, redis_answers: Check) -> None:
    """Register ``/metrics`` and ``/health`` on the app's web server."""

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request) -> Response:
            body = generate_latest(metrics.registry)
            return self.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    stopping = Stopping()

    @app.page("/live")
    class LivePage(View):
        async def get(self, request: Request) -> Response:
            report = live_report(app, stopping, time.monotonic())
            return self.json(report, status=200 if report["status"] == "alive" else 503)

    @app.page("/ready")
    class ReadyPage(View):
        async def get(self, request: Request) -> Response:
            report = ready_report(app)
            return self.json(report, status=200 if report["status"] == "ready" else 503)

    @app.page("/health")
    class HealthPage(View):
        async def get(self, request: Request) -> Response:
            report = await health_report(app, redis_answers)
            return self.json(report, status=200 if report["status"] == "ok" else 503)


class Stopping:
    """When the worker was first seen stopping."""

    def __init__(self) -> None:
        self.since: float | None = None


def live_report(app: Any, stopping: Stopping, now: float) -> dict[str, Any]:
    """Alive unless the worker has been stopping for longer than ``STUCK_STOPPING_S``."""
    if not app.should_stop:
        stopping.since = None
        return {"status": "alive"}
    if stopping.since is None:
        stopping.since = now
    if now - stopping.since > STUCK_STOPPING_S:
        return {"status": "stuck", "stopping_for_s": round(now - stopping.since)}
    return {"status": "alive", "stopping_for_s": round(now - stopping.since)}


def ready_report(app: Any) -> dict[str, Any]:
    """Ready once started and its tables recovered; not while stopping."""
    if app.should_stop:
        return {"status": "stopping"}
    if not app.started:
        return {"status": "starting"}
    if app.in_recovery:
        return {"status": "recovering"}
    return {"status": "ready"}


async def health_report(app: Any, redis_answers: Check) -> dict[str, Any]:
    """Redis answers and the worker runs: ok; otherwise degraded, with what is wrong."""
    redis_ok = await redis_answers()
    running = bool(app.started) and not app.should_stop
    return {
        "status": "ok" if redis_ok and running else "degraded",
        "redis": "ok" if redis_ok else "unreachable",
        "worker": "running" if running else "starting",
        "assigned_partitions": len(app.assignor.assigned_actives()) if running else 0,
    }
