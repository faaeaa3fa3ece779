"""The worker's web pages: ``/metrics`` for Prometheus and ``/health`` for Kubernetes probes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.web import Request, Response, View
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.metrics import Metrics

Check = Callable[[], Awaitable[bool]]


def add_pages(app: faust.App, metrics: Metrics, redis_answers: Check) -> None:
    """Register ``/metrics`` and ``/health`` on the app's web server."""

    @app.page("/metrics")
    class MetricsPage(View):
        async def get(self, request: Request) -> Response:
            body = generate_latest(metrics.registry)
            return self.bytes(body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/health")
    class HealthPage(View):
        async def get(self, request: Request) -> Response:
            report = await health_report(app, redis_answers)
            return self.json(report, status=200 if report["status"] == "ok" else 503)


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
